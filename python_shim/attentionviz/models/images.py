"""The input images of a vision capture, as the model saw them (after the processor's
resize / crop), kept as PNG bytes so the image view can draw them under the patch grid.

Pixels are recovered from the processor's own ``pixel_values`` by undoing its
normalization (``x * std + mean``) and rescale (``/ rescale_factor``), so what is stored
is exactly the picture behind each patch, whatever resizing or cropping was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.patch_colours import patch_stats
from ..core.png import encode_png


def _channel_stats(processor: Any, name: str, default: float, channels: int) -> np.ndarray:
    value = getattr(processor, name, None)
    if value is None:
        value = default
    stats = np.asarray(value, dtype=np.float32).reshape(-1)
    if stats.size == 1:
        stats = np.repeat(stats, channels)
    return stats.reshape(channels, 1, 1)


def pixels_to_uint8(processor: Any, pixel_values: np.ndarray) -> np.ndarray:
    """``[B, C, H, W]`` model inputs -> ``[B, H, W, 3]`` uint8 pictures (undoes normalize and
    rescale as the processor declares them; grey images are repeated to 3 channels)."""
    x = np.asarray(pixel_values, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"pixel_values must be [batch, channels, height, width], got {x.shape}")
    channels = x.shape[1]
    if getattr(processor, "do_normalize", True):
        std = _channel_stats(processor, "image_std", 1.0, channels)
        mean = _channel_stats(processor, "image_mean", 0.0, channels)
        x = x * std + mean
    if getattr(processor, "do_rescale", True):
        factor = float(getattr(processor, "rescale_factor", 1 / 255) or 1 / 255)
        x = x / factor
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    if channels == 1:
        x = np.repeat(x, 3, axis=3)
    return np.ascontiguousarray(x[..., :3])


def model_view_pngs(processor: Any, images: Sequence[Any], batch_size: int) -> list[bytes]:
    """PNG bytes of every image as the processor hands it to the model (one per image)."""
    return model_view(processor, images, batch_size, None, keep=True)[0]


def model_view(
    processor: Any,
    images: Sequence[Any],
    batch_size: int,
    grid: tuple[int, int] | None,
    *,
    keep: bool,
) -> tuple[list[bytes], list[np.ndarray]]:
    """PNG bytes of every image as the model saw it (when ``keep``) and, with a patch
    ``grid``, each image's ``patch_colours.patch_stats``; one batch of pixels at a time."""
    pngs: list[bytes] = []
    stats: list[np.ndarray] = []
    for start in range(0, len(images), batch_size):
        chunk = list(images[start : start + batch_size])
        pixels = processor(images=chunk, return_tensors="np")["pixel_values"]
        for picture in pixels_to_uint8(processor, pixels):
            if keep:
                pngs.append(encode_png(picture))
            if grid is not None:
                stats.append(patch_stats(picture, grid))
    return pngs, stats
