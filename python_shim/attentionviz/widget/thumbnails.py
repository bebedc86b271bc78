"""PCA thumbnails of many heads computed in the kernel (the ``thumbnails`` request).

The matrix view of a large model (hundreds of heads) would otherwise fetch every head's
Q/K sample and run a PCA per head on the page's one thread before the first picture. Here
the kernel projects each head's first ``rows`` tokens onto its two principal axes and
sends only the 2D coordinates: ``4 * rows`` float32 per head (queries first, then keys),
a few kilobytes where the Q/K sample is hundreds.

Same points as the browser's PCA (``src/layout/pca.ts``): the optionally normalized joint
Q/K rows (``normalize_qk``, the port of ``src/compute/normalize.ts``), centred, projected
on the top two eigenvectors of their covariance, each eigenvector's largest-magnitude
component made positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..core.capture import Capture
from .kernel_layout import normalize_qk

__all__ = ["MAX_THUMBNAIL_HEADS", "head_pca", "thumbnail_reply"]

#: Heads one request may ask for (a 1,024-head model in a few requests).
MAX_THUMBNAIL_HEADS = 256


def head_pca(queries: np.ndarray, keys: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """The joint 2D PCA of one head, float32 ``[2 n_tokens, 2]`` (queries first)."""
    q, k = normalize_qk(queries, keys, translate=normalize, scale=normalize)
    joint = np.concatenate([q, k]).astype(np.float64)
    if joint.shape[0] == 0:
        return np.zeros((0, 2), np.float32)
    centred = joint - joint.mean(axis=0)
    covariance = centred.T @ centred / max(1, joint.shape[0] - 1)
    values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, np.argsort(values)[::-1][:2]]
    if top.shape[1] < 2:  # d_head 1: a second axis of zeros
        top = np.pad(top, ((0, 0), (0, 2 - top.shape[1])))
    largest = top[np.argmax(np.abs(top), axis=0), np.arange(2)]
    top = top * np.where(largest < 0, -1.0, 1.0)
    return (centred @ top).astype(np.float32)


def _heads(value: Any, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ValueError("thumbnails needs 'heads': a non-empty list of [layer, head] pairs")
    if len(value) > MAX_THUMBNAIL_HEADS:
        raise ValueError(
            f"thumbnails: at most {MAX_THUMBNAIL_HEADS} heads per request, got {len(value)}"
        )
    heads = []
    for pair in value:
        ok = isinstance(pair, Sequence) and len(pair) == 2
        ok = ok and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
        if not ok or not (0 <= pair[0] < n_layers and 0 <= pair[1] < n_heads):
            raise ValueError(
                f"thumbnails: head {pair!r} is not a [layer, head] of this capture "
                f"({n_layers} layers x {n_heads} heads)"
            )
        heads.append((pair[0], pair[1]))
    return heads


def thumbnail_reply(capture: Capture, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The ``thumbnails`` reply: ``{heads, n_tokens}`` and one buffer of every head's
    float32 ``[2 n_tokens, 2]`` PCA, in the order asked, little-endian."""
    heads = _heads(request.get("heads"), capture.n_layers, capture.n_heads)
    rows = request.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 1):
        raise ValueError(f"thumbnails: rows must be a positive integer, got {rows!r}")
    n_tokens = min(rows or capture.n_tokens, capture.n_tokens)
    normalize = request.get("normalize", True) is not False
    out = np.empty((len(heads), 2 * n_tokens, 2), dtype="<f4")
    # One BLAS/LAPACK thread: a 64 x 64 eigh took 95 ms with the default thread pool on a
    # loaded 2-core machine (threads waking and spinning) and 1 ms with one.
    with threadpool_limits(limits=1):
        for i, (layer, head) in enumerate(heads):
            queries, keys = capture.qk(layer, head, rows=n_tokens)
            out[i] = head_pca(queries, keys, normalize=normalize)
    return {"heads": [list(pair) for pair in heads], "n_tokens": n_tokens}, [out.tobytes()]
