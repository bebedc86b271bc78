"""PNG bytes <-> uint8 pictures (Pillow, imported only when an image is decoded)."""

from __future__ import annotations

import io

import numpy as np


def encode_png(image: np.ndarray) -> bytes:
    """``[H, W, 3]`` uint8 -> PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes -> ``[H, W, 3]`` uint8."""
    from PIL import Image

    with Image.open(io.BytesIO(bytes(data))) as image:
        return np.asarray(image.convert("RGB"))
