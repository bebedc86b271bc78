"""Correctness contract for a ViT (random tiny config, real photos from scikit-image)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    max_attention_error,
    model_state,
    peakiness,
    reference_attentions,
    tiny_model,
)

import attentionviz as av


def test_attention_matches_model(images, processor):
    model = tiny_model("vit")
    before = model_state(model)
    meta = {"name": ["astronaut", "chelsea", "coffee"]}
    cap = av.capture_vision(
        model, processor, images, metadata=meta, batch_size=2, dtype="float32", progress=False
    )
    assert model_state(model) == before
    assert cap.mask == "bidirectional" and (cap.n_layers, cap.n_heads, cap.d_head) == (2, 4, 16)
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    ref = reference_attentions(model, {"pixel_values": pixels})
    assert peakiness(ref) > 0.3  # far from uniform (1/17): a wrong scale would show
    err = max_attention_error(cap, ref, [17] * 3)
    print(f"\nmax abs attention error ViT (fp32): {err:.3e}")
    assert err < 1e-4


def test_patch_token_table(images, processor):
    cap = av.capture_vision(tiny_model("vit"), processor, images, progress=False)
    t = cap.tokens
    assert len(t) == 3 * (1 + 16)  # [CLS] + 4x4 patches of 8 px on a 32 px image
    first = t[t.seq == 0]
    assert first.text.iloc[0] == "[CLS]" and first.special.iloc[0]
    assert first.patch_row.iloc[0] == -1 and first.patch_col.iloc[0] == -1
    patches = first.iloc[1:]
    assert patches.patch_row.tolist() == list(np.repeat(np.arange(4), 4))
    assert patches.patch_col.tolist() == list(np.tile(np.arange(4), 4))
    assert (patches.token_id == -1).all() and not patches.special.any()


def test_empty_images_rejected(processor):
    with pytest.raises(ValueError, match="images is empty"):
        av.capture_vision(tiny_model("vit"), processor, [], progress=False)


def _hsv_reference(picture, r, c, size):
    """Brightness, hue, saturation of one patch, by the textbook formulas (colorsys)."""
    import colorsys

    patch = picture[r * size : (r + 1) * size, c * size : (c + 1) * size].astype(float) / 255
    luma = (patch[..., 0] * 0.299 + patch[..., 1] * 0.587 + patch[..., 2] * 0.114).mean()
    h, s, _ = colorsys.rgb_to_hsv(*patch.reshape(-1, 3).mean(axis=0))
    return luma, h * 360, s


def test_patch_colour_columns(images, processor):
    cap = av.capture_vision(tiny_model("vit"), processor, images, progress=False)
    t = cap.tokens
    cls = t[t.special]
    assert cls[["patch_brightness", "patch_hue", "patch_saturation"]].isna().all().all()
    for seq in range(len(images)):
        picture = cap.image(seq)  # what the model saw (32 x 32 px, 8 px patches)
        rows = t[(t.seq == seq) & ~t.special]
        for _, row in rows.iterrows():
            want = _hsv_reference(picture, row.patch_row, row.patch_col, 8)
            got = (row.patch_brightness, row.patch_hue, row.patch_saturation)
            # same float64 arithmetic in another order: only rounding differs
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # the photos differ: the columns separate dark from bright and grey from coloured patches
    assert t.patch_brightness.max() - t.patch_brightness.min() > 0.3
    assert t.patch_saturation.max() - t.patch_saturation.min() > 0.2


def test_patch_colours_without_kept_images(images, processor):
    model = tiny_model("vit")
    kept = av.capture_vision(model, processor, images, progress=False)
    bare = av.capture_vision(model, processor, images, progress=False, keep_images=False)
    assert bare.n_images == 0
    np.testing.assert_array_equal(bare.tokens.patch_hue, kept.tokens.patch_hue)
