"""``from_transformer_lens(model, texts)``: a capture from a TransformerLens
``TransformerBridge`` (TransformerLens >= 4, which replaced ``HookedTransformer`` by it).

Q/K are read where the attention multiplies them: ``hook_rot_q`` / ``hook_rot_k`` (after
rotary) when the bridge fires them, else the queries and keys the rotary of a native
(``boot_native``) model returns, else ``hook_q`` / ``hook_k``. Grouped-query keys stay one
per key head (the capture maps query heads onto them). Every text is checked: attention
recomputed from the captured Q/K, scale and mask must equal the bridge's own
``hook_pattern``; a model that computes attention differently (soft-capping, ALiBi, local
windows...) is refused with ``UnsupportedModelError`` instead of shown wrongly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...core import tokens as token_table
from ...core.capture import Capture
from ...core.errors import UnsupportedModelError
from ..capture import _check_texts
from . import require

__all__ = ["from_transformer_lens"]

_HOOKS = ("hook_q", "hook_k", "hook_rot_q", "hook_rot_k", "hook_pattern")


def from_transformer_lens(
    model: Any,
    texts: Sequence[str],
    *,
    metadata: pd.DataFrame | dict[str, Sequence[Any]] | None = None,
    prepend_bos: bool | None = None,
    dtype: str = "float16",
    progress: bool = True,
) -> Capture:
    """Capture Q/K of every layer and head of a TransformerLens ``TransformerBridge``.

    Each text runs alone (no padding) through ``model.run_with_cache``; ``prepend_bos``
    is passed to ``model.to_tokens`` (None: the bridge's default). ``metadata``: one row
    per text. ``dtype``: storage dtype, "float16" or "float32". Raises
    ``UnsupportedModelError`` when the recomputed attention differs from ``hook_pattern``.
    """
    require("transformer_lens", "transformer-lens")
    from tqdm.auto import tqdm

    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    _check_bridge(model)
    texts = _check_texts(texts)
    meta = token_table.normalize_metadata(metadata, len(texts))
    cfg = model.cfg
    mask = _mask_kind(cfg)
    scales = [_layer_scale(model, i) for i in range(cfg.n_layers)]
    qs: list[np.ndarray] = []  # per text: [n_layers, n_heads, n, d_head]
    ks: list[np.ndarray] = []
    ids: list[list[int]] = []
    for text in tqdm(texts, disable=not progress, desc="attentionviz capture", unit="text"):
        tokens = model.to_tokens(text, prepend_bos=prepend_bos)
        q, k = _run_one(model, tokens, scales, mask)
        qs.append(q)
        ks.append(k)
        ids.append([int(t) for t in tokens[0].tolist()])
    ref = scales[0]
    q_all = np.concatenate(qs, axis=2)
    # One scale for the capture: a layer with another scale has the ratio folded into Q.
    for i, s in enumerate(scales):
        if s != ref:
            q_all[i] *= s / ref
    k_all = np.concatenate(ks, axis=2)
    if dtype == "float16":
        q_all, k_all = _half(q_all, "queries"), _half(k_all, "keys")
    table = token_table.text_token_table(ids, model.tokenizer, meta)
    return Capture.from_arrays(
        table,
        q_all,
        k_all,
        scale=ref,
        mask=mask,
        model_name=str(getattr(cfg, "model_name", "") or "transformer_lens"),
        architecture=f"TransformerBridge[{getattr(cfg, 'architecture', '?')}]",
    )


def _check_bridge(model: Any) -> None:
    if not (hasattr(model, "run_with_cache") and hasattr(model, "cfg")):
        raise TypeError(
            f"from_transformer_lens needs a TransformerLens TransformerBridge, got "
            f"{type(model).__name__}"
        )
    if getattr(model, "tokenizer", None) is None:
        raise ValueError("the TransformerBridge has no tokenizer; pass one when booting it")
    cap = float(getattr(model.cfg, "attn_scores_soft_cap", -1.0) or -1.0)
    if cap > 0:
        raise UnsupportedModelError(
            f"attention scores are soft-capped (attn_scores_soft_cap={cap}); "
            "softmax(Q.K * scale) would not reproduce the model's attention"
        )
    if getattr(model.cfg, "positional_embedding_type", "") == "alibi":
        raise UnsupportedModelError("ALiBi adds a bias to the scores that Q.K cannot show")


def _mask_kind(cfg: Any) -> str:
    direction = getattr(cfg, "attention_dir", "causal")
    if direction not in ("causal", "bidirectional"):
        raise UnsupportedModelError(
            f"attention_dir={direction!r} is neither causal nor bidirectional"
        )
    return str(direction)


def _inner(model: Any, layer: int) -> Any:
    attn = model.blocks[layer].attn
    return getattr(attn, "_original_component", attn)


def _layer_scale(model: Any, layer: int) -> float:
    """The factor scores are multiplied by: HF modules keep it as ``scaling``, the native
    model divides by ``scale``; else the config (``attn_scale``, default sqrt(d_head))."""
    inner = _inner(model, layer)
    scaling = getattr(inner, "scaling", None)
    if isinstance(scaling, (int, float)) and scaling > 0:
        return float(scaling)
    divisor = getattr(inner, "scale", None)
    if isinstance(divisor, (int, float)) and divisor > 0:
        return 1.0 / float(divisor)
    cfg = model.cfg
    if not getattr(cfg, "use_attn_scale", True):
        return 1.0
    attn_scale = float(getattr(cfg, "attn_scale", -1.0))
    return 1.0 / (attn_scale if attn_scale > 0 else math.sqrt(cfg.d_head))


@contextmanager
def _rope_outputs(
    model: Any, store: dict[int, tuple[torch.Tensor, torch.Tensor]]
) -> Iterator[None]:
    """Record what a native model's rotary returns (``apply_rope``: the Q/K its attention
    multiplies next); the bridge fires no hook there. One rotary may serve every layer: a
    pre-hook on each attention module tells it which layer is calling. Restored on exit."""
    current = [-1]
    handles, rotaries = [], {}
    for layer in range(model.cfg.n_layers):
        inner = _inner(model, layer)
        rotary = getattr(inner, "rotary", None)
        if getattr(rotary, "apply_rope", None) is None:
            continue
        rotaries[id(rotary)] = rotary

        def enter(_module: Any, _args: Any, _i: int = layer) -> None:
            current[0] = _i

        handles.append(inner.register_forward_pre_hook(enter))
    for rotary in rotaries.values():
        apply = rotary.apply_rope

        def recording(q: torch.Tensor, k: torch.Tensor, *a: Any, _f: Any = apply, **kw: Any):
            out = _f(q, k, *a, **kw)
            store[current[0]] = (out[0].detach(), out[1].detach())  # [batch, heads, seq, d]
            return out

        rotary.apply_rope = recording
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
        for rotary in rotaries.values():
            del rotary.apply_rope  # back to the class method


def _run_one(
    model: Any, tokens: torch.Tensor, scales: list[float], mask: str
) -> tuple[np.ndarray, np.ndarray]:
    """Q ``[n_layers, n_heads, n, d]`` / K ``[n_layers, n_kv_heads, n, d]`` of one text,
    checked against the bridge's ``hook_pattern``."""
    rope: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    with ExitStack() as stack, torch.no_grad():
        stack.enter_context(_rope_outputs(model, rope))
        _, cache = model.run_with_cache(tokens, names_filter=lambda n: n.endswith(_HOOKS))
    q_layers, k_layers = [], []
    for layer in range(model.cfg.n_layers):
        q, k = _layer_qk(cache, rope, layer)
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"][0]
        exact = pattern.dtype == torch.float32
        _check_pattern(q, k, pattern.to(torch.float32), scales[layer], mask, layer, exact)
        q_layers.append(q.numpy())
        k_layers.append(k.numpy())
    return np.stack(q_layers), np.stack(k_layers)


def _layer_qk(cache: Any, rope: dict, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[heads, n, d] float32 Q and K of one layer, from the best source available."""
    name = f"blocks.{layer}.attn."
    if name + "hook_rot_q" in cache and name + "hook_rot_k" in cache:
        q, k = cache[name + "hook_rot_q"][0], cache[name + "hook_rot_k"][0]
        q, k = q.transpose(0, 1), k.transpose(0, 1)  # [n, heads, d] -> [heads, n, d]
    elif layer in rope:
        q, k = rope[layer][0][0], rope[layer][1][0]
    elif name + "hook_q" in cache and name + "hook_k" in cache:
        q, k = cache[name + "hook_q"][0].transpose(0, 1), cache[name + "hook_k"][0].transpose(0, 1)
    else:
        raise UnsupportedModelError(f"layer {layer} fired neither hook_rot_q/k nor hook_q/k")
    return q.to(torch.float32).contiguous(), k.to(torch.float32).contiguous()


def _check_pattern(
    q: torch.Tensor,
    k: torch.Tensor,
    pattern: torch.Tensor,
    scale: float,
    mask: str,
    layer: int,
    exact: bool,
) -> None:
    n_heads, n_kv = q.shape[0], k.shape[0]
    if n_kv == 0 or n_heads % n_kv:
        raise UnsupportedModelError(f"layer {layer}: {n_heads} query heads, {n_kv} key heads")
    k_full = k.repeat_interleave(n_heads // n_kv, dim=0)  # query head h uses key head h // g
    scores = q @ k_full.transpose(-1, -2) * scale
    if mask == "causal":
        n = q.shape[1]
        future = torch.ones(n, n, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    mine = torch.softmax(scores, dim=-1)
    diff = float((mine - pattern).abs().max())
    # fp32 models match to ~1e-6; half-precision ones keep ~3 decimal digits.
    tol = 1e-4 if exact else 1e-2
    if not diff <= tol:
        raise UnsupportedModelError(
            f"layer {layer}: attention recomputed from hook Q/K (scale {scale:.6g}, {mask} "
            f"mask) differs from the model's hook_pattern by {diff:.3g}; this model computes "
            "attention in a way a Q/K capture cannot reproduce"
        )


def _half(a: np.ndarray, what: str) -> np.ndarray:
    half = a.astype(np.float16)
    if not np.isfinite(half).all():
        raise ValueError(f"{what} overflow float16 (|x| > 65504); capture with dtype='float32'")
    return half
