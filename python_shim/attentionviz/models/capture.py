"""``capture(model, tokenizer, texts)`` / ``capture_vision(model, processor, images)``: run
the model batch by batch with the recording attention of ``recorder`` and store, per stored
layer, Q ``[n_heads, n_tokens, d_head]`` and K ``[n_kv_heads, n_tokens, d_head]`` in memory
(fp16 by default) or, with ``out=path``, straight into a ``.attnviz`` file (bounded memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch

from ..core import tokens as token_table
from ..core.attnviz_file import PathLike
from ..core.capture import Capture
from ..core.errors import UnsupportedModelError
from ..core.patch_colours import patch_columns
from .batches import image_batches, text_batches
from .images import model_view
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
    model = unwrap(model)  # an nnsight wrapper captures as the model it holds
    texts = _check_texts(texts)
    meta = token_table.normalize_metadata(metadata, len(texts))
    ids, batches, n_batches = text_batches(model, tokenizer, texts, batch_size, max_length)
    return Capture(
        run(
            model,
            batches,
            n_batches,
            lambda _: token_table.text_token_table(ids, tokenizer, meta),
            n_seqs=len(texts),
            layers=layers,
            dtype=dtype,
            progress=progress,
            out=out,
        )
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
    keep_images: bool = True,
) -> Capture:
    """Capture Q/K of a vision transformer (ViT-style: prefix tokens then a patch grid).

    Tokens are ``[CLS]`` (``patch_row = patch_col = -1``) then patches in row-major order;
    ``patch_brightness`` / ``patch_hue`` / ``patch_saturation`` hold each patch's colour
    (``core.patch_colours``; NaN for [CLS]).
    ``keep_images``: store each image as the model saw it (PNG, ``cap.images`` /
    ``cap.image(seq)``) so the image view can draw it under the patch grid.
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
