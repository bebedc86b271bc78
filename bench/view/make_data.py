"""Matrix-view bench data for bench/view/run.mjs: all-MiniLM-L6-v2 (bundled weights,
offline), every layer x head (6 x 12), on ``make_sentences(1000)``.

Writes ``data/state.json``: exactly the JSON ``attentionviz.export.to_html`` embeds for
``mountStandalone`` (per-head Q/K as fp16 base64, Arrow token table), with
``view='matrix'`` and ``projection='umap'``. The capture itself is cached as
``data/minilm-1000.attnviz`` so a rerun skips the model.
Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python_shim .venv/bin/python bench/view/make_data.py``.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import attentionviz as av
from attentionviz.export import b64, public_traits

N_SENTENCES = 1000
OUT = pathlib.Path(__file__).parent / "data"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    cached = OUT / "minilm-1000.attnviz"
    if cached.exists():
        cap = av.load(cached)
    else:
        import torch

        from attentionviz.corpus import make_sentences
        from attentionviz.demo import load_minilm

        torch.set_num_threads(2)
        model, tok = load_minilm()
        model.eval()
        t0 = time.perf_counter()
        cap = av.capture(model, tok, make_sentences(N_SENTENCES))
        print(f"captured {len(cap.tokens)} tokens in {time.perf_counter() - t0:.0f} s", flush=True)
        cap.save(cached)
        cap = av.load(cached)
    viz = av.AttentionViz(cap, view="matrix", projection="umap")
    heads: dict[str, list[str]] = {}
    d_head = 0
    for layer in range(cap.n_layers):
        for head in range(cap.n_heads):
            q, k = cap.qk(layer, head)
            d_head = int(q.shape[1])
            heads[f"{layer},{head}"] = [
                b64(np.ascontiguousarray(q, dtype="<f2").tobytes()),
                b64(np.ascontiguousarray(k, dtype="<f2").tobytes()),
            ]
    traits = public_traits(viz)
    traits["view"] = "matrix"
    traits["projection"] = "umap"
    state = {
        "traits": traits,
        "tokens": b64(viz.token_payload),
        "dtype": "float16",
        "n_tokens": len(cap.tokens),
        "d_head": d_head,
        "heads": heads,
        "selected_rows": b64(viz.selection_payload),
    }
    (OUT / "state.json").write_text(json.dumps(state, separators=(",", ":")))
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "n_sentences": N_SENTENCES,
        "n_tokens": len(cap.tokens),
        "n_layers": cap.n_layers,
        "n_heads": cap.n_heads,
        "d_head": d_head,
    }
    (OUT / "manifest.json").write_text(json.dumps(meta))
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
