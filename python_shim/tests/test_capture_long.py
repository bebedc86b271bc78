"""Long contexts (issue #16): ``positions=`` (sampled query positions, keys complete),
``heads=``, the memory estimate (``dry_run=True``) and the refusal of a capture that
would not fit in RAM, on a 4,096-token sequence of a tiny random Llama."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TEXTS, reference_attentions, tiny_model

import attentionviz as av
from attentionviz.models import memory

N = 4096


def long_llama():
    # 2 heads sharing 1 kv head keep the model's own [heads, 4096, 4096] weights small
    return tiny_model(
        "llama", hidden_size=32, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
        max_position_embeddings=N,
    )  # fmt: skip


@pytest.fixture(scope="module")
def long_text(gpt2_tokenizer):
    words = ("the cat sat on a mat and looked at " * 600).split()
    text = " ".join(words[: N - 2])  # + [CLS] and [SEP]
    assert len(gpt2_tokenizer(text)["input_ids"]) == N
    return text


def stored_bytes(cap):
    return sum(cap.store.q(i).nbytes + cap.store.k(i).nbytes for i in range(cap.n_layers))


def test_sampled_positions_of_4096_tokens(gpt2_tokenizer, long_text):
    model = long_llama()
    kw = dict(positions=64, dtype="float32", batch_size=1, progress=False)
    est = av.capture(model, gpt2_tokenizer, [long_text], dry_run=True, **kw)
    assert isinstance(est, memory.MemoryEstimate) and est.n_tokens == N
    cap = av.capture(model, gpt2_tokenizer, [long_text], **kw)
    # shapes: Q of the 64 sampled rows, K of every row
    assert cap.sampled and len(cap.query_rows) == 64 and cap.n_tokens == N
    q, k = cap.qk(1, 0)
    assert q.shape == (64, 16) and k.shape == (N, 16)
    assert cap.query_rows[0] == 0 and cap.query_rows[-1] == N - 1
    assert cap.tokens["has_query"].sum() == 64
    # the estimate, made before the run, within 10% of the bytes the capture holds
    real = stored_bytes(cap)
    assert abs(est.stored - real) <= 0.1 * real, (est.stored, real)
    # exactness of the sampled rows against the model's own attention (eager, 4096 x 4096)
    inputs = dict(gpt2_tokenizer([long_text], return_tensors="pt"))
    inputs.pop("token_type_ids", None)
    ref = reference_attentions(model, inputs)
    for layer in range(cap.n_layers):
        for head in range(cap.n_heads):
            got = cap.attention(layer, head, 0)
            want = ref[layer][0, head][torch.as_tensor(cap.query_rows)].numpy()
            assert got.shape == (64, N)
            assert np.abs(got - want).max() < 1e-4


def test_explicit_positions_and_file_round_trip(gpt2_tokenizer, tmp_path):
    model = tiny_model("llama")
    picks = [[0, -1], [1, 2, 3], [0], [5, 0, 5]]
    av.capture(model, gpt2_tokenizer, TEXTS, positions=picks, dtype="float32",
                     out=tmp_path / "s.attnviz", progress=False)  # fmt: skip
    full = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    t = full.tokens
    rows = [t.index[(t.seq == s) & (t.pos.isin([p % (t.seq == s).sum() for p in ps]))]
            for s, ps in enumerate(picks)]  # fmt: skip
    want_rows = np.concatenate([r.to_numpy() for r in rows])
    back = av.load(tmp_path / "s.attnviz")
    np.testing.assert_array_equal(back.query_rows, want_rows)
    for layer, head in ((0, 0), (1, 3)):
        q, k = back.qk(layer, head)
        fq, fk = full.qk(layer, head)
        np.testing.assert_allclose(q, fq[want_rows], atol=1e-6)  # same forward, same numbers
        np.testing.assert_allclose(k, fk, atol=1e-6)


def test_heads_subset_keeps_those_heads(gpt2_tokenizer):
    model = tiny_model("llama")  # 4 query heads over 2 kv heads
    full = av.capture(model, gpt2_tokenizer, TEXTS, dtype="float32", progress=False)
    sub = av.capture(model, gpt2_tokenizer, TEXTS, heads=[(1, 3), (1, 0)], dtype="float32",
                     progress=False)  # fmt: skip
    assert sub.layer_ids == [1] and sub.n_heads == 2 and sub.manifest["extra"]["head_ids"] == [0, 3]
    for j, h in enumerate([0, 3]):
        q, k = sub.qk(0, j)
        fq, fk = full.qk(1, h)
        np.testing.assert_allclose(q, fq, atol=1e-6)
        np.testing.assert_allclose(k, fk, atol=1e-6)
        np.testing.assert_allclose(sub.attention(0, j, 3), full.attention(1, h, 3), atol=1e-6)
    est = av.capture(model, gpt2_tokenizer, TEXTS, heads=[(1, 3), (1, 0)], dtype="float32",
                     dry_run=True)  # fmt: skip
    assert est.stored == stored_bytes(sub)
    with pytest.raises(IndexError, match="4 heads"):
        av.capture(model, gpt2_tokenizer, TEXTS, heads=[7], progress=False)


def test_capture_that_does_not_fit_is_refused_or_streams(gpt2_tokenizer, tmp_path, monkeypatch):
    model = tiny_model("llama")
    est = av.capture(model, gpt2_tokenizer, TEXTS, dry_run=True)
    monkeypatch.setattr(memory, "available_memory", lambda: est.batch_peak + est.stored // 2)
    with pytest.raises(MemoryError, match=r"would not fit in RAM.*Q/K .* MiB in memory.*out="):
        av.capture(model, gpt2_tokenizer, TEXTS, progress=False)
    cap = av.capture(model, gpt2_tokenizer, TEXTS, progress=False, out=tmp_path / "x.attnviz")
    assert cap.n_tokens == est.n_tokens  # streamed to the file: only one batch in RAM


def test_bad_positions(gpt2_tokenizer):
    model = tiny_model("llama")
    with pytest.raises(ValueError, match=r"positions\[1\] has positions outside"):
        av.capture(model, gpt2_tokenizer, TEXTS[:2], positions=[[0], [99]], progress=False)
    with pytest.raises(ValueError, match="positions must be >= 1"):
        av.capture(model, gpt2_tokenizer, TEXTS[:2], positions=0, progress=False)


def test_widget_refuses_a_sampled_capture_by_name(gpt2_tokenizer):
    cap = av.capture(tiny_model("llama"), gpt2_tokenizer, TEXTS, positions=2, progress=False)
    with pytest.raises(ValueError, match="sampled query positions"):
        av.AttentionViz(cap)
