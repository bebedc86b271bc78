"""Correctness contract for decoders: GPT-2 (learned positions) and Llama / Qwen2 / Mistral
(RoPE + grouped-query attention), causal masks, right padding, sequences of different length."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import (
    TEXTS,
    max_attention_error,
    model_state,
    peakiness,
    reference_attentions,
    tiny_model,
)

import attentionviz as av


def _padded(tok, texts):
    # everything the tokenizer returns, as capture passes it (incl. token_type_ids for GPT-2)
    return dict(tok(texts, padding=True, return_tensors="pt"))


@pytest.mark.parametrize("kind", ["gpt2", "llama", "qwen2", "mistral"])
def test_attention_matches_model(kind, gpt2_tokenizer):
    model = tiny_model(kind)
    before = model_state(model)
    cap = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", batch_size=3, progress=False)
    assert model_state(model) == before
    assert cap.mask == "causal"
    inputs = _padded(gpt2_tokenizer, TEXTS)
    lengths = inputs["attention_mask"].sum(1).tolist()
    ref = reference_attentions(model, inputs)
    assert peakiness(ref) > 0.4  # attention far from uniform: a wrong scale would show
    err = max_attention_error(cap, ref, lengths)
    print(f"\nmax abs attention error {kind} (fp32): {err:.3e}")
    assert err < 1e-4


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_grouped_query_heads_share_keys(kind, gpt2_tokenizer):
    model = tiny_model(kind)
    cap = av.capture(model, gpt2_tokenizer, TEXTS[:2], dtype="float32", progress=False)
    assert (cap.n_heads, cap.n_kv_heads, cap.d_head) == (4, 2, 16)
    # query heads 0,1 share kv head 0; 2,3 share kv head 1
    np.testing.assert_array_equal(cap.qk(1, 0)[1], cap.qk(1, 1)[1])
    np.testing.assert_array_equal(cap.qk(1, 2)[1], cap.qk(1, 3)[1])
    assert not np.array_equal(cap.qk(1, 0)[1], cap.qk(1, 2)[1])
    assert not np.array_equal(cap.qk(1, 0)[0], cap.qk(1, 1)[0])


def test_rope_is_applied(gpt2_tokenizer):
    """Keys are post-rotary: the same token at two positions has different keys."""
    model = tiny_model("llama")
    cap = av.capture(model, gpt2_tokenizer, ["the the the the"], dtype="float32", progress=False)
    t = cap.tokens
    rows = t.index[t.text == "the"].tolist()
    _, k = cap.qk(0, 0)
    assert len(rows) == 4 and not np.allclose(k[rows[0]], k[rows[1]])
    # ...but with the same norm (rotation)
    np.testing.assert_allclose(np.linalg.norm(k[rows[0]]), np.linalg.norm(k[rows[1]]), rtol=1e-4)


def test_gpt2_scale_by_inverse_layer_idx_is_folded(gpt2_tokenizer):
    model = tiny_model("gpt2", scale_attn_by_inverse_layer_idx=True)
    cap = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    assert cap.manifest["extra"]["q_scale_folded"] == {"1": 0.5}
    inputs = _padded(gpt2_tokenizer, TEXTS)
    lengths = inputs["attention_mask"].sum(1).tolist()
    assert max_attention_error(cap, reference_attentions(model, inputs), lengths) < 1e-4


def test_byte_level_tokens_are_cleaned(byte_level_tokenizer):
    model = tiny_model("gpt2", vocab_size=byte_level_tokenizer.vocab_size)
    cap = av.capture(model, byte_level_tokenizer, ["the cat and the dog"], progress=False)
    t = cap.tokens
    assert any(r.startswith("Ġ") for r in t.raw)  # GPT-2 style raw pieces ...
    assert not any(x.startswith("Ġ") or x.startswith(" ") for x in t.text)  # ... read cleanly
    assert "the" in set(t.text)


def test_half_precision_model(gpt2_tokenizer):
    model = tiny_model("llama").to(torch.bfloat16)
    cap = av.capture(model, gpt2_tokenizer, TEXTS[:2], progress=False)
    assert cap.dtype == "float16" and np.isfinite(cap.qk(0, 0)[0]).all()
