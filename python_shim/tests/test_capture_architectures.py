"""Correctness contract for current decoder architectures (issue #16): small random
configs built here (no download). Each is exact -- softmax(Q K^T * scale + mask)
recomputed from the capture equals the model's own attention probabilities within 1e-4
(fp32), with right padding in the batch -- or refused by name with the reason."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from conftest import TEXTS, max_attention_error, model_state, peakiness, reference_attentions

import attentionviz as av
from attentionviz.core.errors import UnsupportedModelError

SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
GQA = dict(SMALL, num_key_value_heads=2, max_position_embeddings=256, vocab_size=30522)
#: a window shorter than TEXTS[3] (26 tokens) so the sliding-window mask really differs
WINDOW = 5


def build(kind: str, **overrides: Any) -> Any:
    """A tiny random model of architecture ``kind``; std 0.2 init so attention is peaked."""
    import transformers as tf

    rope3 = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
             "low_freq_factor": 1.0, "high_freq_factor": 4.0,
             "original_max_position_embeddings": 16}  # fmt: skip
    configs = {
        "llama3": (tf.LlamaConfig, tf.LlamaModel, dict(GQA, rope_parameters=rope3)),
        "qwen2.5": (tf.Qwen2Config, tf.Qwen2Model, GQA),
        "qwen3": (tf.Qwen3Config, tf.Qwen3Model, dict(GQA, head_dim=16)),
        "gemma3": (tf.Gemma3TextConfig, tf.Gemma3TextModel, dict(
            GQA, head_dim=16, query_pre_attn_scalar=4, sliding_window=WINDOW,
            layer_types=["sliding_attention", "full_attention"])),
        "mistral": (tf.MistralConfig, tf.MistralModel, dict(GQA, sliding_window=WINDOW)),
        "phi3": (tf.Phi3Config, tf.Phi3Model, dict(
            GQA, sliding_window=WINDOW, pad_token_id=0, partial_rotary_factor=0.5)),
        "gpt_neox": (tf.GPTNeoXConfig, tf.GPTNeoXModel, dict(
            SMALL, vocab_size=30522, max_position_embeddings=256, rotary_pct=0.25)),
        "olmo2": (tf.Olmo2Config, tf.Olmo2Model, dict(GQA, pad_token_id=0)),
        "mixtral": (tf.MixtralConfig, tf.MixtralModel, dict(
            GQA, num_local_experts=4, num_experts_per_tok=2)),
        "qwen2_moe": (tf.Qwen2MoeConfig, tf.Qwen2MoeModel, dict(
            GQA, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
            shared_expert_intermediate_size=64)),
    }  # fmt: skip
    cfg_cls, model_cls, kw = configs[kind]
    torch.manual_seed(0)
    cfg = cfg_cls(**{**kw, **overrides})
    cfg.initializer_range = 0.2
    return model_cls(cfg).eval()


#: architecture -> sliding window per stored layer the capture must record
EXACT = {
    "llama3": {},
    "qwen2.5": {},
    "qwen3": {},
    "gemma3": {0: WINDOW},
    "mistral": {0: WINDOW, 1: WINDOW},
    "phi3": {0: WINDOW, 1: WINDOW},
    "gpt_neox": {},
    "olmo2": {},
    "mixtral": {},
    "qwen2_moe": {},
}


@pytest.mark.parametrize("kind", list(EXACT))
def test_attention_matches_model(kind, gpt2_tokenizer):
    model = build(kind)
    before = model_state(model)
    cap = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", batch_size=3, progress=False)
    assert model_state(model) == before
    assert cap.mask == "causal"
    assert cap.sliding_windows == EXACT[kind]
    inputs = dict(gpt2_tokenizer(TEXTS, padding=True, return_tensors="pt"))
    inputs.pop("token_type_ids", None)
    lengths = inputs["attention_mask"].sum(1).tolist()
    ref = reference_attentions(model, inputs)
    assert peakiness(ref) > 0.3  # far from uniform (0.04 at 26 tokens): a wrong scale shows
    err = max_attention_error(cap, ref, lengths)
    print(f"\nmax abs attention error {kind} (fp32): {err:.3e}")
    assert err < 1e-4


def test_sliding_window_is_needed_to_match(gpt2_tokenizer):
    """Without its window the recomputed attention of a sliding layer is wrong: the
    recorded window is what makes Mistral exact on sequences longer than it."""
    model = build("mistral")
    cap = av.capture(model, gpt2_tokenizer, TEXTS[3:], dtype="float32", progress=False)
    inputs = dict(gpt2_tokenizer(TEXTS[3:], return_tensors="pt"))
    inputs.pop("token_type_ids", None)
    ref = reference_attentions(model, inputs)
    full = av.Capture(cap.store)
    full._m = {**cap.manifest, "extra": {**cap.manifest["extra"], "sliding_window": {}}}
    n = [int(inputs["attention_mask"].sum())]
    assert max_attention_error(cap, ref, n) < 1e-4
    assert max_attention_error(full, ref, n) > 1e-2


def test_gemma_soft_capping_refused_by_name(gpt2_tokenizer):
    model = build("gemma3", attn_logit_softcapping=50.0)
    before = model_state(model)
    with pytest.raises(UnsupportedModelError, match=r"Gemma3TextModel.*soft-capping"):
        av.capture(model, gpt2_tokenizer, TEXTS, progress=False)
    assert model_state(model) == before
