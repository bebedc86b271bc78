"""Real joint Q/K data for the layout benchmark (bench/layout/run.mjs).

all-MiniLM-L6-v2 (bundled weights, offline) over ``make_sentences(N)``; model layer 2
(0-based), keeping only the first 3 encoder layers (layers after 2 cannot change its
Q/K, so this halves capture time and gives identical values). Writes raw float32
little-endian, row-major ``[n_tokens, d]``, unnormalized (the browser applies
``normalizeQK`` from src/compute/normalize.ts):

* ``q_d32.bin`` / ``k_d32.bin``: head 0, d_head = 32.
* ``q_d64.bin`` / ``k_d64.bin``: heads 0 and 1 concatenated along features
  (``[Q_h0 | Q_h1]``, ``[K_h0 | K_h1]``), d = 64; q.k is then the sum of both heads'
  logits, so it is still a meaningful joint Q/K geometry.
* ``manifest.json``: token count, sentence count, model, layer, heads.

The benchmark takes the first n/2 tokens for an n-point joint set.
Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python_shim .venv/bin/python bench/layout/make_data.py``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

import attentionviz as av
from attentionviz.corpus import make_sentences
from attentionviz.demo import load_minilm

LAYER = 2
TARGET_TOKENS = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
OUT = pathlib.Path(__file__).parent / "data"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    torch.set_num_threads(1)
    model, tok = load_minilm()
    model.encoder.layer = model.encoder.layer[: LAYER + 1]
    model.config.num_hidden_layers = LAYER + 1
    model.eval()
    # ~13.5 tokens per sentence: overshoot, then trim.
    n_sent = int(TARGET_TOKENS / 12.5) + 16
    texts = make_sentences(n_sent)
    t0 = time.perf_counter()
    cap = av.capture(model, tok, texts, layers=[LAYER], dtype="float32", batch_size=32)
    print(
        f"captured {len(cap.tokens)} tokens from {n_sent} sentences "
        f"in {time.perf_counter() - t0:.0f}s"
    )
    n = min(TARGET_TOKENS, len(cap.tokens))
    q0, k0 = (np.ascontiguousarray(a[:n], dtype="<f4") for a in cap.qk(0, 0))
    q1, k1 = (np.ascontiguousarray(a[:n], dtype="<f4") for a in cap.qk(0, 1))
    q0.tofile(OUT / "q_d32.bin")
    k0.tofile(OUT / "k_d32.bin")
    np.concatenate([q0, q1], axis=1).astype("<f4").tofile(OUT / "q_d64.bin")
    np.concatenate([k0, k1], axis=1).astype("<f4").tofile(OUT / "k_d64.bin")
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "layer": LAYER,
        "heads_d32": [0],
        "heads_d64": [0, 1],
        "n_tokens": n,
        "n_sentences": n_sent,
        "corpus": "attentionviz.corpus.make_sentences",
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
