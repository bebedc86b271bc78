"""Value-vector norms |v_j| per head (value-weighted attention, Kobayashi et al. 2020):
checked against the model's own value projections, kept in .attnviz files, optional for
older files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TEXTS, tiny_model

import attentionviz as av

# fp32 throughout; the projection is recomputed on other batch shapes (other BLAS blocking),
# so values agree to rounding, not bit for bit.
RTOL, ATOL = 1e-4, 1e-5


def _real_rows(norms: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """``[batch, seq, heads]`` -> ``[heads, n_real]`` in token-table order."""
    return norms.detach()[mask.bool()].T.numpy()


def _projected(model, enc, modules, to_values) -> list[np.ndarray]:
    """|v| per head from what the model's own value projections output on ``enc``
    (forward hooks on ``modules``; ``to_values`` picks V ``[b, s, heads * d]`` from it)."""
    seen: dict[int, torch.Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda _m, _i, out, layer=layer: seen.__setitem__(layer, out))
        for layer, m in enumerate(modules)
    ]
    try:
        with torch.no_grad():
            model(**enc)
    finally:
        for hook in hooks:
            hook.remove()
    n_heads = model.config.num_attention_heads
    out = []
    for layer in range(len(modules)):
        v = to_values(seen[layer])
        b, s, _ = v.shape
        out.append(_real_rows(v.view(b, s, n_heads, -1).norm(dim=-1), enc["attention_mask"]))
    return out


def _bert_reference(model, enc) -> list[np.ndarray]:
    values = [block.attention.self.value for block in model.encoder.layer]
    return _projected(model, enc, values, lambda v: v)


def _gpt2_reference(model, enc) -> list[np.ndarray]:
    width = model.config.n_embd  # c_attn outputs [Q | K | V], each n_embd wide
    return _projected(
        model, enc, [b.attn.c_attn for b in model.h], lambda qkv: qkv[..., 2 * width :]
    )


def test_bert_value_norms_match_the_value_projection(minilm):
    model, tok = minilm
    cap = av.capture(model, tok, TEXTS, dtype="float32", batch_size=3, progress=False)
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    ref = _bert_reference(model, dict(enc))
    assert cap.has_value_norms
    for layer in range(cap.n_layers):
        for head in range(cap.n_heads):
            got = cap.value_norms(layer, head)
            assert got.shape == (cap.n_tokens,) and got.dtype == np.float32
            np.testing.assert_allclose(got, ref[layer][head], rtol=RTOL, atol=ATOL)
    # not a constant: norms differ between tokens, so weighting by them changes attention
    assert cap.value_norms(0, 0).std() > 0.05 * cap.value_norms(0, 0).mean()


def test_gpt2_value_norms_match_the_value_projection(gpt2_tokenizer):
    model = tiny_model("gpt2")
    texts = TEXTS[:3]
    cap = av.capture(model, gpt2_tokenizer, texts, dtype="float32", batch_size=2, progress=False)
    enc = gpt2_tokenizer(texts, padding=True, return_tensors="pt")
    # as capture runs it: with the tokenizer's token_type_ids (GPT-2 embeds them too)
    ref = _gpt2_reference(model, dict(enc))
    for layer in range(cap.n_layers):
        for head in range(cap.n_heads):
            np.testing.assert_allclose(
                cap.value_norms(layer, head), ref[layer][head], rtol=RTOL, atol=ATOL
            )


def test_value_norms_survive_the_file(tmp_path, gpt2_tokenizer):
    model = tiny_model("gpt2")
    cap = av.capture(model, gpt2_tokenizer, TEXTS[:2], dtype="float32", progress=False)
    streamed = av.capture(
        model,
        gpt2_tokenizer,
        TEXTS[:2],
        dtype="float32",
        progress=False,
        out=tmp_path / "s.attnviz",
    )
    cap.save(tmp_path / "a.attnviz")
    for loaded in (av.load(tmp_path / "a.attnviz"), streamed):
        assert loaded.has_value_norms
        np.testing.assert_array_equal(loaded.value_norms(1, 3), cap.value_norms(1, 3))
        q0, _ = cap.qk(1, 3)
        np.testing.assert_array_equal(loaded.qk(1, 3)[0], q0)  # Q/K unaffected by the new block
    both = av.load([tmp_path / "a.attnviz", tmp_path / "s.attnviz"])
    np.testing.assert_array_equal(
        both.value_norms(0, 1), np.concatenate([cap.value_norms(0, 1)] * 2)
    )


def _plain(n_tokens: int = 5, norms=None):
    import pandas as pd

    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 3, n_tokens, 4)).astype(np.float32)
    tokens = pd.DataFrame({"text": list("abcde")[:n_tokens], "seq": [0] * n_tokens})
    return av.Capture.from_arrays(
        tokens, q, q.copy(), scale=0.5, mask="bidirectional", value_norms=norms
    )


def test_files_without_value_norms_still_load(tmp_path):
    cap = _plain()
    cap.save(tmp_path / "old.attnviz")
    loaded = av.load(tmp_path / "old.attnviz")
    assert not loaded.has_value_norms
    with pytest.raises(ValueError, match="no value norms"):
        loaded.value_norms(0, 0)
    np.testing.assert_array_equal(loaded.qk(1, 2)[0], cap.qk(1, 2)[0])


def test_from_arrays_value_norms_are_checked(tmp_path):
    norms = np.abs(np.random.default_rng(1).normal(size=(2, 3, 5))).astype(np.float32)
    cap = _plain(norms=norms)
    np.testing.assert_array_equal(cap.value_norms(1, 2), norms[1, 2])
    cap.save(tmp_path / "n.attnviz")
    np.testing.assert_array_equal(av.load(tmp_path / "n.attnviz").value_norms(1, 2), norms[1, 2])
    with pytest.raises(ValueError, match=r"value_norms must be \[n_layers, n_heads, n_tokens\]"):
        _plain(norms=norms[:, :2])
    with pytest.raises(ValueError, match="finite and >= 0"):
        _plain(norms=-norms)


def test_the_widget_sends_the_shown_heads_norms_and_refuses_weighting_without_them():
    import traitlets

    norms = np.abs(np.random.default_rng(2).normal(size=(2, 3, 5))).astype(np.float32)
    viz = av.AttentionViz(_plain(norms=norms), head=(1, 2), weight_by_value=True)
    assert viz._qk_meta["value_norms"] is True
    np.testing.assert_array_equal(np.frombuffer(viz._value_norms, "<f4"), norms[1, 2])
    viz.head = (0, 1)
    np.testing.assert_array_equal(np.frombuffer(viz._value_norms, "<f4"), norms[0, 1])
    old = av.AttentionViz(_plain(), head=(0, 0))
    assert old._value_norms == b"" and old._qk_meta["value_norms"] is False
    with pytest.raises(traitlets.TraitError, match="weight_by_value needs value-vector norms"):
        old.weight_by_value = True
    with pytest.raises(traitlets.TraitError, match="weight_by_value needs value-vector norms"):
        av.AttentionViz(_plain(), weight_by_value=True)
