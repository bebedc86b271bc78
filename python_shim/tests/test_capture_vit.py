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
