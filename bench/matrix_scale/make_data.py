"""Llama-shaped captures for the matrix-view scale bench, built with Capture.from_arrays.

``--shape 1b``: Llama-3.2-1B (16 layers x 32 heads, 8 KV heads, d_head 64), 500 sequences
x 64 tokens = 32,000 tokens, fp16. ``--shape 8b``: Llama-3-8B (32 x 32 heads, 8 KV heads,
d_head 128), 250 x 64 = 16,000 tokens. Q/K are structured, not noise: each head mixes a
shared token embedding and a positional signal with its own random projection, so heads
differ and thumbnails show clusters. Written as ``data/<shape>.attnviz`` (the bench opens
it lazily with ``av.load``).

    PYTHONPATH=python_shim .venv/bin/python bench/matrix_scale/make_data.py --shape 1b
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import attentionviz as av

SHAPES = {
    "1b": {"layers": 16, "heads": 32, "kv": 8, "d": 64, "seqs": 500, "len": 64},
    "8b": {"layers": 32, "heads": 32, "kv": 8, "d": 128, "seqs": 250, "len": 64},
}
DATA = Path(__file__).resolve().parent / "data"


def llama_capture(shape: str, seed: int = 0) -> av.Capture:
    """A capture of ``SHAPES[shape]`` (fp16 Q/K, causal, scale 1/sqrt(d))."""
    s = SHAPES[shape]
    rng = np.random.default_rng(seed)
    n, d = s["seqs"] * s["len"], s["d"]
    words = rng.integers(0, 400, size=n)
    vocab = rng.normal(size=(400, d)).astype(np.float32)
    pos = np.tile(np.arange(s["len"]), s["seqs"])
    angles = pos[:, None] / (10000 ** (np.arange(d // 2) / (d // 2)))[None, :]
    position = np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)
    base = vocab[words]
    queries = np.empty((s["layers"], s["heads"], n, d), np.float16)
    keys = np.empty((s["layers"], s["kv"], n, d), np.float16)
    for layer in range(s["layers"]):
        for head in range(s["heads"]):
            w = rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
            mix = rng.uniform(0, 2)  # how positional the head is
            queries[layer, head] = (base @ w + mix * position).astype(np.float16)
        for kv in range(s["kv"]):
            w = rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
            keys[layer, kv] = (base @ w + position).astype(np.float16)
    tokens = pd.DataFrame(
        {"text": [f"w{w}" for w in words], "seq": np.repeat(np.arange(s["seqs"]), s["len"])}
    )
    return av.Capture.from_arrays(
        tokens,
        queries,
        keys,
        scale=1 / np.sqrt(d),
        mask="causal",
        model_name=f"llama-{shape}-shaped",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="1b")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"{args.shape}.attnviz"
    llama_capture(args.shape).save(path)
    print(path)


if __name__ == "__main__":
    main()
