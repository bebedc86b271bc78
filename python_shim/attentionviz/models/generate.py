"""``capture_generate(model, tokenizer, prompts, max_new_tokens=...)``: Q/K of the prompt and
of every generated token, recorded while ``model.generate`` runs through its KV cache.

Prompts are left-padded (decoder-only generation) batch by batch. ``model.generate`` itself
produces the tokens (greedy, sampling, beams are refused), so the ids are exactly what it
returns with the same settings and the same torch seed. The last generated token is fed
once more through the cache (one extra decode step, as the next ``generate`` step would) so
that it has a query and a key like every other token.

Token table: the usual text columns plus ``generated`` (bool) and ``step`` (-1 for prompt
tokens, ``i`` for the ``i``-th generated token, 0-based); with ``messages=`` also ``role``
("system" / "user" / "assistant"; generated tokens are "assistant") and ``template`` (bool:
chat-template markup, e.g. role headers; a generated special token such as end-of-turn
counts as markup). Tokens ``generate`` emits after a sequence finished (padding after its
end-of-sequence token) are dropped.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..core import tokens as token_table
from ..core.capture import Capture, make_manifest
from ..core.errors import UnsupportedModelError
from ..core.store import DTYPES, ArrayStore
from .batches import accepted_inputs
from .chat import check_conversations, render_chat
from .gen_recorder import StepRecorder
from .recorder import ACTIVE, capture_mode
from .runner import model_name

__all__ = ["GENERATION_COLUMNS", "capture_generate"]

#: Token-table columns added by ``capture_generate`` (the last two only for ``messages=``).
GENERATION_COLUMNS = ("generated", "step", "role", "template")

_REFUSED = {
    "num_beams": "beam search reorders the KV cache between steps",
    "num_return_sequences": "several sequences per prompt",
    "assistant_model": "assisted generation runs a second model",
    "prompt_lookup_num_tokens": "prompt-lookup decoding feeds several tokens per step",
    "past_key_values": "a prefilled cache hides the prompt's queries",
    "cache": "a prefilled cache hides the prompt's queries",
    "cache_implementation": "only the default dynamic cache holds every key",
}


def capture_generate(
    model: torch.nn.Module,
    tokenizer: Any,
    prompts: Sequence[str] | None = None,
    *,
    messages: Sequence[Any] | None = None,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    dtype: str = "float16",
    layers: Sequence[int] | None = None,
    metadata: pd.DataFrame | Mapping[str, Sequence[Any]] | None = None,
    progress: bool = True,
    **generate_kwargs: Any,
) -> Capture:
    """Generate from ``prompts`` (or chat ``messages``) and capture Q/K of every token fed.

    ``messages``: conversations (lists of ``{"role", "content"}`` dicts) rendered with the
    tokenizer's chat template and its generation prompt. ``generate_kwargs`` go to
    ``model.generate`` unchanged (``do_sample``, ``temperature``, ``top_k``, ``eos_token_id``
    ...; seed torch for reproducible sampling); beam search and non-dynamic caches are
    refused. The generated texts are in ``cap.manifest["extra"]["generated_text"]``.
    """
    _check_model(model)
    _check_kwargs(max_new_tokens, batch_size, dtype, generate_kwargs)
    prompt_ids, chats = _prompt_ids(tokenizer, prompts, messages)
    meta = token_table.normalize_metadata(metadata, len(prompt_ids))
    clash = sorted(set(GENERATION_COLUMNS) & {str(c) for c in getattr(meta, "columns", [])})
    if clash:
        raise ValueError(f"metadata columns {clash} clash with generation columns; rename them")
    pad = _pad_id(tokenizer, generate_kwargs)
    generate_kwargs.setdefault("pad_token_id", pad)
    eos = _eos_ids(model, generate_kwargs)
    n_layers = int(model.config.get_text_config().num_hidden_layers)
    wanted = _check_layers(layers, n_layers)
    from tqdm.auto import tqdm

    chunks = range(0, len(prompt_ids), batch_size)
    q_parts: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
    k_parts: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
    all_ids: list[list[int]] = []
    scales: dict[int, float] = {}
    npd = DTYPES[dtype]
    with (
        capture_mode(model),
        tqdm(
            total=len(chunks), disable=not progress, desc="attentionviz generate", unit="batch"
        ) as bar,
    ):
        for start in chunks:
            batch = prompt_ids[start : start + batch_size]
            rec, new = _generate_batch(model, batch, pad, n_layers, wanted, generate_kwargs)
            kept = [_kept_length(row, eos) for row in new.tolist()]
            rows = _row_index(batch, kept, new.shape[1])
            for layer in wanted:
                q, k = rec.stacked(layer)
                for part, t in ((q_parts, q), (k_parts, k)):
                    flat = t.transpose(0, 1).reshape(t.shape[1], -1, t.shape[3])[:, rows]
                    part[layer].append(_to_numpy(flat, npd, layer))
            for layer, scale in rec.scales.items():
                if scales.setdefault(layer, scale) != scale:
                    raise UnsupportedModelError(
                        f"layer {layer}: the attention scale differs between batches"
                    )
            all_ids += [p + row[:n] for p, row, n in zip(batch, new.tolist(), kept, strict=True)]
            bar.update(1)
    prompt_lengths = [len(p) for p in prompt_ids]
    tokens = _token_table(all_ids, prompt_lengths, tokenizer, meta, chats)
    texts = [
        tokenizer.decode(ids[n:], skip_special_tokens=True)
        for ids, n in zip(all_ids, prompt_lengths, strict=True)
    ]
    return _build(model, tokens, q_parts, k_parts, wanted, scales, dtype, texts)


def _check_model(model: torch.nn.Module) -> None:
    can = getattr(model, "can_generate", None)
    if not callable(can) or not can():
        raise TypeError(
            f"capture_generate needs a model that can generate (a language-modelling head, "
            f"e.g. AutoModelForCausalLM), got {type(model).__name__}"
        )
    if getattr(model.config, "is_encoder_decoder", False):
        raise UnsupportedModelError(
            f"{type(model).__name__} is an encoder-decoder; generation capture supports "
            "decoder-only models"
        )


def _check_kwargs(max_new_tokens: int, batch_size: int, dtype: str, kw: dict[str, Any]) -> None:
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    kw["max_new_tokens"] = max_new_tokens
    for name, why in _REFUSED.items():
        value = kw.get(name)
        if value is not None and not (name in ("num_beams", "num_return_sequences") and value == 1):
            raise UnsupportedModelError(f"capture_generate does not support {name}=: {why}")
    for name in ("input_ids", "attention_mask", "inputs", "position_ids"):
        if name in kw:
            raise ValueError(
                f"pass prompts= or messages=, not {name}= (prompts are tokenized here)"
            )


def _prompt_ids(
    tokenizer: Any, prompts: Sequence[str] | None, messages: Sequence[Any] | None
) -> tuple[list[list[int]], list[Any] | None]:
    if (prompts is None) == (messages is None):
        raise ValueError("pass exactly one of prompts= (strings) or messages= (chat conversations)")
    if messages is not None:
        chats = [render_chat(tokenizer, c, True) for c in check_conversations(messages)]
        return [c.ids for c in chats], chats
    if isinstance(prompts, str):
        raise ValueError("prompts must be a list of strings, got a single string; wrap it: [text]")
    prompts = list(prompts or [])
    if not prompts:
        raise ValueError("prompts is empty; pass at least one prompt")
    for i, p in enumerate(prompts):
        if not isinstance(p, str) or not p.strip():
            raise ValueError(f"prompts[{i}] must be a non-empty string")
    ids = [list(x) for x in tokenizer(prompts)["input_ids"]]
    for i, x in enumerate(ids):
        if not x:
            raise ValueError(f"prompts[{i}] produced no tokens; remove it")
    return ids, None


def _pad_id(tokenizer: Any, kw: dict[str, Any]) -> int:
    for v in (kw.get("pad_token_id"), tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if v is not None:
            return int(v)
    return 0


def _eos_ids(model: torch.nn.Module, kw: dict[str, Any]) -> set[int]:
    eos = kw.get("eos_token_id", getattr(model.generation_config, "eos_token_id", None))
    if eos is None:
        return set()
    return {int(e) for e in (eos if isinstance(eos, list | tuple) else [eos])}


def _kept_length(new: list[int], eos: set[int]) -> int:
    """Generated tokens up to and including the first end-of-sequence token."""
    for i, t in enumerate(new):
        if t in eos:
            return i + 1
    return len(new)


def _left_padded(batch: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(x) for x in batch)
    ids = torch.tensor([[pad] * (width - len(x)) + x for x in batch], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in batch], dtype=torch.long)
    return ids, mask


def _generate_batch(
    model: torch.nn.Module,
    batch: list[list[int]],
    pad: int,
    n_layers: int,
    wanted: list[int],
    kw: dict[str, Any],
) -> tuple[StepRecorder, torch.Tensor]:
    """Run ``generate`` on one batch under a recorder, then feed the last token once more.
    Returns the recorder and the generated ids ``[batch, n_new]``."""
    device = next(model.parameters()).device
    ids, mask = (t.to(device) for t in _left_padded(batch, pad))
    rec = StepRecorder(mask.bool(), n_layers, set(wanted))
    token = ACTIVE.set(rec)
    try:
        out = model.generate(
            input_ids=ids, attention_mask=mask, return_dict_in_generate=True, use_cache=True, **kw
        )
        seqs = out.sequences
        new = seqs[:, ids.shape[1] :]
        if rec.passes != new.shape[1]:
            raise UnsupportedModelError(
                f"{type(model).__name__}: generate made {rec.passes} forward passes for "
                f"{new.shape[1]} new tokens; attentionviz cannot align them"
            )
        full_mask = torch.cat([mask, torch.ones_like(new)], dim=1)
        position = (full_mask.sum(-1, keepdim=True) - 1).long()
        model(
            input_ids=seqs[:, -1:],
            attention_mask=full_mask,
            position_ids=position,
            use_cache=True,
            **_cache_argument(model, out),
        )
    finally:
        ACTIVE.reset(token)
    if rec.calls != n_layers * (new.shape[1] + 1):
        raise UnsupportedModelError(
            f"{type(model).__name__} made {rec.calls} attention calls for {n_layers} layers "
            f"over {new.shape[1] + 1} passes (cross-attention or shared layers?)"
        )
    return rec, new.cpu()


def _cache_argument(model: torch.nn.Module, out: Any) -> dict[str, Any]:
    """The KV cache ``generate`` returned, under the name this transformers version uses
    (``cache`` since 5.2x, ``past_key_values`` before)."""
    name = "cache" if "cache" in accepted_inputs(model) else "past_key_values"
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = getattr(out, "past_key_values", None)
    if cache is None:
        raise UnsupportedModelError(
            f"{type(model).__name__}: generate returned no KV cache; cannot feed the last token"
        )
    return {name: cache}


def _row_index(batch: list[list[int]], kept: list[int], n_new: int) -> torch.Tensor:
    """Indices into the flattened ``[batch * (width + n_new)]`` token axis of the real
    tokens: each sequence's prompt (after its left padding), then its kept generated ones."""
    width = max(len(x) for x in batch)
    per = width + n_new
    rows = [
        b * per + j
        for b, (p, n) in enumerate(zip(batch, kept, strict=True))
        for j in range(width - len(p), width + n)
    ]
    return torch.tensor(rows, dtype=torch.long)


def _to_numpy(t: torch.Tensor, npd: type, layer: int) -> np.ndarray:
    out = t.to(torch.float32 if npd is not np.float16 else torch.float16)
    if not torch.isfinite(out).all():
        raise ValueError(
            f"Q/K of layer {layer} are not finite in {out.dtype} (NaN/inf or |x| > 65504); "
            "try dtype='float32'"
        )
    return out.cpu().numpy()


def _check_layers(layers: Sequence[int] | None, n_layers: int) -> list[int]:
    if layers is None:
        return list(range(n_layers))
    ids = sorted({operator.index(x) for x in layers})
    if not ids:
        raise ValueError("layers is empty; pass None for all layers")
    if ids[0] < 0 or ids[-1] >= n_layers:
        raise IndexError(
            f"layers {ids} out of range: the model has {n_layers} layers (valid 0..{n_layers - 1})"
        )
    return ids


def _token_table(
    all_ids: list[list[int]],
    prompt_lengths: list[int],
    tokenizer: Any,
    meta: pd.DataFrame | None,
    chats: list[Any] | None,
) -> pd.DataFrame:
    tokens = token_table.text_token_table(all_ids, tokenizer, meta)
    generated = np.concatenate(
        [np.arange(len(x)) >= n for x, n in zip(all_ids, prompt_lengths, strict=True)]
    )
    step = np.concatenate(
        [np.arange(len(x)) - n for x, n in zip(all_ids, prompt_lengths, strict=True)]
    )
    tokens["generated"] = generated
    tokens["step"] = np.where(generated, step, -1).astype(np.int64)
    if chats is not None:
        roles, markup = [], []
        for chat, ids in zip(chats, all_ids, strict=True):
            n_new = len(ids) - len(chat.ids)
            roles += chat.roles + ["assistant"] * n_new
            markup += chat.template + [False] * n_new
        tokens["role"] = np.asarray(roles, dtype=object)  # plain strings: Arrow / .attnviz
        tokens["template"] = np.asarray(markup, dtype=bool) | (generated & tokens["special"])
    return tokens


def _build(
    model: torch.nn.Module,
    tokens: pd.DataFrame,
    q_parts: dict[int, list[np.ndarray]],
    k_parts: dict[int, list[np.ndarray]],
    wanted: list[int],
    scales: dict[int, float],
    dtype: str,
    texts: list[str],
) -> Capture:
    q = np.stack([np.concatenate(q_parts[i], axis=1) for i in wanted])
    k = np.stack([np.concatenate(k_parts[i], axis=1) for i in wanted])
    ref = scales[wanted[0]]
    # per-layer scales (GPT-2 scale_attn_by_inverse_layer_idx): fold the ratio into Q
    fold = {j: scales[i] / ref for j, i in enumerate(wanted) if scales[i] != ref}
    for j, r in fold.items():
        q[j] = (q[j].astype(np.float32) * r).astype(q.dtype)
    manifest = make_manifest(
        model_name=model_name(model),
        architecture=type(model).__name__,
        scale=ref,
        mask="causal",
        dtype=dtype,
        n_layers=len(wanted),
        n_heads=int(q.shape[1]),
        n_kv_heads=int(k.shape[1]),
        d_head=int(q.shape[3]),
        layer_ids=list(wanted),
    )
    manifest.update(n_tokens=len(tokens), n_seqs=len(texts))
    extra = manifest["extra"]
    extra["model_type"] = getattr(model.config, "model_type", None)
    extra["generated_text"] = texts
    if fold:
        extra["q_scale_folded"] = {str(wanted[j]): r for j, r in fold.items()}
    return Capture(ArrayStore(q, k, tokens, manifest, []))
