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
) -> ArrayStore | FileStore:
    """Run the model over ``batches``, streaming Q/K into memory or into ``out``; returns
    the store of the finished capture (arrays in memory, or the written file). ``images``:
    PNG bytes per sequence kept with the capture (vision)."""
    from tqdm.auto import tqdm

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    npd = DTYPES[dtype]
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
                token = ACTIVE.set(rec)
                try:
                    model(**{k: v.to(device) for k, v in batch.inputs.items()}, **extra_kwargs)
                finally:
                    ACTIVE.reset(token)
                _check_calls(model, rec, n_model_layers)
                kinds = rec.kinds
                ids = wanted if layers is not None else sorted(rec.q)
                if sink is None:  # first batch: shapes, scale and mask kind are now known
                    kinds = {_decide_mask(kinds, rec)}
                    manifest, fold = _first_manifest(model, rec, ids, next(iter(kinds)), dtype)
                    tokens = make_tokens(rec.rows(ids[0])[0].shape[1] // max(batch.n_seqs, 1))
                    manifest.update(n_tokens=len(tokens), n_seqs=n_seqs)
                    if images:
                        manifest["extra"]["n_images"] = len(images)
                    manifest["extra"]["value_norms"] = True
                    sink = _Sink(manifest, tokens, out, images)
                n_rows = int(rec.rows(ids[0])[0].shape[1])
                if row + n_rows > sink.manifest["n_tokens"]:
                    raise RuntimeError(
                        f"the model produced more token rows than the token table has "
                        f"({sink.manifest['n_tokens']})"
                    )
                for j, layer in enumerate(ids):
                    q, k = rec.rows(layer)
                    if layer in fold:
                        q = q * fold[layer]
                    qn, kn = _to_numpy(q, npd, layer, "queries"), _to_numpy(k, npd, layer, "keys")
                    sink.write_rows(j, qn, kn, row)
                    norms = rec.value_norms(layer, int(q.shape[0])).cpu().numpy()
                    sink.write_value_norms(j, norms, row)
                row += n_rows
                bar.update(1)
            if sink is None:
                raise ValueError("nothing to capture: no batches")
            if row != sink.manifest["n_tokens"]:  # the model saw other tokens than the table
                raise RuntimeError(
                    f"the model produced {row} token rows, the token table has "
                    f"{sink.manifest['n_tokens']}"
                )
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
    wide = t.to(torch.float32)
    if npd is not np.float16:
        return wide.cpu().numpy()
    # Rounded by torch: the same round-to-nearest-even as numpy's astype, ~4x faster here.
    half = wide.to(torch.float16)
    if not torch.isfinite(half).all():
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
            self.q = np.empty((m["n_layers"], m["n_heads"], m["n_tokens"], m["d_head"]), npd)
            self.k = np.empty((m["n_layers"], m["n_kv_heads"], m["n_tokens"], m["d_head"]), npd)
            self.vnorm = np.empty((m["n_layers"], m["n_heads"], m["n_tokens"]), np.float32)
            self.writer = None
        else:
            self.writer = CaptureWriter(out, manifest, tokens, self.images)

    def write_rows(self, layer: int, q: np.ndarray, k: np.ndarray, row: int) -> None:
        if self.writer is not None:
            self.writer.write_rows(layer, q, k, row)
        else:
            self.q[layer][:, row : row + q.shape[1]] = q
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
