"""Generation capture: Q/K recorded through the KV cache while ``model.generate`` runs.

Contract: for every token (prompt and generated), softmax(q K^T * scale) over the keys it
could see equals the model's own attention at that decode step (eager,
``output_attentions=True``) within 1e-4 in fp32, for GPT-2, Llama (RoPE + GQA) and Qwen2,
with left-padded batches; the generated ids are exactly ``model.generate``'s.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import TEXTS, TINY

import attentionviz as av

PROMPTS = TEXTS  # four prompts of different lengths: left padding in every batch
N_NEW = 6


def tiny_lm(kind: str, **overrides):
    """A tiny random causal LM (with its head, so it can generate), peaked attention."""
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    torch.manual_seed(0)
    if kind == "gpt2":
        cfg = GPT2Config(vocab_size=30522, n_embd=64, n_layer=2, n_head=4, n_positions=128)
        cls = GPT2LMHeadModel
    else:
        cfg_cls, cls = {
            "llama": (LlamaConfig, LlamaForCausalLM),
            "qwen2": (Qwen2Config, Qwen2ForCausalLM),
        }[kind]
        cfg = cfg_cls(**TINY, vocab_size=30522, num_key_value_heads=2, max_position_embeddings=256)
    cfg.initializer_range = 0.2  # default init gives near-uniform attention (hides errors)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cls(cfg).eval()


def left_padded(tok, prompts):
    enc = tok(list(prompts), padding=True, padding_side="left", return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def reference_generate(model, tok, prompts, eager=True, **kw):
    """``model.generate`` on the same left-padded prompts; with ``eager`` its attention
    weights at every step (eager attention), else with the model's own default (SDPA)."""
    ids, mask = left_padded(tok, prompts)
    before = model.config._attn_implementation
    if eager:
        model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=N_NEW,
                pad_token_id=tok.pad_token_id,
                output_attentions=eager,
                return_dict_in_generate=True,
                **kw,
            )
    finally:
        model.set_attn_implementation(before)
    return ids, mask, out


def generated_ids(cap, seq):
    t = cap.tokens
    return t[(t.seq == seq) & t.generated].token_id.tolist()


@pytest.mark.parametrize("kind", ["gpt2", "llama", "qwen2"])
def test_decode_step_attention_matches_model(kind, gpt2_tokenizer):
    tok = gpt2_tokenizer
    model = tiny_lm(kind)
    cap = av.capture_generate(
        model, tok, PROMPTS, max_new_tokens=N_NEW, dtype="float32", batch_size=4, progress=False
    )
    ids, mask, out = reference_generate(model, tok, PROMPTS)
    width = ids.shape[1]
    assert len(out.attentions) == N_NEW  # prefill + N_NEW - 1 decode steps
    worst, peak, checked = 0.0, [], 0
    for seq in range(len(PROMPTS)):
        real = mask[seq].bool()
        n_prompt = int(real.sum())
        assert generated_ids(cap, seq) == out.sequences[seq, width:].tolist()
        for layer in range(cap.n_layers):
            for head in range(cap.n_heads):
                got = cap.attention(layer, head, seq)
                # prompt rows: the prefill pass, real columns only
                pre = out.attentions[0][layer][seq, head][real][:, real].numpy()
                worst = max(worst, float(np.abs(got[:n_prompt, :n_prompt] - pre).max()))
                # generated token i is fed at decode step i + 1 and sees every real key so far
                for i in range(N_NEW - 1):
                    row = out.attentions[i + 1][layer][seq, head, 0]
                    keys = torch.cat([real, torch.ones(i + 1, dtype=torch.bool)])
                    ref = row[keys].numpy()
                    n = n_prompt + i + 1
                    worst = max(worst, float(np.abs(got[n_prompt + i, :n] - ref).max()))
                    peak.append(float(ref.max()))
                    checked += 1
    print(f"\nmax abs decode-step attention error {kind} (fp32): {worst:.3e}")
    assert checked == len(PROMPTS) * cap.n_layers * cap.n_heads * (N_NEW - 1)
    assert np.mean(peak) > 0.3  # far from uniform: a wrong scale or rotary would show
    assert worst < 1e-4


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_last_token_and_cache_match_a_full_forward(kind, gpt2_tokenizer):
    """The last generated token (fed once more through the cache) and every cached Q/K
    agree with one forward pass over the finished text (tolerance: a different
    computation order in fp32, 1e-4 on attention weights)."""
    from conftest import reference_attentions

    tok = gpt2_tokenizer
    model = tiny_lm(kind)
    cap = av.capture_generate(
        model, tok, PROMPTS[:2], max_new_tokens=N_NEW, dtype="float32", progress=False
    )
    for seq in range(2):
        t = cap.tokens[cap.tokens.seq == seq]
        full = torch.tensor([t.token_id.tolist()])
        ref = reference_attentions(model, {"input_ids": full})
        for layer in range(cap.n_layers):
            for head in range(cap.n_heads):
                got = cap.attention(layer, head, seq)
                np.testing.assert_allclose(got, ref[layer][0, head].numpy(), atol=1e-4)


def test_seeded_sampling_gives_generates_ids_and_text(gpt2_tokenizer):
    tok = gpt2_tokenizer
    model = tiny_lm("llama")
    kw = dict(do_sample=True, top_k=50, temperature=1.3)
    torch.manual_seed(7)
    cap = av.capture_generate(
        model, tok, PROMPTS, max_new_tokens=N_NEW, batch_size=4, progress=False, **kw
    )
    torch.manual_seed(7)
    ids, _, out = reference_generate(model, tok, PROMPTS, eager=False, **kw)
    width = ids.shape[1]
    texts = cap.manifest["extra"]["generated_text"]
    for seq in range(len(PROMPTS)):
        expected = out.sequences[seq, width:].tolist()
        assert generated_ids(cap, seq) == expected
        assert texts[seq] == tok.decode(expected, skip_special_tokens=True)
    # sampled, not greedy: another seed gives other tokens
    torch.manual_seed(8)
    other = av.capture_generate(model, tok, PROMPTS[:1], max_new_tokens=N_NEW, progress=False, **kw)
    assert generated_ids(other, 0) != generated_ids(cap, 0)


def test_padding_does_not_change_a_prompts_capture(gpt2_tokenizer):
    """Batched with longer prompts (left padding) or alone: same tokens, same Q/K (tolerance:
    padded batches change matmul shapes, fp32)."""
    tok = gpt2_tokenizer
    model = tiny_lm("qwen2")
    batched = av.capture_generate(
        model, tok, PROMPTS, max_new_tokens=N_NEW, dtype="float32", batch_size=4, progress=False
    )
    alone = av.capture_generate(
        model, tok, [PROMPTS[2]], max_new_tokens=N_NEW, dtype="float32", progress=False
    )
    rows = (batched.tokens.seq == 2).to_numpy()
    assert batched.tokens[rows].token_id.tolist() == alone.tokens.token_id.tolist()
    for layer in range(2):
        q_b, k_b = batched.qk(layer, 1)
        q_a, k_a = alone.qk(layer, 1)
        np.testing.assert_allclose(q_b[rows], q_a, atol=1e-4)
        np.testing.assert_allclose(k_b[rows], k_a, atol=1e-4)


def test_token_table_marks_generated_tokens_and_steps(gpt2_tokenizer):
    tok = gpt2_tokenizer
    cap = av.capture_generate(
        tiny_lm("llama"), tok, PROMPTS[:2], max_new_tokens=N_NEW, progress=False
    )
    t = cap.tokens
    for seq in range(2):
        s = t[t.seq == seq]
        n_prompt = len(tok(PROMPTS[seq])["input_ids"])
        assert s.generated.tolist() == [False] * n_prompt + [True] * N_NEW
        assert s.step.tolist() == [-1] * n_prompt + list(range(N_NEW))
        assert s.pos.tolist() == list(range(n_prompt + N_NEW))
    assert cap.mask == "causal" and len(cap) == len(t)


def test_generation_stops_at_end_of_sequence(gpt2_tokenizer):
    """Tokens generate emits after a sequence's EOS (padding) are not in the table."""
    tok = gpt2_tokenizer
    model = tiny_lm("llama")
    free = av.capture_generate(model, tok, PROMPTS[:2], max_new_tokens=N_NEW, progress=False)
    eos = generated_ids(free, 0)[2]  # make seq 0's third new token the end of sequence
    cap = av.capture_generate(
        model, tok, PROMPTS[:2], max_new_tokens=N_NEW, eos_token_id=eos, progress=False
    )
    assert generated_ids(cap, 0) == generated_ids(free, 0)[:3]
    n1 = generated_ids(free, 1)
    assert generated_ids(cap, 1) == n1[: n1.index(eos) + 1] if eos in n1 else n1


def test_refusals_name_the_problem(gpt2_tokenizer):
    tok = gpt2_tokenizer
    model = tiny_lm("llama")
    with pytest.raises(av.UnsupportedModelError, match="num_beams"):
        av.capture_generate(model, tok, PROMPTS[:1], max_new_tokens=2, num_beams=2, progress=False)
    with pytest.raises(av.UnsupportedModelError, match="cache_implementation"):
        av.capture_generate(
            model, tok, PROMPTS[:1], max_new_tokens=2, cache_implementation="static", progress=False
        )
    from conftest import tiny_model

    with pytest.raises(TypeError, match="can generate"):
        av.capture_generate(tiny_model("llama"), tok, PROMPTS[:1], progress=False)
    with pytest.raises(ValueError, match="max_new_tokens"):
        av.capture_generate(model, tok, PROMPTS[:1], max_new_tokens=0, progress=False)
    with pytest.raises(ValueError, match="exactly one of prompts"):
        av.capture_generate(model, tok, progress=False)
    with pytest.raises(ValueError, match="single string"):
        av.capture_generate(model, tok, "hello", progress=False)


def test_model_is_left_as_it_was(gpt2_tokenizer):
    from conftest import model_state

    model = tiny_lm("gpt2")
    before = model_state(model)
    av.capture_generate(model, gpt2_tokenizer, PROMPTS[:1], max_new_tokens=2, progress=False)
    assert model_state(model) == before


# --- chat prompts --------------------------------------------------------------------------

TEMPLATE = (
    "{% for m in messages %}[CLS] {{ m['role'] }} : {{ m['content'] }} [SEP] {% endfor %}"
    "{% if add_generation_prompt %}[CLS] assistant :{% endif %}"
)
CHAT = [
    {"role": "system", "content": "you answer briefly"},
    {"role": "user", "content": "where is the cat"},
]


@pytest.fixture
def chat_tokenizer(minilm_path):
    """MiniLM's tokenizer with a chat template set (BERT has none of its own)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_path)
    tok.chat_template = TEMPLATE
    return tok


def test_chat_messages_mark_role_and_template(chat_tokenizer):
    tok = chat_tokenizer
    cap = av.capture_generate(
        tiny_lm("llama"), tok, messages=[CHAT, CHAT[1:]], max_new_tokens=3, progress=False
    )
    t = cap.tokens
    for seq, conv in enumerate([CHAT, CHAT[1:]]):
        s = t[t.seq == seq]
        prompt = s[~s.generated]
        # the prompt is exactly what the template renders, as apply_chat_template tokenizes it
        expected = tok.apply_chat_template(
            conv, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        assert prompt.token_id.tolist() == list(expected)
        for m in conv:  # each message's content: its role, not markup
            content = prompt[(prompt.role == m["role"]) & ~prompt.template].text.tolist()
            assert content == m["content"].split()
        markup = prompt[prompt.template]
        assert set(markup.text) == {"[CLS]", "[SEP]", ":", "system", "user", "assistant"} - (
            set() if seq == 0 else {"system"}
        )
        # the generation prompt "[CLS] assistant :" closes the prompt, as assistant markup
        assert prompt.role.tolist()[-3:] == ["assistant"] * 3
        assert prompt.template.tolist()[-3:] == [True] * 3
        gen = s[s.generated]
        assert len(gen) == 3 and (gen.role == "assistant").all()
    assert set(t.role) == {"system", "user", "assistant"}


def test_chat_needs_a_template(gpt2_tokenizer):
    model = tiny_lm("llama")
    with pytest.raises(ValueError, match="no chat template"):
        av.capture_generate(model, gpt2_tokenizer, messages=[CHAT], progress=False)
    with pytest.raises(ValueError, match="role"):
        av.capture_generate(model, gpt2_tokenizer, messages=[[{"content": "x"}]], progress=False)


def test_widget_colours_by_role_and_generated(chat_tokenizer):
    """color_by takes any token-table column: the new ones reach the view in its token table."""
    import pyarrow as pa

    cap = av.capture_generate(
        tiny_lm("llama"), chat_tokenizer, messages=[CHAT], max_new_tokens=3, progress=False
    )
    viz = av.AttentionViz(cap, head=(0, 0), color_by="role")
    assert viz.color_by == "role"
    viz.color_by = "generated"
    sent = pa.ipc.open_stream(cap.tokens_ipc()).read_all()
    assert sent.column("role").to_pylist() == cap.tokens.role.tolist()
    assert sent.column("generated").to_pylist() == cap.tokens.generated.tolist()


def test_layers_and_metadata(gpt2_tokenizer):
    """layers= keeps a subset (same Q/K as the full capture); metadata= reaches every token."""
    tok = gpt2_tokenizer
    model = tiny_lm("llama")
    kw = dict(max_new_tokens=3, dtype="float32", progress=False)
    full = av.capture_generate(model, tok, PROMPTS[:2], **kw)
    part = av.capture_generate(
        model, tok, PROMPTS[:2], layers=[1], metadata={"lang": ["a", "b"]}, **kw
    )
    assert part.layer_ids == [1] and part.n_layers == 1
    np.testing.assert_array_equal(part.qk(0, 2)[0], full.qk(1, 2)[0])
    assert part.tokens.groupby("seq").lang.first().tolist() == ["a", "b"]
    with pytest.raises(IndexError, match="out of range"):
        av.capture_generate(model, tok, PROMPTS[:1], layers=[5], **kw)
    with pytest.raises(ValueError, match="generation columns"):
        av.capture_generate(model, tok, PROMPTS[:1], metadata={"step": [1]}, **kw)


def test_chat_template_that_is_not_prefix_consistent(chat_tokenizer):
    """A template whose render of a conversation's start is not a prefix of the whole (here
    it opens with the message count): roles come from locating each content in order."""
    tok = chat_tokenizer
    tok.chat_template = "[CLS] {{ messages | length }} turns " + TEMPLATE
    cap = av.capture_generate(
        tiny_lm("llama"), tok, messages=[CHAT], max_new_tokens=2, progress=False
    )
    prompt = cap.tokens[~cap.tokens.generated]
    for m in CHAT:
        content = prompt[(prompt.role == m["role"]) & ~prompt.template].text.tolist()
        assert content == m["content"].split()
    assert prompt.text.tolist()[:4] == ["[CLS]", "2", "turns", "[CLS]"]
    assert prompt.template.tolist()[:4] == [True] * 4
