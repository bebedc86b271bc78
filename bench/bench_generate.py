"""Generation capture overhead, measured against plain ``model.generate`` in the same run.

``attentionviz.capture_generate`` (Q/K of every prompt and generated token, recorded through
the KV cache) vs ``model.generate`` with the model's default attention (SDPA) on the same
left-padded prompts, same greedy settings, same process. Model: a random Llama-style config
(RoPE + grouped-query attention; 4 layers, hidden 256, 8 heads / 4 kv heads) with MiniLM's
tokenizer, offline. Goal: <= 1.2x wall.

Prints figures; not a timed test. Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python_shim
.venv/bin/python bench/bench_generate.py [--prompts 16] [--new 32] [--repeat 3]
[--json FILE]``; ``--json`` also writes the figures for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import os

import _results
import torch
from bench_capture import interleaved_best

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--new", type=int, default=32, help="max_new_tokens")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures as JSON here (bench/run_all.py)")
    ap.add_argument("--mode", default="custom", help="label for the JSON: quick / full")
    args = ap.parse_args()
    started = _results.now()

    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    import attentionviz as av
    from attentionviz.corpus import make_sentences
    from attentionviz.demo import minilm_path

    tok = AutoTokenizer.from_pretrained(minilm_path())
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=tok.vocab_size,
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=4,
        max_position_embeddings=512,
    )
    model = LlamaForCausalLM(cfg).eval()
    prompts = make_sentences(args.prompts)
    kw = dict(max_new_tokens=args.new, do_sample=False, pad_token_id=tok.pad_token_id)
    # eos never stops a sequence early: both sides run every step
    kw["eos_token_id"] = None
    batches = []
    for start in range(0, len(prompts), args.batch_size):
        enc = tok(
            prompts[start : start + args.batch_size],
            padding=True,
            padding_side="left",
            return_tensors="pt",
        )
        batches.append({k: enc[k] for k in ("input_ids", "attention_mask")})

    def plain() -> None:
        with torch.no_grad():
            for enc in batches:
                model.generate(**enc, **kw)

    def captured() -> av.Capture:
        return av.capture_generate(
            model, tok, prompts, batch_size=args.batch_size, progress=False, **kw
        )

    plain()  # warm-up
    cap = captured()
    t = interleaved_best({"plain": plain, "capture": captured}, args.repeat)
    (pw, pc), (cw, cc) = t["plain"], t["capture"]
    n_gen = int(cap.tokens.generated.sum())
    setup = (
        f"random Llama 4 layers x 8 heads (4 kv), {len(prompts)} prompts, "
        f"{args.new} new tokens each ({n_gen} generated, {cap.n_tokens} tokens), "
        f"batch {args.batch_size}"
    )
    print(f"{setup}; {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':28}{'wall s':>9}{'ratio':>8}{'CPU s':>9}{'ratio':>8}   (goal <= 1.2x)")
    for label, (w, c) in (("model.generate", (pw, pc)), ("capture_generate", (cw, cc))):
        print(f"{label:28}{w:9.3f}{w / pw:7.2f}x{c:9.3f}{c / pc:7.2f}x")
    rows = [
        _results.row(
            f"capture_generate vs plain model.generate ({setup}; best of {args.repeat}, wall)",
            f"{cw:.2f} s",
            baseline=f"{pw:.2f} s (model.generate, SDPA)",
            ratio=f"{cw / pw:.2f}x",
            goal="<= 1.2x",
            met=cw / pw <= 1.2,
            note=f"CPU time ratio {cc / pc:.2f}x",
        )
    ]
    _results.write(
        args.json, "generate", "Generation capture overhead", rows, started, mode=args.mode
    )


if __name__ == "__main__":
    main()
