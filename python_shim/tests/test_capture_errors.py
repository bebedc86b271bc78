"""Inputs and models that must fail cleanly, naming the problem, leaving the model as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TEXTS, model_state, tiny_model

import attentionviz as av
from attentionviz.core.errors import UnsupportedModelError


def _assert_refused(model, tok, match: str, texts=TEXTS) -> None:
    before = model_state(model)
    with pytest.raises(UnsupportedModelError, match=match):
        av.capture(model, tok, texts, progress=False)
    assert model_state(model) == before


def test_alibi_refused(gpt2_tokenizer):
    from transformers import BloomConfig, BloomModel

    model = BloomModel(BloomConfig(vocab_size=30522, hidden_size=64, n_layer=2, n_head=4)).eval()
    _assert_refused(model, gpt2_tokenizer, "BloomModel.*ALiBi")


def test_relative_position_bias_refused(gpt2_tokenizer):
    from transformers import DebertaV2Config, DebertaV2Model

    cfg = DebertaV2Config(
        vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128, relative_attention=True,
    )  # fmt: skip
    _assert_refused(DebertaV2Model(cfg).eval(), gpt2_tokenizer, "DebertaV2Model.*relative position")


def test_not_routed_through_attention_interface_refused(gpt2_tokenizer):
    from transformers import GPTNeoConfig, GPTNeoModel

    cfg = GPTNeoConfig(
        vocab_size=30522, hidden_size=64, num_layers=2, num_heads=4,
        attention_types=[[["global"], 2]], max_position_embeddings=128,
    )  # fmt: skip
    _assert_refused(GPTNeoModel(cfg).eval(), gpt2_tokenizer, "GPTNeoModel.*AttentionInterface")


def test_sliding_window_is_recorded_not_refused(gpt2_tokenizer):
    model = tiny_model("mistral", sliding_window=4)  # TEXTS are longer than 4 tokens
    cap = av.capture(model, gpt2_tokenizer, TEXTS, progress=False)
    assert cap.mask == "causal" and cap.sliding_windows == {0: 4, 1: 4}
    cap = av.capture(model, gpt2_tokenizer, ["hi", "a b"], progress=False)  # <= window
    assert cap.sliding_windows == {0: 4, 1: 4}  # recorded either way: the model has it


def test_not_a_transformers_model(gpt2_tokenizer):
    with pytest.raises(TypeError, match="PreTrainedModel"):
        av.capture(torch.nn.Linear(2, 2), gpt2_tokenizer, ["x"], progress=False)


@pytest.mark.parametrize(
    ("texts", "match"),
    [
        ([], "texts is empty"),
        (["ok", "", "ok"], r"texts\[1\] is empty"),
        (["ok", "   "], r"texts\[1\] is empty"),
        ("a single string", "single string"),
        (["ok", 3], r"texts\[1\] is int"),
    ],
)
def test_bad_texts(minilm, texts, match):
    model, tok = minilm
    with pytest.raises(ValueError, match=match):
        av.capture(model, tok, texts, progress=False)


def test_nan_in_model_output_and_model_restored(gpt2_tokenizer):
    model = tiny_model("llama")
    with torch.no_grad():
        model.layers[1].self_attn.q_proj.weight[0, 0] = float("nan")
    model.train()
    before = model_state(model)
    with pytest.raises(ValueError, match="NaN/inf queries in layer 1"):
        av.capture(model, gpt2_tokenizer, TEXTS, progress=False)
    assert model_state(model) == before  # restored after the exception mid-forward


def test_float16_overflow_suggests_float32(gpt2_tokenizer):
    model = tiny_model("llama")
    with torch.no_grad():
        model.layers[0].self_attn.k_proj.weight.mul_(1e6)
    with pytest.raises(ValueError, match=r"overflow float16.*float32"):
        av.capture(model, gpt2_tokenizer, TEXTS[:1], progress=False)


def test_too_long_sequences(minilm):
    model, tok = minilm
    long_text = " ".join(["word"] * 600)
    with pytest.raises(ValueError, match=r"texts\[1\] has 602 tokens.*at most 512.*max_length"):
        av.capture(model, tok, ["short", long_text], progress=False)
    cap = av.capture(model, tok, ["short", long_text], max_length=16, progress=False)
    assert cap.tokens.groupby("seq").size().tolist() == [3, 16]
    with pytest.raises(ValueError, match="exceeds"):
        av.capture(model, tok, ["short"], max_length=1000, progress=False)


def test_bad_options(minilm):
    model, tok = minilm
    with pytest.raises(ValueError, match="dtype"):
        av.capture(model, tok, ["x"], dtype="int8", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        av.capture(model, tok, ["x"], batch_size=0, progress=False)
    with pytest.raises(IndexError, match=r"valid 0\.\.5"):
        av.capture(model, tok, ["x"], layers=[6], progress=False)
    with pytest.raises(ValueError, match="metadata has 1 rows but there are 2 inputs"):
        av.capture(model, tok, ["x", "y"], metadata={"a": [1]}, progress=False)
    with pytest.raises(ValueError, match=r"\[.pos.\] clash"):
        av.capture(model, tok, ["x"], metadata={"pos": [1]}, progress=False)


def test_head_and_layer_out_of_range(minilm):
    model, tok = minilm
    cap = av.capture(model, tok, ["hello world"], progress=False)
    with pytest.raises(IndexError, match=r"layer 6 out of range.*valid 0\.\.5"):
        cap.qk(6, 0)
    with pytest.raises(IndexError, match=r"head 12 out of range.*valid 0\.\.11"):
        cap.qk(0, 12)
    with pytest.raises(IndexError, match="head -1"):
        cap.attention(0, -1, 0)
    with pytest.raises(IndexError, match="seq 5"):
        cap.attention(0, 0, 5)


def _arrays(n_layers=2, n_heads=4, n_kv=4, n=5, d=8):
    rng = np.random.default_rng(0)
    tokens = pd.DataFrame({"text": list("abcde")[:n], "seq": [0, 0, 0, 1, 1][:n]})
    return (
        tokens,
        rng.standard_normal((n_layers, n_heads, n, d)).astype(np.float32),
        rng.standard_normal((n_layers, n_kv, n, d)).astype(np.float32),
    )


def test_from_arrays_validation():
    tokens, q, k = _arrays()
    ok = av.Capture.from_arrays(tokens, q, k, scale=0.5, mask="bidirectional")
    assert ok.n_heads == 4 and ok.tokens.pos.tolist() == [0, 1, 2, 0, 1]
    with pytest.raises(ValueError, match="4-D"):
        av.Capture.from_arrays(tokens, q[0], k, scale=0.5, mask="causal")
    with pytest.raises(ValueError, match="5 token rows but tokens has 4 rows"):
        av.Capture.from_arrays(tokens.iloc[:4], q, k, scale=0.5, mask="causal")
    with pytest.raises(ValueError, match="keys shape"):
        av.Capture.from_arrays(tokens, q, k[:, :, :, :4], scale=0.5, mask="causal")
    with pytest.raises(ValueError, match="not a multiple"):
        av.Capture.from_arrays(tokens, q, k[:, :3], scale=0.5, mask="causal")
    bad = q.copy()
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match=r"queries contain NaN/inf.*layer 1, head 2, token 3"):
        av.Capture.from_arrays(tokens, bad, k, scale=0.5, mask="causal")
    with pytest.raises(ValueError, match="keys contain NaN/inf"):
        av.Capture.from_arrays(tokens, q, np.full_like(k, np.inf), scale=0.5, mask="causal")
    with pytest.raises(ValueError, match="mask must be"):
        av.Capture.from_arrays(tokens, q, k, scale=0.5, mask="sliding")
    with pytest.raises(ValueError, match="scale"):
        av.Capture.from_arrays(tokens, q, k, scale=float("nan"), mask="causal")
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['seq'\]"):
        av.Capture.from_arrays(tokens[["text"]], q, k, scale=0.5, mask="causal")


def test_from_arrays_attention_contract():
    tokens, q, k = _arrays(n_kv=2)
    cap = av.Capture.from_arrays(tokens, q, k, scale=0.5, mask="causal")
    scores = q[1, 3, :3] @ k[1, 1, :3].T * 0.5 + np.triu(np.full((3, 3), -np.inf), 1)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(cap.attention(1, 3, 0), expected, rtol=1e-6)
