"""Running a model over batches and streaming Q/K into memory or a ``.attnviz`` file.

``run`` is the loop shared by ``capture`` and ``capture_vision``: it switches the model to
the recording attention (``recorder.capture_mode``), runs each batch, checks what was
recorded and writes per stored layer Q ``[n_heads, n_rows, d_head]`` / K
``[n_kv_heads, n_rows, d_head]`` rows into a sink; it returns a store for ``Capture``.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..core.attnviz_file import CaptureWriter, PathLike
from ..core.capture import make_manifest
from ..core.errors import UnsupportedModelError
from ..core.file_store import FileStore
from ..core.store import DTYPES, ArrayStore
from .batches import Batch
from .recorder import ACTIVE, Recorder, capture_mode


def _forward_kwargs(model: torch.nn.Module) -> dict[str, Any]:
    """Extra forward arguments: no KV cache for decoders (we only need one pass)."""
    params = inspect.signature(model.forward).parameters
    return {"use_cache": False} if "use_cache" in params else {}


CHECKS = ("first", "all", "none")


def run(
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
    images: Sequence[bytes] | None = None,
    heads: Sequence[int] | None = None,
    check: str = "first",
) -> ArrayStore | FileStore:
    """Run the model over ``batches``, streaming Q/K into memory or into ``out``; returns
    the store of the finished capture (arrays in memory, or the written file). ``images``:
    PNG bytes per sequence kept with the capture (vision). ``heads``: model head indices
    kept in every stored layer (None: all). ``check``: which batches are checked against
    the model's own attention weights ("first", "all" or "none")."""
    from tqdm.auto import tqdm

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    if check not in CHECKS:
        raise ValueError(f"check must be one of {CHECKS}, got {check!r}")
    config = model.config.get_text_config() if hasattr(model, "config") else None
    n_model_layers = getattr(config, "num_hidden_layers", None)
    wanted = _check_layers(layers, n_model_layers)
    state = _RunState(model, wanted if layers is not None else None, heads, dtype, n_seqs)
    extra_kwargs = _forward_kwargs(model)
    bar = tqdm(total=n_batches, disable=not progress, desc="attentionviz capture", unit="batch")
    try:
        with capture_mode(model) as delegate:
            device = next(model.parameters()).device
            for i, batch in enumerate(batches):
                verify = check == "all" or (check == "first" and i == 0)
                rec = state.recorder(batch, verify, delegate)
                token = ACTIVE.set(rec)
                try:
                    model(**{k: v.to(device) for k, v in batch.inputs.items()}, **extra_kwargs)
                finally:
                    ACTIVE.reset(token)
                _check_calls(model, rec, n_model_layers)
                state.store(rec, batch, make_tokens, out, images)
                bar.update(1)
            return state.finish()
    except BaseException:
        state.abort()
        raise
    finally:
        bar.close()


class _RunState:
    """What carries over between batches: mask kinds, the sink, rows written so far."""

    def __init__(
        self,
        model: torch.nn.Module,
        wanted: list[int] | None,
        heads: Sequence[int] | None,
        dtype: str,
        n_seqs: int,
    ) -> None:
        self.model, self.wanted, self.heads, self.dtype = model, wanted, heads, dtype
        self.npd = DTYPES[dtype]
        self.n_seqs = n_seqs
        self.kinds = {"causal", "bidirectional"}
        self.sink: _Sink | None = None
        self.fold: dict[int, float] = {}
        self.ids: list[int] = []
        self.row = self.qrow = 0

    def recorder(self, batch: Batch, verify: bool, delegate: Callable[..., Any] | None) -> Recorder:
        wanted = set(self.wanted) if self.wanted is not None else None
        return Recorder(
            batch.valid, self.kinds, wanted, verify,
            queries=batch.queries, heads=self.heads, delegate=delegate,
        )  # fmt: skip

    def store(
        self,
        rec: Recorder,
        batch: Batch,
        make_tokens: Callable[[int], pd.DataFrame],
        out: PathLike | None,
        images: Sequence[bytes] | None,
    ) -> None:
        """Write one batch's recorded rows (the first batch also fixes the manifest)."""
        self.kinds = rec.kinds
        if self.sink is None:  # first batch: shapes, scale and mask kind are now known
            self.ids = self.wanted if self.wanted is not None else sorted(rec.q)
            self.kinds = {_decide_mask(self.kinds, rec)}
            manifest, self.fold = _first_manifest(
                self.model, rec, self.ids, next(iter(self.kinds)), self.dtype
            )
            tokens = make_tokens(rec.rows(self.ids[0])[1].shape[1] // max(batch.n_seqs, 1))
            n_query_rows = int(tokens["has_query"].sum()) if "has_query" in tokens else None
            manifest.update(n_tokens=len(tokens), n_seqs=self.n_seqs)
            if n_query_rows is not None:
                manifest["n_query_rows"] = n_query_rows
            if self.heads is not None:
                manifest["extra"]["head_ids"] = [int(h) for h in self.heads]
            if images:
                manifest["extra"]["n_images"] = len(images)
            manifest["extra"]["value_norms"] = True
            self.sink = _Sink(manifest, tokens, out, images)
        m = self.sink.manifest
        q0, k0 = rec.rows(self.ids[0])
        n_q, n_k = int(q0.shape[1]), int(k0.shape[1])
        if self.row + n_k > m["n_tokens"] or self.qrow + n_q > m.get("n_query_rows", m["n_tokens"]):
            raise RuntimeError(
                f"the model produced more token rows than the token table has ({m['n_tokens']})"
            )
        for j, layer in enumerate(self.ids):
            q, k = rec.rows(layer)
            if layer in self.fold:
                q = q * self.fold[layer]
            name = rec.names.get(layer, "")
            qn = _to_numpy(q, self.npd, layer, "queries", name)
            kn = _to_numpy(k, self.npd, layer, "keys", name)
            self.sink.write_rows(j, qn, kn, self.row, self.qrow)
            norms = rec.value_norms(layer, int(q.shape[0])).cpu().numpy()
            self.sink.write_value_norms(j, norms, self.row)
        self.row, self.qrow = self.row + n_k, self.qrow + n_q

    def finish(self) -> ArrayStore | FileStore:
        if self.sink is None:
            raise ValueError("nothing to capture: no batches")
        if self.row != self.sink.manifest["n_tokens"]:  # the model saw other tokens
            raise RuntimeError(
                f"the model produced {self.row} token rows, the token table has "
                f"{self.sink.manifest['n_tokens']}"
            )
        return self.sink.finish()

    def abort(self) -> None:
        if self.sink is not None:
            self.sink.abort()


def _first_manifest(
    model: torch.nn.Module, rec: Recorder, ids: list[int], kind: str, dtype: str
) -> tuple[dict[str, Any], dict[int, float]]:
    """Manifest (without token counts) from the first batch, and per-layer Q scale folds."""
    q0, k0 = rec.rows(ids[0])
    ref = rec.scales[ids[0]]
    manifest = make_manifest(
        model_name=model_name(model),
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
    windows = {str(j): rec.windows[i] for j, i in enumerate(ids) if i in rec.windows}
    if windows:  # stored layer -> keys a query sees (causal within the window)
        manifest["extra"]["sliding_window"] = windows
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


def _to_numpy(t: torch.Tensor, npd: type, layer: int, what: str, name: str = "") -> np.ndarray:
    wide = t.to(torch.float32)
    # One reduction finds NaN/inf (amax propagates NaN) and fp16 overflow: isfinite().all()
    # per layer took ~25% of a MiniLM capture (cProfile).
    top = float(wide.abs().amax()) if wide.numel() else 0.0
    if not np.isfinite(top):
        raise ValueError(
            f"the model produced NaN/inf {what} in layer {layer} ({name}); its output is "
            "not usable (check the weights and inputs, or try float32)"
        )
    if npd is not np.float16:
        return wide.cpu().numpy()
    # Rounded by torch: the same round-to-nearest-even as numpy's astype, ~4x faster here.
    half = wide.to(torch.float16)
    if top > 65504:
        raise ValueError(
            f"{what} of layer {layer} overflow float16 (|x| > 65504); capture with dtype='float32'"
        )
    return half.cpu().numpy()


def model_name(model: torch.nn.Module) -> str:
    cfg = getattr(model, "config", None)
    return str(
        getattr(cfg, "name_or_path", "")
        or getattr(cfg, "_name_or_path", "")
        or type(model).__name__
    )


class _Sink:
    """Where batches go: preallocated arrays in memory, or a ``.attnviz`` file being written."""

    def __init__(
        self,
        manifest: dict,
        tokens: pd.DataFrame,
        out: PathLike | None,
        images: Sequence[bytes] | None = None,
    ) -> None:
        self.manifest, self.tokens, self.out = manifest, tokens, out
        self.images = list(images or [])
        m = manifest
        npd = DTYPES[m["dtype"]]
        if out is None:
            n_q = m.get("n_query_rows", m["n_tokens"])
            self.q = np.empty((m["n_layers"], m["n_heads"], n_q, m["d_head"]), npd)
            self.k = np.empty((m["n_layers"], m["n_kv_heads"], m["n_tokens"], m["d_head"]), npd)
            self.vnorm = np.empty((m["n_layers"], m["n_heads"], m["n_tokens"]), np.float32)
            self.writer = None
        else:
            self.writer = CaptureWriter(out, manifest, tokens, self.images)

    def write_rows(self, layer: int, q: np.ndarray, k: np.ndarray, row: int, qrow: int) -> None:
        if self.writer is not None:
            self.writer.write_rows(layer, q, k, row, q_row=qrow)
        else:
            self.q[layer][:, qrow : qrow + q.shape[1]] = q
            self.k[layer][:, row : row + k.shape[1]] = k

    def write_value_norms(self, layer: int, norms: np.ndarray, row: int) -> None:
        if self.writer is not None:
            self.writer.write_value_norms(layer, norms, row)
        else:
            self.vnorm[layer][:, row : row + norms.shape[1]] = norms

    def finish(self) -> ArrayStore | FileStore:
        if self.writer is None:
            return ArrayStore(self.q, self.k, self.tokens, self.manifest, self.images, self.vnorm)
        self.writer.commit()
        return FileStore(self.out)  # type: ignore[arg-type]

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
