"""``check=`` (issue #16, cost): the exactness check runs eager attention on the checked
batches; the others run the model's own fast attention (SDPA) and only Q/K are copied."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TEXTS, tiny_model

import attentionviz as av
from attentionviz.core.errors import UnsupportedModelError
from attentionviz.models import recorder


def counting_delegate(monkeypatch):
    calls: list[int] = []
    real = recorder.own_attention

    def patched(model):
        fn = real(model)
        assert fn is not None, "the tiny model runs SDPA outside the capture"

        def wrapped(*args, **kwargs):
            calls.append(1)
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(recorder, "own_attention", patched)
    return calls


@pytest.mark.parametrize(("check", "fast_calls"), [("first", 3 * 2), ("all", 0), ("none", 4 * 2)])
def test_which_batches_run_the_fast_attention(check, fast_calls, gpt2_tokenizer, monkeypatch):
    calls = counting_delegate(monkeypatch)
    model = tiny_model("llama")
    cap = av.capture(model, gpt2_tokenizer, TEXTS, batch_size=1, dtype="float32", check=check,
                     progress=False)  # fmt: skip
    assert len(calls) == fast_calls  # 4 batches x 2 layers
    ref = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", check="all", progress=False)
    for layer in range(2):
        # layer 1's input went through SDPA instead of eager in layer 0: float rounding only
        np.testing.assert_allclose(cap.qk(layer, 1)[0], ref.qk(layer, 1)[0], atol=1e-5)


def test_check_catches_a_model_that_changes_its_scores(gpt2_tokenizer, monkeypatch):
    real = recorder.eager_for

    def skewed_eager(module):
        eager = real(module)
        return lambda *a, scaling=None, **k: eager(*a, scaling=scaling * 1.5, **k)

    monkeypatch.setattr(recorder, "eager_for", skewed_eager)
    model = tiny_model("llama")
    with pytest.raises(UnsupportedModelError, match="differ from"):
        av.capture(model, gpt2_tokenizer, TEXTS, progress=False)
    # check="none" trusts the model: nothing is compared (the documented trade-off)
    av.capture(model, gpt2_tokenizer, TEXTS, check="none", progress=False)


def test_bad_check(gpt2_tokenizer):
    with pytest.raises(ValueError, match="check must be one of"):
        av.capture(tiny_model("llama"), gpt2_tokenizer, TEXTS, check="some", progress=False)
