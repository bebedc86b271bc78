"""Turning texts / images into padded model batches (right padding, done here so the
user's tokenizer is never modified, e.g. GPT-2 has no pad token)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass
class Batch:
    """Model inputs for one batch; ``valid`` is ``[batch, seq]`` bool (None: no padding);
    ``queries`` is ``[batch, seq]`` bool of the positions whose Q is kept (None: all)."""

    inputs: dict[str, torch.Tensor]
    valid: torch.Tensor | None
    n_seqs: int
    queries: torch.Tensor | None = None


def model_max_length(model: torch.nn.Module, tokenizer: Any = None) -> int | None:
    """Longest sequence the model accepts (position table size), if it declares one."""
    cfg = model.config.get_text_config() if hasattr(model, "config") else None
    for attr in ("max_position_embeddings", "n_positions"):
        v = getattr(cfg, attr, None)
        if isinstance(v, int) and v > 0:
            return v
    v = getattr(tokenizer, "model_max_length", None)
    return v if isinstance(v, int) and 0 < v < 1_000_000 else None


def accepted_inputs(model: torch.nn.Module) -> set[str]:
    """Names of the arguments the model's ``forward`` takes."""
    return set(inspect.signature(model.forward).parameters)


def text_batches(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    batch_size: int,
    max_length: int | None,
    positions: Any = None,
) -> tuple[list[list[int]], Iterator[Batch], int]:
    """Tokenize all texts up front (fixes the token table), then yield padded batches.
    ``positions``: the query positions kept per text (``sample_positions``), or None.

    Returns ``(ids per text, batch iterator, number of batches)``.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    limit = model_max_length(model, tokenizer)
    if max_length is not None:
        if not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"max_length must be a positive int, got {max_length!r}")
        if limit is not None and max_length > limit:
            raise ValueError(
                f"max_length={max_length} exceeds what {type(model).__name__} allows ({limit})"
            )
    enc = tokenizer(list(texts), truncation=max_length is not None, max_length=max_length)
    keys = [k for k in ("input_ids", "token_type_ids") if k in enc and k in accepted_inputs(model)]
    ids = [list(x) for x in enc["input_ids"]]
    for i, x in enumerate(ids):
        if not x:
            raise ValueError(f"texts[{i}] produced no tokens; remove it")
        if limit is not None and len(x) > limit:
            raise ValueError(
                f"texts[{i}] has {len(x)} tokens but {type(model).__name__} allows at most "
                f"{limit}; pass max_length={limit} to truncate"
            )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    columns = {k: [list(x) for x in enc[k]] for k in keys}
    chosen = None if positions is None else sample_positions(positions, [len(x) for x in ids])

    def gen() -> Iterator[Batch]:
        for start in range(0, len(ids), batch_size):
            chunk = range(start, min(start + batch_size, len(ids)))
            width = max(len(ids[i]) for i in chunk)
            valid = torch.zeros(len(chunk), width, dtype=torch.bool)
            inputs = {}
            for k in keys:
                fill = pad if k == "input_ids" else 0
                inputs[k] = torch.tensor(
                    [columns[k][i] + [fill] * (width - len(ids[i])) for i in chunk],
                    dtype=torch.long,
                )
            for j, i in enumerate(chunk):
                valid[j, : len(ids[i])] = True
            inputs["attention_mask"] = valid.long()
            queries = None
            if chosen is not None:
                queries = torch.zeros_like(valid)
                for j, i in enumerate(chunk):
                    queries[j, torch.as_tensor(chosen[i], dtype=torch.long)] = True
            yield Batch(inputs, valid, len(chunk), queries)

    return ids, gen(), -(-len(ids) // batch_size)


def sample_positions(positions: Any, lengths: Sequence[int]) -> list[np.ndarray]:
    """The sorted query positions kept per sequence. ``positions``: an int ``n`` (``n``
    positions evenly spaced over each sequence, first and last included; all of a shorter
    one) or one sequence of positions per text (negative counts from the end)."""
    if isinstance(positions, (int, np.integer)) and not isinstance(positions, bool):
        n = int(positions)
        if n < 1:
            raise ValueError(f"positions must be >= 1 (query positions per sequence), got {n}")
        return [
            np.unique(np.linspace(0, m - 1, min(n, m)).round().astype(np.int64)) for m in lengths
        ]
    if isinstance(positions, (str, bytes)) or not isinstance(positions, Sequence):
        raise ValueError(
            "positions must be an int (positions per sequence) or one list of positions per "
            f"text, got {type(positions).__name__}"
        )
    if len(positions) != len(lengths):
        raise ValueError(f"positions has {len(positions)} entries for {len(lengths)} texts")
    out = []
    for i, (p, m) in enumerate(zip(positions, lengths, strict=True)):
        arr = np.asarray(p, dtype=np.int64).reshape(-1)
        if not len(arr):
            raise ValueError(f"positions[{i}] is empty; every text needs one query position")
        if (arr < -m).any() or (arr >= m).any():
            raise ValueError(
                f"positions[{i}] has positions outside 0..{m - 1} (text {i} has {m} tokens)"
            )
        out.append(np.unique(arr % m))
    return out


def image_batches(
    model: torch.nn.Module, processor: Any, images: Sequence[Any], batch_size: int
) -> tuple[tuple[int, int], Iterator[Batch], int]:
    """Preprocess images batch by batch; returns ``((grid_h, grid_w), batches, n_batches)``."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    patch = getattr(model.config, "patch_size", None)
    if patch is None:
        raise ValueError(f"{type(model).__name__} has no config.patch_size; not a ViT-style model")
    ph, pw = (patch, patch) if isinstance(patch, int) else tuple(patch)

    def prep(chunk: Sequence[Any]) -> Batch:
        pixels = processor(images=list(chunk), return_tensors="pt")["pixel_values"]
        return Batch({"pixel_values": pixels}, None, len(chunk))

    first = prep(images[:batch_size])
    h, w = first.inputs["pixel_values"].shape[-2:]
    grid = (int(h) // ph, int(w) // pw)

    def gen() -> Iterator[Batch]:
        yield first
        for start in range(batch_size, len(images), batch_size):
            yield prep(images[start : start + batch_size])

    return grid, gen(), -(-len(images) // batch_size)
