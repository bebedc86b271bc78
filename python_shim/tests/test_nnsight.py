"""A model wrapped by nnsight captures exactly as the transformers model it holds, and the
wrapper keeps working for nnsight traces afterwards (tiny random config, MiniLM tokenizer)."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

pytest.importorskip("nnsight")
import torch
from conftest import TEXTS, max_attention_error, peakiness, reference_attentions, tiny_model

import attentionviz as av


def language_model(kind, tokenizer):
    """nnsight's LanguageModel around a tiny random causal LM (it wants an LM head). It
    gets a copy of the tokenizer: LanguageModel sets padding_side="left" on the one it is
    given, which would leak into the session-wide fixture."""
    from nnsight import LanguageModel
    from transformers import GPT2LMHeadModel, LlamaForCausalLM

    bare = tiny_model(kind)  # its config: tiny, peaked attention (initializer_range 0.2)
    cls = {"gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM}[kind]
    torch.manual_seed(0)
    return LanguageModel(cls(bare.config).eval(), tokenizer=copy.deepcopy(tokenizer))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_wrapped_model_captures_as_the_bare_model(kind, gpt2_tokenizer):
    lm = language_model(kind, gpt2_tokenizer)
    bare = lm._module
    wrapped = av.capture(lm, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    direct = av.capture(bare, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    assert (wrapped.n_layers, wrapped.n_heads, wrapped.mask) == (2, 4, "causal")
    for layer in range(direct.n_layers):
        for head in range(direct.n_heads):
            for a, b in zip(wrapped.qk(layer, head), direct.qk(layer, head), strict=True):
                np.testing.assert_array_equal(a, b)  # the same model run: bit-identical
    assert wrapped.tokens.equals(direct.tokens)
    # and it is right: the model's own attention probabilities
    enc = dict(gpt2_tokenizer(TEXTS, return_tensors="pt", padding=True))
    attentions = reference_attentions(bare, {**enc, "use_cache": False})
    lengths = enc["attention_mask"].sum(1).tolist()
    assert peakiness(attentions) > 0.4  # far from uniform: a wrong scale would show
    assert max_attention_error(wrapped, attentions, lengths) < 1e-4  # fp32: rounding only
    # from_nnsight uses the wrapper's (left-padding) tokenizer; capture pads on its own
    via_helper = av.from_nnsight(lm, TEXTS, dtype="float32", progress=False)
    np.testing.assert_array_equal(via_helper.qk(1, 3)[1], direct.qk(1, 3)[1])


def test_generic_nnsight_wrapper_captures(gpt2_tokenizer):
    from nnsight import NNsight

    bare = tiny_model("gpt2")
    wrapped = av.capture(NNsight(bare), gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    direct = av.capture(bare, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    np.testing.assert_array_equal(wrapped.qk(1, 2)[0], direct.qk(1, 2)[0])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_nnsight_trace_still_works_after_capture(gpt2_tokenizer):
    lm = language_model("llama", gpt2_tokenizer)
    with lm.trace("The cat sat on the mat."):
        before = lm.model.layers[0].output[0].save()
    av.from_nnsight(lm, TEXTS[:2], progress=False)
    with lm.trace("The cat sat on the mat."):
        after = lm.model.layers[0].output[0].save()
    assert torch.equal(before, after)


def test_from_nnsight_refuses_other_objects():
    with pytest.raises(TypeError, match="nnsight model"):
        av.from_nnsight(object(), ["hi"])


def test_missing_nnsight_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nnsight", None)
    with pytest.raises(ImportError, match=r"attentionviz\[nnsight\]"):
        av.from_nnsight(object(), ["hi"])
