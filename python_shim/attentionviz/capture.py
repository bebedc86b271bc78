"""The ``Capture`` (token table + per-head Q/K) and the functions that build one from a model.

``capture(model, tokenizer, texts)`` / ``capture_vision(model, processor, images)`` run the
model batch by batch with the recording attention of ``_recorder`` and store, per stored
layer, Q ``[n_heads, n_tokens, d_head]`` and K ``[n_kv_heads, n_tokens, d_head]`` in memory
(fp16 by default) or, with ``out=path``, straight into a ``.attnviz`` file (bounded memory).
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import _tokens
from ._batches import Batch, image_batches, text_batches
from ._recorder import _ACTIVE, Recorder, UnsupportedModelError, capture_mode
from .capture_file import FORMAT, FORMAT_VERSION, CaptureWriter, FileStore, PathLike

__all__ = ["Capture", "UnsupportedModelError", "capture", "capture_vision"]

_DTYPES = {"float16": np.float16, "float32": np.float32}
_MASKS = ("causal", "bidirectional")


def _library_version() -> str:
    from . import __version__

    return str(__version__)


def make_manifest(**fields: Any) -> dict[str, Any]:
    """A manifest dict with the format header and library version filled in."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "extra": {},
        **fields,
    }


class _ArrayStore:
    """In-memory Q ``[n_layers, n_heads, n_tokens, d_head]`` / K ``[n_layers, n_kv_heads, ...]``."""

    def __init__(self, q: np.ndarray, k: np.ndarray, tokens: pd.DataFrame, manifest: dict) -> None:
        self._q, self._k, self._tokens, self.manifest = q, k, tokens, manifest

    def q(self, layer: int) -> np.ndarray:
        return self._q[layer]

    def k(self, layer: int) -> np.ndarray:
        return self._k[layer]

    def tokens(self) -> pd.DataFrame:
        return self._tokens


class Capture:
    """What a model run produced: ``tokens`` (one row per token) and Q/K per (layer, head).

    Build with ``capture``, ``capture_vision``, ``Capture.from_arrays`` or
    ``attentionviz.load``. File-backed captures read Q/K lazily, one head at a time.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._m: dict[str, Any] = store.manifest
        self._seq_rows: dict[int, np.ndarray] | None = None

    @classmethod
    def _from_store(cls, store: Any) -> Capture:
        return cls(store)

    # --- metadata -------------------------------------------------------------------
    tokens = property(lambda self: self._store.tokens(), doc="Token table (pandas DataFrame).")
    n_layers = property(lambda self: int(self._m["n_layers"]), doc="Number of stored layers.")
    n_heads = property(lambda self: int(self._m["n_heads"]), doc="Query heads per layer.")
    n_kv_heads = property(lambda self: int(self._m["n_kv_heads"]), doc="Key heads per layer.")
    d_head = property(lambda self: int(self._m["d_head"]), doc="Dimension of one head.")
    n_tokens = property(lambda self: int(self._m["n_tokens"]), doc="Rows of the token table.")
    scale = property(lambda self: float(self._m["scale"]), doc="Score scale (Q.K * scale).")
    mask = property(lambda self: str(self._m["mask"]), doc='"causal" or "bidirectional".')
    model_name = property(lambda self: str(self._m["model_name"]))
    architecture = property(lambda self: str(self._m["architecture"]))
    dtype = property(lambda self: str(self._m["dtype"]), doc="Storage dtype of Q/K.")
    layer_ids = property(
        lambda self: list(self._m["layer_ids"]), doc="Model layer index of each stored layer."
    )
    manifest = property(lambda self: dict(self._m), doc="A copy of the file manifest.")

    def __len__(self) -> int:
        return self.n_tokens

    def __repr__(self) -> str:
        return (
            f"<Capture {self.model_name!r} ({self.architecture}): {self.n_tokens} tokens, "
            f"{self.n_layers} layers x {self.n_heads} heads, d_head={self.d_head}, "
            f"mask={self.mask}, dtype={self.dtype}>"
        )

    # --- data -----------------------------------------------------------------------
    def _check(self, layer: int, head: int) -> tuple[int, int]:
        layer, head = operator.index(layer), operator.index(head)
        if not 0 <= layer < self.n_layers:
            raise IndexError(
                f"layer {layer} out of range: this capture has {self.n_layers} layers "
                f"(valid 0..{self.n_layers - 1})"
            )
        if not 0 <= head < self.n_heads:
            raise IndexError(
                f"head {head} out of range: this capture has {self.n_heads} heads per layer "
                f"(valid 0..{self.n_heads - 1})"
            )
        return layer, head

    def qk(self, layer: int, head: int) -> tuple[np.ndarray, np.ndarray]:
        """Q and K of one head as float32 ``[n_tokens, d_head]``, rows aligned with ``tokens``.

        With grouped-query attention K is the kv head shared by ``head``.
        """
        layer, head = self._check(layer, head)
        kv = head // (self.n_heads // self.n_kv_heads)
        q = np.asarray(self._store.q(layer)[head], dtype=np.float32)
        k = np.asarray(self._store.k(layer)[kv], dtype=np.float32)
        return q, k

    def attention(self, layer: int, head: int, seq: int) -> np.ndarray:
        """``softmax(Q K^T * scale + mask)`` for sequence ``seq``: float32 ``[len, len]``.

        Rows are queries, columns keys, both in token-table order of that sequence.
        """
        layer, head = self._check(layer, head)
        if self._seq_rows is None:
            groups = self.tokens.groupby("seq", sort=False).indices
            self._seq_rows = {int(s): np.asarray(ix) for s, ix in groups.items()}
        rows = self._seq_rows.get(operator.index(seq))
        if rows is None:
            raise IndexError(f"seq {seq} is not in this capture (seq values are in tokens['seq'])")
        q, k = self.qk(layer, head)
        scores = (q[rows] @ k[rows].T) * np.float32(self.scale)
        if self.mask == "causal":
            pos = self.tokens["pos"].to_numpy()[rows]
            scores = np.where(pos[None, :] <= pos[:, None], scores, -np.inf)
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def save(self, path: PathLike) -> None:
        """Write this capture to ``path`` (a ``.attnviz`` file) atomically."""
        manifest = {**self._m, "library_version": _library_version()}
        with CaptureWriter(path, manifest, self.tokens) as w:
            for layer in range(self.n_layers):
                w.write_rows(layer, self._store.q(layer), self._store.k(layer), 0)

    # --- construction from arrays ---------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        tokens: pd.DataFrame,
        queries: np.ndarray,
        keys: np.ndarray,
        *,
        scale: float,
        mask: str,
        model_name: str = "custom",
        architecture: str = "custom",
    ) -> Capture:
        """A capture from Q ``[n_layers, n_heads, n_tokens, d_head]`` and K (same shape, or
        ``[n_layers, n_kv_heads, n_tokens, d_head]``) plus a token table with ``text`` and
        ``seq`` columns (``pos``/``pos_norm``/``raw``/``token_id``/``special`` are derived
        when missing). Raises ``ValueError`` naming what is wrong.
        """
        if not isinstance(tokens, pd.DataFrame):
            raise ValueError(f"tokens must be a pandas DataFrame, got {type(tokens).__name__}")
        missing = [c for c in ("text", "seq") if c not in tokens.columns]
        if missing:
            raise ValueError(f"tokens is missing required column(s) {missing}")
        q, k = np.asarray(queries), np.asarray(keys)
        for name, a in (("queries", q), ("keys", k)):
            if a.ndim != 4:
                raise ValueError(
                    f"{name} must be 4-D [n_layers, heads, n_tokens, d_head], got shape {a.shape}"
                )
            if not np.issubdtype(a.dtype, np.floating):
                raise ValueError(f"{name} must be floating point, got dtype {a.dtype}")
        n_layers, n_heads, n_tokens, d_head = q.shape
        if n_tokens != len(tokens):
            raise ValueError(
                f"queries have {n_tokens} token rows but tokens has {len(tokens)} rows"
            )
        if k.shape[0] != n_layers or k.shape[2:] != (n_tokens, d_head):
            raise ValueError(
                f"keys shape {k.shape} does not match queries {q.shape} "
                "(expected [n_layers, n_heads or n_kv_heads, n_tokens, d_head])"
            )
        if k.shape[1] == 0 or n_heads % k.shape[1]:
            raise ValueError(f"n_heads={n_heads} is not a multiple of the {k.shape[1]} key heads")
        for name, a in (("queries", q), ("keys", k)):
            bad = ~np.isfinite(a)
            if bad.any():
                layer, head, row, _ = (int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{name} contain NaN/inf (first at layer {layer}, head {head}, token {row})"
                )
        scale = float(scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a positive finite number, got {scale}")
        if mask not in _MASKS:
            raise ValueError(f"mask must be 'causal' or 'bidirectional', got {mask!r}")
        table = _complete_tokens(tokens)
        dtype = "float16" if q.dtype == np.float16 and k.dtype == np.float16 else "float32"
        manifest = make_manifest(
            model_name=model_name,
            architecture=architecture,
            scale=scale,
            mask=mask,
            dtype=dtype,
            n_layers=n_layers,
            n_heads=n_heads,
            n_kv_heads=int(k.shape[1]),
            d_head=d_head,
            n_tokens=n_tokens,
            n_seqs=int(table["seq"].max()) + 1 if n_tokens else 0,
            layer_ids=list(range(n_layers)),
        )
        npd = _DTYPES[dtype]
        return cls(
            _ArrayStore(q.astype(npd, copy=False), k.astype(npd, copy=False), table, manifest)
        )


def _complete_tokens(tokens: pd.DataFrame) -> pd.DataFrame:
    """Copy of a user token table with the derived standard columns filled in."""
    t = tokens.reset_index(drop=True).copy()
    t["seq"] = t["seq"].astype(np.int64)
    if "pos" not in t:
        t["pos"] = t.groupby("seq").cumcount().astype(np.int64)
    if "pos_norm" not in t:
        length = t.groupby("seq")["pos"].transform("size")
        t["pos_norm"] = (t["pos"] / (length - 1).clip(lower=1)).astype(np.float64)
    t["text"] = t["text"].astype(str)
    if "raw" not in t:
        t["raw"] = t["text"]
    if "token_id" not in t:
        t["token_id"] = np.int64(-1)
    if "special" not in t:
        t["special"] = False
    std = [c for c in _tokens.IMAGE_COLUMNS if c in t.columns]
    return t[std + [c for c in t.columns if c not in std]]


def _forward_kwargs(model: torch.nn.Module) -> dict[str, Any]:
    """Extra forward arguments: no KV cache for decoders (we only need one pass)."""
    params = inspect.signature(model.forward).parameters
    return {"use_cache": False} if "use_cache" in params else {}


def _run(
    model: torch.nn.Module,
    batches: Iterable[Batch],
    n_batches: int,
    make_tokens: Callable[[int], pd.DataFrame],
    *,
    n_seqs: int,
    layers: Sequence[int] | None,
    dtype: str,
    progress: bool,
    out: PathLike | None,
) -> Capture:
    """Run the model over ``batches``, streaming Q/K into memory or into ``out``."""
    from tqdm.auto import tqdm

    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    npd = _DTYPES[dtype]
    config = model.config.get_text_config() if hasattr(model, "config") else None
    n_model_layers = getattr(config, "num_hidden_layers", None)
    wanted = _check_layers(layers, n_model_layers)
    kinds = {"causal", "bidirectional"}
    sink: Any = None
    row, fold = 0, {}
    extra_kwargs = _forward_kwargs(model)
    bar = tqdm(total=n_batches, disable=not progress, desc="attentionviz capture", unit="batch")
    try:
        with capture_mode(model):
            device = next(model.parameters()).device
            for i, batch in enumerate(batches):
                rec = Recorder(
                    batch.valid, kinds, set(wanted) if layers is not None else None, i == 0
                )
                token = _ACTIVE.set(rec)
                try:
                    model(**{k: v.to(device) for k, v in batch.inputs.items()}, **extra_kwargs)
                finally:
                    _ACTIVE.reset(token)
                _check_calls(model, rec, n_model_layers)
                kinds = rec.kinds
                ids = wanted if layers is not None else sorted(rec.q)
                if sink is None:  # first batch: shapes, scale and mask kind are now known
                    kinds = {_decide_mask(kinds, rec)}
                    manifest, fold = _first_manifest(model, rec, ids, next(iter(kinds)), dtype)
                    tokens = make_tokens(rec.rows(ids[0])[0].shape[1] // max(batch.n_seqs, 1))
                    manifest.update(n_tokens=len(tokens), n_seqs=n_seqs)
                    sink = _Sink(manifest, tokens, out)
                n_rows = 0
                for j, layer in enumerate(ids):
                    q, k = rec.rows(layer)
                    if layer in fold:
                        q = q * fold[layer]
                    qn, kn = _to_numpy(q, npd, layer, "queries"), _to_numpy(k, npd, layer, "keys")
                    sink.write_rows(j, qn, kn, row)
                    n_rows = qn.shape[1]
                row += n_rows
                bar.update(1)
            if sink is None:
                raise ValueError("nothing to capture: no batches")
            return sink.finish()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        bar.close()


def _first_manifest(
    model: torch.nn.Module, rec: Recorder, ids: list[int], kind: str, dtype: str
) -> tuple[dict[str, Any], dict[int, float]]:
    """Manifest (without token counts) from the first batch, and per-layer Q scale folds."""
    q0, k0 = rec.rows(ids[0])
    ref = rec.scales[ids[0]]
    manifest = make_manifest(
        model_name=_model_name(model),
        architecture=type(model).__name__,
        scale=ref,
        mask=kind,
        dtype=dtype,
        n_layers=len(ids),
        n_heads=int(q0.shape[0]),
        n_kv_heads=int(k0.shape[0]),
        d_head=int(q0.shape[2]),
        layer_ids=list(ids),
    )
    # Per-layer scales differ (e.g. GPT-2 scale_attn_by_inverse_layer_idx): fold the ratio into
    # Q so that one `scale` holds for every layer and Q.K * scale is unchanged.
    fold = {i: rec.scales[i] / ref for i in ids if rec.scales[i] != ref}
    if fold:
        manifest["extra"]["q_scale_folded"] = {str(i): r for i, r in fold.items()}
    manifest["extra"]["model_type"] = getattr(model.config, "model_type", None)
    return manifest, fold


def _check_layers(layers: Sequence[int] | None, n_model_layers: int | None) -> list[int]:
    if layers is None:
        return list(range(n_model_layers or 0))
    ids = sorted({operator.index(x) for x in layers})
    if not ids:
        raise ValueError("layers is empty; pass None for all layers")
    if n_model_layers is not None and (ids[0] < 0 or ids[-1] >= n_model_layers):
        raise IndexError(
            f"layers {ids} out of range: the model has {n_model_layers} layers "
            f"(valid 0..{n_model_layers - 1})"
        )
    return ids


def _check_calls(model: torch.nn.Module, rec: Recorder, n_model_layers: int | None) -> None:
    name = type(model).__name__
    if rec.calls == 0:
        raise UnsupportedModelError(
            f"{name} ran without calling transformers' AttentionInterface, so attentionviz "
            "cannot record its queries and keys"
        )
    if n_model_layers is not None and rec.calls != n_model_layers:
        raise UnsupportedModelError(
            f"{name} made {rec.calls} attention calls for {n_model_layers} layers "
            "(cross-attention or shared layers are not supported)"
        )


def _decide_mask(kinds: set[str], rec: Recorder) -> str:
    """The mask kind; when every sequence has one token both fit: ask the attention module."""
    if len(kinds) == 1:
        return next(iter(kinds))
    return "causal" if rec.is_causal_attr else "bidirectional"


def _to_numpy(t: torch.Tensor, npd: type, layer: int, what: str) -> np.ndarray:
    with np.errstate(over="ignore"):  # overflow is reported below, by name
        a = t.to(torch.float32).cpu().numpy().astype(npd, copy=False)
    if npd is np.float16 and not np.isfinite(a).all():
        raise ValueError(
            f"{what} of layer {layer} overflow float16 (|x| > 65504); capture with dtype='float32'"
        )
    return a


def _model_name(model: torch.nn.Module) -> str:
    cfg = getattr(model, "config", None)
    return str(
        getattr(cfg, "name_or_path", "")
        or getattr(cfg, "_name_or_path", "")
        or type(model).__name__
    )


class _Sink:
    """Where batches go: preallocated arrays in memory, or a ``.attnviz`` file being written."""

    def __init__(self, manifest: dict, tokens: pd.DataFrame, out: PathLike | None) -> None:
        self.manifest, self.tokens, self.out = manifest, tokens, out
        m = manifest
        npd = _DTYPES[m["dtype"]]
        if out is None:
            self.q = np.empty((m["n_layers"], m["n_heads"], m["n_tokens"], m["d_head"]), npd)
            self.k = np.empty((m["n_layers"], m["n_kv_heads"], m["n_tokens"], m["d_head"]), npd)
            self.writer = None
        else:
            self.writer = CaptureWriter(out, manifest, tokens)

    def write_rows(self, layer: int, q: np.ndarray, k: np.ndarray, row: int) -> None:
        if self.writer is not None:
            self.writer.write_rows(layer, q, k, row)
        else:
            self.q[layer][:, row : row + q.shape[1]] = q
            self.k[layer][:, row : row + k.shape[1]] = k

    def finish(self) -> Capture:
        if self.writer is None:
            return Capture(_ArrayStore(self.q, self.k, self.tokens, self.manifest))
        self.writer.commit()
        return Capture(FileStore(self.out))  # type: ignore[arg-type]

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def capture(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    metadata: pd.DataFrame | dict[str, Sequence[Any]] | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
    dtype: str = "float16",
    layers: Sequence[int] | None = None,
    progress: bool = True,
    out: PathLike | None = None,
) -> Capture:
    """Capture Q/K of every layer and head of a text transformer over ``texts``.

    ``metadata``: one row per text (DataFrame or dict of lists), broadcast to its tokens.
    ``max_length``: truncate longer texts (otherwise a text longer than the model allows is
    an error). ``dtype``: storage dtype, "float16" or "float32". ``layers``: model layer
    indices to keep (stored layer ``i`` is model layer ``cap.layer_ids[i]``). ``out``: write
    a ``.attnviz`` file batch by batch instead of holding Q/K in memory.
    """
    texts = _check_texts(texts)
    meta = _tokens.normalize_metadata(metadata, len(texts))
    ids, batches, n_batches = text_batches(model, tokenizer, texts, batch_size, max_length)
    return _run(
        model,
        batches,
        n_batches,
        lambda _: _tokens.text_token_table(ids, tokenizer, meta),
        n_seqs=len(texts),
        layers=layers,
        dtype=dtype,
        progress=progress,
        out=out,
    )


def capture_vision(
    model: torch.nn.Module,
    processor: Any,
    images: Sequence[Any],
    *,
    metadata: pd.DataFrame | dict[str, Sequence[Any]] | None = None,
    batch_size: int = 16,
    dtype: str = "float16",
    layers: Sequence[int] | None = None,
    progress: bool = True,
    out: PathLike | None = None,
) -> Capture:
    """Capture Q/K of a vision transformer (ViT-style: prefix tokens then a patch grid).

    Tokens are ``[CLS]`` (``patch_row = patch_col = -1``) then patches in row-major order.
    """
    images = list(images)
    if not images:
        raise ValueError("images is empty; pass at least one image")
    meta = _tokens.normalize_metadata(metadata, len(images))
    grid, batches, n_batches = image_batches(model, processor, images, batch_size)

    def make_tokens(seq_len: int) -> pd.DataFrame:
        n_prefix = seq_len - grid[0] * grid[1]
        if n_prefix < 0:
            raise UnsupportedModelError(
                f"{type(model).__name__}: {seq_len} tokens per image for a {grid[0]}x{grid[1]} "
                "patch grid; not a ViT-style token layout"
            )
        return _tokens.image_token_table(len(images), n_prefix, grid, meta)

    return _run(
        model,
        batches,
        n_batches,
        make_tokens,
        n_seqs=len(images),
        layers=layers,
        dtype=dtype,
        progress=progress,
        out=out,
    )


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, got a single string; wrap it: [text]")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty; pass at least one text")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValueError(f"texts[{i}] is {type(t).__name__}, not str")
        if not t.strip():
            raise ValueError(f"texts[{i}] is empty (or only whitespace); remove it")
    return texts
