"""A real MiniLM capture for the transfer benchmark (bench/transfer/run.mjs).

all-MiniLM-L6-v2 (bundled weights, offline) over ``make_sentences(n)``, with ``n`` the
fewest sentences giving at least MIN_TOKENS tokens; only model layer 2 is stored, and the
encoder is cut after it (later layers cannot change its Q/K, so the values are identical
and the capture is ~2x faster). Writes ``data/minilm-<MIN_TOKENS>.attnviz`` (fp16, as
``av.capture`` stores by default) and prints its token count; a rerun reuses the file.
Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python_shim .venv/bin/python bench/transfer/make_data.py
[MIN_TOKENS]``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

LAYER = 2
OUT = pathlib.Path(__file__).parent / "data"


def main() -> None:
    min_tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    path = OUT / f"minilm-{min_tokens}.attnviz"
    import attentionviz as av

    if not path.exists():
        import torch

        from attentionviz.corpus import make_sentences
        from attentionviz.demo import load_minilm

        torch.set_num_threads(2)
        model, tok = load_minilm()
        model.encoder.layer = model.encoder.layer[: LAYER + 1]
        model.config.num_hidden_layers = LAYER + 1
        model.eval()
        # Fewest sentences reaching min_tokens (tokenizing is cheap next to the model).
        n = 1
        while sum(len(ids) for ids in tok(make_sentences(n))["input_ids"]) < min_tokens:
            n = max(n + 1, int(n * 1.25))
        lo = n // 2
        while lo < n:
            mid = (lo + n) // 2
            if sum(len(ids) for ids in tok(make_sentences(mid))["input_ids"]) >= min_tokens:
                n = mid
            else:
                lo = mid + 1
        OUT.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        av.capture(model, tok, make_sentences(n), layers=[LAYER], batch_size=32, out=path)
        print(f"captured {n} sentences in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    cap = av.load(path)
    print(
        json.dumps(
            {
                "path": str(path),
                "model": "sentence-transformers/all-MiniLM-L6-v2",
                "layer": LAYER,
                "n_tokens": cap.n_tokens,
                "n_seqs": int(cap.manifest["n_seqs"]),
                "n_heads": cap.n_heads,
                "d_head": cap.d_head,
                "dtype": cap.dtype,
            }
        )
    )


if __name__ == "__main__":
    main()
