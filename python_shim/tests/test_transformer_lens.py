"""av.from_transformer_lens: Q/K of a TransformerLens TransformerBridge reproduce the
bridge's own hook_pattern (tiny random configs, no download)."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

pytest.importorskip("transformer_lens")
import torch
from conftest import TEXTS
from transformer_lens import TransformerBridgeConfig
from transformer_lens.model_bridge import TransformerBridge

import attentionviz as av
from attentionviz import UnsupportedModelError


def native_bridge(tokenizer, **overrides):
    """A TL-native model (TransformerLens 4's replacement for HookedTransformer(cfg))."""
    fields = dict(
        d_model=64,
        n_layers=2,
        n_heads=4,
        d_head=16,
        n_ctx=64,
        d_vocab=30522,
        d_mlp=128,
        act_fn="gelu",
        normalization_type="LN",
        architecture="TransformerLensNative",
    )
    fields.update(overrides)
    torch.manual_seed(0)
    # A copy: the bridge sets up the tokenizer it gets (padding side, BOS), and the fixture
    # is shared by the whole session.
    cfg = TransformerBridgeConfig(**fields)
    bridge = TransformerBridge.boot_native(cfg, tokenizer=copy.deepcopy(tokenizer))
    # Default init gives near-uniform attention, which would hide a wrong scale or rotary.
    with torch.no_grad():
        for name, p in bridge.named_parameters():
            if name.endswith(("q.weight", "k.weight")):
                p.normal_(0, 0.3)
    return bridge.eval()


def tl_patterns(bridge, text):
    _, cache = bridge.run_with_cache(text, names_filter=lambda n: n.endswith("hook_pattern"))
    return [cache[f"blocks.{i}.attn.hook_pattern"][0] for i in range(bridge.cfg.n_layers)]


def max_error_and_peak(cap, bridge, texts):
    worst, peaks = 0.0, []
    for seq, text in enumerate(texts):
        for layer, ref in enumerate(tl_patterns(bridge, text)):
            ref = ref.float().numpy()
            peaks.append(ref.max(-1).mean())
            for head in range(cap.n_heads):
                got = cap.attention(layer, head, seq)
                worst = max(worst, float(np.abs(got - ref[head]).max()))
    return worst, float(np.mean(peaks))


@pytest.mark.parametrize(
    "config",
    [
        dict(positional_embedding_type="standard"),  # GPT-2 style: learned positions
        dict(positional_embedding_type="rotary", n_key_value_heads=2),  # rotary + GQA
    ],
    ids=["gpt2-style", "rotary-gqa"],
)
def test_attention_equals_hook_pattern(config, gpt2_tokenizer):
    bridge = native_bridge(gpt2_tokenizer, **config)
    cap = av.from_transformer_lens(bridge, TEXTS, dtype="float32", progress=False)
    assert (cap.n_layers, cap.n_heads, cap.d_head, cap.mask) == (2, 4, 16, "causal")
    assert cap.n_kv_heads == config.get("n_key_value_heads", 4)
    worst, peak = max_error_and_peak(cap, bridge, TEXTS)
    assert peak > 0.4  # far from uniform (1/n), so a wrong scale or rotary would show
    assert worst < 1e-4  # fp32 both sides, different matmul order: float rounding only


def test_tokens_follow_the_bridge(gpt2_tokenizer):
    bridge = native_bridge(gpt2_tokenizer)
    cap = av.from_transformer_lens(
        bridge, TEXTS[:2], metadata={"label": ["a", "b"]}, progress=False
    )
    first = bridge.to_tokens(TEXTS[0])[0].tolist()
    rows = cap.tokens[cap.tokens.seq == 0]
    assert rows.token_id.tolist() == first  # BOS prepended as the bridge does
    assert set(cap.tokens.label) == {"a", "b"}
    assert cap.dtype == "float16"


def test_rotary_queries_are_rotated(gpt2_tokenizer):
    """The capture holds Q after rotary, not hook_q: position changes the query of a token."""
    bridge = native_bridge(gpt2_tokenizer, positional_embedding_type="rotary")
    cap = av.from_transformer_lens(bridge, ["the the the"], dtype="float32", progress=False)
    _, cache = bridge.run_with_cache("the the the")
    pre = cache["blocks.0.attn.hook_q"][0].transpose(0, 1)[0].numpy()  # head 0, pre-rotary
    q, _ = cap.qk(0, 0)
    assert np.allclose(q[0], pre[0], atol=1e-5)  # position 0: rotation by angle 0
    assert not np.allclose(q[2], pre[2], atol=1e-3)


def test_hf_backed_bridge_uses_post_rotary_hooks(gpt2_tokenizer):
    from transformer_lens.model_bridge.sources._bridge_builder import build_bridge_from_module
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=30522,
        initializer_range=0.2,
    )
    hf = LlamaForCausalLM(cfg).eval()
    bridge = build_bridge_from_module(
        hf, "LlamaForCausalLM", hf_config=cfg, tokenizer=gpt2_tokenizer
    )
    cap = av.from_transformer_lens(bridge, TEXTS, dtype="float32", progress=False)
    worst, peak = max_error_and_peak(cap, bridge, TEXTS)
    assert peak > 0.3
    assert worst < 1e-4  # fp32 both sides: rounding only


def test_soft_capped_scores_are_refused(gpt2_tokenizer):
    bridge = native_bridge(gpt2_tokenizer, attn_scores_soft_cap=30.0)
    with pytest.raises(UnsupportedModelError, match="soft-capped"):
        av.from_transformer_lens(bridge, TEXTS[:1], progress=False)


def test_other_objects_are_refused():
    with pytest.raises(TypeError, match="TransformerBridge"):
        av.from_transformer_lens(object(), ["hi"])


def test_missing_transformer_lens_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformer_lens", None)  # import now fails
    with pytest.raises(ImportError, match=r"attentionviz\[transformer-lens\]"):
        av.from_transformer_lens(object(), ["hi"])
