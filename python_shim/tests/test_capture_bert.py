"""Correctness contract for BERT with the real all-MiniLM-L6-v2 weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import (
    TEXTS,
    max_attention_error,
    model_state,
    peakiness,
    reference_attentions,
)

import attentionviz as av


@pytest.fixture(scope="module")
def bert_capture(minilm):
    model, tok = minilm
    return av.capture(model, tok, TEXTS, dtype="float32", batch_size=3, progress=False)


def test_attention_matches_model(minilm, bert_capture):
    model, tok = minilm
    enc = tok(TEXTS, padding=True, return_tensors="pt")  # one padded batch (capture used 3+1)
    lengths = enc["attention_mask"].sum(1).tolist()
    ref = reference_attentions(model, dict(enc))
    assert peakiness(ref) > 0.3
    err = max_attention_error(bert_capture, ref, lengths)
    print(f"\nmax abs attention error BERT (MiniLM, fp32): {err:.3e}")
    assert err < 1e-4


def test_token_table(minilm, bert_capture):
    _, tok = minilm
    t = bert_capture.tokens
    assert isinstance(t.index, pd.RangeIndex) and t.index[0] == 0
    assert list(t.columns[:7]) == ["text", "raw", "seq", "pos", "pos_norm", "token_id", "special"]
    assert len(t) == sum(len(tok(x)["input_ids"]) for x in TEXTS)  # no padding rows
    assert t.groupby("seq").size().tolist() == [len(tok(x)["input_ids"]) for x in TEXTS]
    first = t[t.seq == 0]
    assert first.text.tolist()[:3] == ["[CLS]", "the", "cat"]
    assert first.special.tolist()[0] and not first.special.tolist()[1]
    assert first.pos_norm.iloc[0] == 0.0 and first.pos_norm.iloc[-1] == 1.0
    assert (t.pos_norm.between(0, 1)).all()
    pieces = t[t.raw.str.startswith("##")]
    assert len(pieces) and (pieces.text == pieces.raw.str[2:]).all()


def test_shapes_and_metadata(minilm, bert_capture):
    cap = bert_capture
    assert (cap.n_layers, cap.n_heads, cap.n_kv_heads, cap.d_head) == (6, 12, 12, 32)
    assert cap.mask == "bidirectional" and cap.scale == pytest.approx(32**-0.5)
    assert cap.architecture == "BertModel"
    q, k = cap.qk(5, 11)
    assert q.shape == k.shape == (len(cap.tokens), 32) and q.dtype == np.float32


def test_user_metadata_broadcast(minilm):
    model, tok = minilm
    meta = pd.DataFrame({"label": ["a", "b", "c", "d"], "score": [1.0, 2.0, 3.0, 4.0]})
    cap = av.capture(model, tok, TEXTS, metadata=meta, progress=False)
    t = cap.tokens
    assert (t.groupby("seq").label.first().tolist()) == ["a", "b", "c", "d"]
    assert (t[t.seq == 3].score == 4.0).all()
    cap2 = av.capture(model, tok, TEXTS[:2], metadata={"label": ["x", "y"]}, progress=False)
    assert cap2.tokens.label.tolist()[0] == "x"


def test_fp16_default_close_to_fp32(minilm, bert_capture):
    model, tok = minilm
    cap16 = av.capture(model, tok, TEXTS, progress=False)
    assert cap16.dtype == "float16"
    q16, _ = cap16.qk(2, 3)
    q32, _ = bert_capture.qk(2, 3)
    assert np.abs(q16 - q32).max() < 1e-2 * max(1.0, np.abs(q32).max())


def test_model_left_as_it_was(minilm):
    model, tok = minilm
    model.train()  # user state the capture must not change
    model.encoder.layer[0].eval()
    before = model_state(model)
    av.capture(model, tok, TEXTS[:2], progress=False)
    assert model_state(model) == before
    model.eval()


def test_layer_subset(minilm, bert_capture):
    model, tok = minilm
    cap = av.capture(model, tok, TEXTS, layers=[4, 1], dtype="float32", progress=False)
    assert cap.n_layers == 2 and cap.layer_ids == [1, 4]
    # Not bitwise: this capture runs the 4 texts as one batch (default batch_size 16),
    # bert_capture as 3 + 1, so the matrix products have other shapes and the CPU's BLAS
    # blocks (sums) them in another order. After 5 layers of fp32 rounding, Q values of
    # size ~1-3 differ by a few ulps (3.6e-6 measured on an AVX-512 CPU); 1e-5 leaves ~3x
    # headroom while a wrong layer (differences of order 1) still fails.
    np.testing.assert_allclose(cap.qk(1, 7)[0], bert_capture.qk(4, 7)[0], rtol=0, atol=1e-5)


def test_stream_to_file_equals_memory(minilm, bert_capture, tmp_path):
    model, tok = minilm
    path = tmp_path / "bert.attnviz"
    cap = av.capture(model, tok, TEXTS, dtype="float32", batch_size=2, out=path, progress=False)
    assert path.exists()
    loaded = av.load(path)
    for c in (cap, loaded):
        pd.testing.assert_frame_equal(c.tokens, bert_capture.tokens)
        for layer in (0, 5):
            np.testing.assert_allclose(c.qk(layer, 2)[0], bert_capture.qk(layer, 2)[0], atol=1e-5)
