"""``capture(model, tokenizer, texts)`` / ``capture_vision(model, processor, images)``: run
the model batch by batch with the recording attention of ``recorder`` and store, per stored
layer, Q ``[n_heads, n_tokens, d_head]`` and K ``[n_kv_heads, n_tokens, d_head]`` in memory
(fp16 by default) or, with ``out=path``, straight into a ``.attnviz`` file (bounded memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..core import tokens as token_table
from ..core.attnviz_file import PathLike
from ..core.capture import Capture
from ..core.errors import UnsupportedModelError
from ..core.patch_colours import patch_columns
from .batches import image_batches, sample_positions, text_batches
from .images import model_view
from .memory import MemoryEstimate, estimate, model_dims
from .recorder import require_pretrained
from .runner import run
from .wrapped import unwrap

__all__ = ["capture", "capture_vision"]


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
    heads: Sequence[Any] | None = None,
    positions: int | Sequence[Sequence[int]] | None = None,
    check: str = "first",
    dry_run: bool = False,
    progress: bool = True,
    out: PathLike | None = None,
) -> Capture | MemoryEstimate:
    """Capture Q/K of every layer and head of a text transformer over ``texts``.

    ``metadata``: one row per text (DataFrame or dict of lists), broadcast to its tokens.
    ``max_length``: truncate longer texts (otherwise a text longer than the model allows is
    an error). ``dtype``: storage dtype, "float16" or "float32". ``layers``: model layer
    indices to keep (stored layer ``i`` is model layer ``cap.layer_ids[i]``). ``heads``:
    model head indices kept in each stored layer, or ``(layer, head)`` pairs (then the
    listed layers x the union of their heads are kept; ``manifest["extra"]["head_ids"]``).
    ``positions``: keep Q for a sample of query positions per text only (an int: that
    many evenly spaced, or one list of positions per text); K stays complete, the token
    table gets a ``has_query`` column and ``cap.query_rows``. ``check``: which batches are
    checked against the model's own attention weights: "first" (default: the check costs
    an eager attention pass, the other batches run the model's fast attention), "all",
    "none". ``dry_run``: return the ``MemoryEstimate`` without running the model. ``out``:
    write a ``.attnviz`` file batch by batch instead of holding Q/K in memory. A capture
    whose estimate does not fit in the available RAM is refused with the estimate.
    """
    model = unwrap(model)  # an nnsight wrapper captures as the model it holds
    require_pretrained(model)
    texts = _check_texts(texts)
    meta = token_table.normalize_metadata(metadata, len(texts))
    layers, head_ids = _head_selection(model, layers, heads)
    ids, batches, n_batches = text_batches(
        model, tokenizer, texts, batch_size, max_length, positions
    )
    lengths = [len(x) for x in ids]
    chosen = None if positions is None else sample_positions(positions, lengths)
    need = estimate(
        model, lengths, lengths if chosen is None else [len(c) for c in chosen],
        batch_size=batch_size, dtype=dtype if dtype in ("float16", "float32") else "float32",
        layers=layers, heads=head_ids, check=check, in_memory=out is None,
    )  # fmt: skip
    if dry_run:
        return need
    if not need.fits:
        raise MemoryError(
            f"attentionviz: this capture would not fit in RAM: {need}. Pass out='x.attnviz' "
            "to stream Q/K to a file, or keep less: positions=, heads=, layers=, batch_size="
        )

    def make_tokens(_: int) -> pd.DataFrame:
        table = token_table.text_token_table(ids, tokenizer, meta)
        if chosen is not None:
            has = np.zeros(len(table), dtype=bool)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            has[np.concatenate([s + c for s, c in zip(starts, chosen, strict=True)])] = True
            table["has_query"] = has
        return table

    store = run(
        model, batches, n_batches, make_tokens, n_seqs=len(texts), layers=layers,
        dtype=dtype, progress=progress, out=out, heads=head_ids, check=check,
    )  # fmt: skip
    return Capture(store)


def _head_selection(
    model: torch.nn.Module, layers: Sequence[int] | None, heads: Sequence[Any] | None
) -> tuple[Sequence[int] | None, list[int] | None]:
    """``(layers, head indices)`` from ``heads=``: ints, or ``(layer, head)`` pairs."""
    if heads is None:
        return layers, None
    if isinstance(heads, (str, bytes)) or not isinstance(heads, Sequence) or not heads:
        raise ValueError("heads must be a non-empty list of head indices or (layer, head) pairs")
    n_heads = model_dims(model)[1]
    pairs = all(isinstance(h, Sequence) and len(h) == 2 for h in heads)
    if pairs:
        if layers is not None:
            raise ValueError("pass (layer, head) pairs in heads= or layers=, not both")
        layers = sorted({int(layer) for layer, _ in heads})
        chosen = sorted({int(h) for _, h in heads})
    else:
        try:
            chosen = sorted({int(h) for h in heads})
        except TypeError:
            raise ValueError(
                "heads must be a list of head indices or of (layer, head) pairs, not a mix"
            ) from None
    if chosen[0] < 0 or chosen[-1] >= n_heads:
        raise IndexError(
            f"heads {chosen} out of range: the model has {n_heads} heads per layer "
            f"(valid 0..{n_heads - 1})"
        )
    return layers, chosen


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
    keep_images: bool = True,
    check: str = "first",
) -> Capture:
    """Capture Q/K of a vision transformer (ViT-style: prefix tokens then a patch grid).

    Tokens are ``[CLS]`` (``patch_row = patch_col = -1``) then patches in row-major order;
    ``patch_brightness`` / ``patch_hue`` / ``patch_saturation`` hold each patch's colour
    (``core.patch_colours``; NaN for [CLS]).
    ``keep_images``: store each image as the model saw it (PNG, ``cap.images`` /
    ``cap.image(seq)``) so the image view can draw it under the patch grid. ``check``:
    as in ``capture``.
    """
    model = unwrap(model)
    images = list(images)
    if not images:
        raise ValueError("images is empty; pass at least one image")
    meta = token_table.normalize_metadata(metadata, len(images))
    grid, batches, n_batches = image_batches(model, processor, images, batch_size)

    def make_tokens(seq_len: int) -> pd.DataFrame:
        n_prefix = seq_len - grid[0] * grid[1]
        if n_prefix < 0:
            raise UnsupportedModelError(
                f"{type(model).__name__}: {seq_len} tokens per image for a {grid[0]}x{grid[1]} "
                "patch grid; not a ViT-style token layout"
            )
        table = token_table.image_token_table(len(images), n_prefix, grid, meta)
        for name, values in patch_columns(stats, n_prefix).items():
            table[name] = values
        return table

    pngs, stats = model_view(processor, images, batch_size, grid, keep=keep_images)
    return Capture(
        run(
            model,
            batches,
            n_batches,
            make_tokens,
            n_seqs=len(images),
            layers=layers,
            dtype=dtype,
            progress=progress,
            out=out,
            images=pngs or None,
            check=check,
        )
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
