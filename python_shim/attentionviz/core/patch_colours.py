"""Colour statistics of image patches: the token-table columns ``patch_brightness``,
``patch_hue`` and ``patch_saturation`` of vision captures (colour the plot by them to see
the heads that group patches by colour or brightness, as the AttentionViz paper shows).

* ``patch_brightness``: mean Rec. 601 luma of the patch's pixels, 0 (black) .. 1 (white).
* ``patch_hue``: hue of the patch's mean colour in degrees, 0 .. 360 (HSV; 0 for greys).
* ``patch_saturation``: HSV saturation of the patch's mean colour, 0 (grey) .. 1.

Prefix tokens ([CLS], ...) are no patch: NaN there.
"""

from __future__ import annotations

import numpy as np

COLUMNS = ("patch_brightness", "patch_hue", "patch_saturation")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)


def patch_stats(picture: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """``[gh * gw, 3]`` (brightness, hue, saturation) of the patches of one uint8
    ``[H, W, 3]`` picture cut into a ``grid`` (rows, cols), row-major like the tokens."""
    gh, gw = grid
    h, w = picture.shape[:2]
    if picture.ndim != 3 or picture.shape[2] != 3 or h < gh or w < gw or gh < 1 or gw < 1:
        raise ValueError(f"picture {picture.shape} cannot be cut into a {gh}x{gw} patch grid")
    ph, pw = h // gh, w // gw  # the model's patches cover the top-left gh*ph x gw*pw pixels
    rgb = picture[: gh * ph, : gw * pw].astype(np.float64) / 255.0
    patches = rgb.reshape(gh, ph, gw, pw, 3).transpose(0, 2, 1, 3, 4).reshape(gh * gw, -1, 3)
    brightness = (patches @ _LUMA).mean(axis=1)
    mean = patches.mean(axis=1)
    hi, lo = mean.max(axis=1), mean.min(axis=1)
    chroma = hi - lo
    saturation = np.where(hi > 0, chroma / np.where(hi > 0, hi, 1), 0.0)
    return np.stack([brightness, _hue(mean, hi, chroma), saturation], axis=1)


def _hue(rgb: np.ndarray, hi: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """HSV hue in degrees of ``[n, 3]`` colours (0 where the colour is grey)."""
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    c = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(hi == r, ((g - b) / c) % 6, np.where(hi == g, (b - r) / c + 2, (r - g) / c + 4))
    return np.where(chroma > 0, hue * 60.0, 0.0)


def patch_columns(stats: list[np.ndarray], n_prefix: int) -> dict[str, np.ndarray]:
    """The three columns for a token table of images (``n_prefix`` prefix tokens, then the
    patches of each image), from ``patch_stats`` of each image in order."""
    out = []
    for s in stats:
        out.append(np.concatenate([np.full((n_prefix, 3), np.nan), s]))
    values = np.concatenate(out) if out else np.empty((0, 3))
    return {name: values[:, i] for i, name in enumerate(COLUMNS)}
