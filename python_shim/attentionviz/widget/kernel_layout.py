"""Joint Q/K layouts computed in the kernel (umap-learn / openTSNE), for captures too big
for the browser.

Used by ``AttentionViz(cap, layout_backend="kernel")``: UMAP and t-SNE layouts of the shown
head are computed here and sent to the view as little-endian float32 ``[2 n_tokens, dims]``
(queries first, then keys), the same shape the browser's ``jointLayout`` produces. PCA
stays in the browser (it is instant there). Needs the optional extra
``pip install "attentionviz[kernel-layout]"``.

``normalize_qk`` is a line-for-line port of ``src/compute/normalize.ts`` (paper sec. 4), so
both sides lay out exactly the same points.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METHODS", "joint_layout", "layout_bytes", "normalize_qk"]

#: Methods the kernel computes (PCA is always done in the browser).
METHODS = ("umap", "tsne")


def normalize_qk(
    queries: np.ndarray, keys: np.ndarray, *, translate: bool = True, scale: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Normalized float32 copies of Q and K ``[n_tokens, d_head]`` (inputs unchanged).

    ``translate``: add ``mean(Q) - mean(K)`` to every key (softmax over keys is invariant to a
    shared shift). ``scale``: multiply Q by ``c`` and divide K by ``c`` with
    ``c = sqrt(mean|k| / mean|q|)`` so mean norms match (every q.k unchanged); skipped for an
    all-zero head. Same arithmetic as the browser (float64 means and norms).
    """
    q = np.array(queries, dtype=np.float32)
    k = np.array(keys, dtype=np.float32)
    if q.ndim != 2 or q.shape != k.shape:
        raise ValueError(f"queries {q.shape} and keys {k.shape} must both be [n_tokens, d_head]")
    n = q.shape[0]
    if translate and n:
        shift = q.astype(np.float64).mean(axis=0) - k.astype(np.float64).mean(axis=0)
        k = (k.astype(np.float64) + shift).astype(np.float32)
    if scale and n:
        q_norm = float(np.linalg.norm(q.astype(np.float64), axis=1).mean())
        k_norm = float(np.linalg.norm(k.astype(np.float64), axis=1).mean())
        if q_norm > 0 and k_norm > 0:
            c = np.sqrt(k_norm / q_norm)  # float64, like the browser: one rounding per value
            q = (q.astype(np.float64) * c).astype(np.float32)
            k = (k.astype(np.float64) / c).astype(np.float32)
    return q, k


def _check_method(method: str, dims: int) -> None:
    if method not in METHODS:
        raise ValueError(
            f"kernel layouts are {', '.join(METHODS)}; got {method!r} (PCA runs in the browser)"
        )
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims!r}")


def _umap(data: np.ndarray, dims: int, seed: int, progress: bool) -> np.ndarray:
    try:
        import umap
    except ImportError as error:
        raise ImportError(
            'layout_backend="kernel" with UMAP needs umap-learn: '
            'pip install "attentionviz[kernel-layout]"'
        ) from error
    n = data.shape[0]
    reducer = umap.UMAP(
        n_components=dims,
        n_neighbors=min(15, max(2, n - 1)),
        min_dist=0.1,
        random_state=seed,
        n_jobs=1,  # reproducible for a seed (umap-learn ignores parallelism then)
        init="spectral" if n > dims + 1 else "random",
        tqdm_kwds={"disable": not progress, "desc": "attentionviz UMAP (kernel)"},
        verbose=progress,
    )
    return np.asarray(reducer.fit_transform(data), dtype=np.float32)


def _tsne(data: np.ndarray, dims: int, seed: int, progress: bool) -> np.ndarray:
    try:
        from openTSNE import TSNE
    except ImportError as error:
        raise ImportError(
            'layout_backend="kernel" with t-SNE needs openTSNE: '
            'pip install "attentionviz[kernel-layout]"'
        ) from error
    n = data.shape[0]
    perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
    # FFT-interpolated gradients pay off for large 2D sets only (and are 2D only);
    # Barnes-Hut is faster below ~10k points and does 3D.
    tsne = TSNE(
        n_components=dims,
        perplexity=perplexity,
        random_state=seed,
        n_jobs=1,
        negative_gradient_method="fft" if dims == 2 and n > 10_000 else "bh",
        # exact neighbours are quick at this size and skip pynndescent's JIT compilation
        neighbors="exact" if n <= 8000 else "auto",
        verbose=progress,
    )
    return np.asarray(tsne.fit(data), dtype=np.float32)


def joint_layout(
    queries: np.ndarray,
    keys: np.ndarray,
    method: str = "umap",
    *,
    dims: int = 2,
    normalize: bool = True,
    seed: int = 42,
    progress: bool = True,
) -> np.ndarray:
    """Positions of the ``2 n`` points of one head, float32 ``[2 n_tokens, dims]``: rows
    ``0..n-1`` are the queries, ``n..2n-1`` the keys, after ``normalize_qk`` when
    ``normalize``. ``method``: ``"umap"`` (umap-learn) or ``"tsne"`` (openTSNE)."""
    _check_method(method, dims)
    q, k = normalize_qk(queries, keys, translate=normalize, scale=normalize)
    data = np.concatenate([q, k], axis=0)
    if not np.isfinite(data).all():
        raise ValueError("queries/keys contain NaN or inf; cannot lay them out")
    if data.shape[0] < 4:
        raise ValueError(f"a layout needs at least 2 tokens, got {q.shape[0]}")
    fit = _umap if method == "umap" else _tsne
    return fit(data, dims, seed, progress)


def layout_bytes(positions: np.ndarray) -> bytes:
    """Positions as they cross the wire: little-endian float32, row-major."""
    return np.ascontiguousarray(positions, dtype="<f4").tobytes()
