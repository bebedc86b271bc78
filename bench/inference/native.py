"""Native side of the inference benchmark (run by bench/inference/run.mjs).

Exports all-MiniLM-L6-v2 (fp32, fp16 weights, int8) with Q/K outputs into DATA_DIR (once),
picks a 128-token sentence, times onnxruntime (Python, CPU) on the fp32 file with 1 thread and
with the default thread count, and measures the Q/K error of fp16/int8 against fp32.
Writes DATA_DIR/native.json.  Usage: python bench/inference/native.py DATA_DIR [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

N_TOKENS = 128


def sentence_of(tokenizer, n_tokens: int) -> str:
    from attentionviz.corpus import sentences

    words = " ".join(sentences()).split()
    lo, hi = 1, len(words)
    while lo < hi:  # fewest words reaching n_tokens (with [CLS]/[SEP])
        mid = (lo + hi) // 2
        if len(tokenizer.encode(" ".join(words[:mid])).ids) >= n_tokens:
            hi = mid
        else:
            lo = mid + 1
    text = " ".join(words[:lo])
    while len(tokenizer.encode(text).ids) > n_tokens:  # a long last word: trim characters
        text = text[:-1]
    return text


def timed(runner, ids, runs: int) -> list[float]:
    runner.run_ids(ids)
    runner.run_ids(ids)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        runner.run_ids(ids)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=pathlib.Path)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    import numpy as np
    import onnxruntime

    from attentionviz import onnx as av_onnx
    from attentionviz.corpus import sentences

    folders = {d: args.data / ("model" if d == "float32" else f"model-{d}") for d in av_onnx.DTYPES}
    if not all((f / "model.onnx").exists() for f in folders.values()):
        from attentionviz.demo import load_minilm

        model, tokenizer = load_minilm()
        for dtype, folder in folders.items():
            av_onnx.export(model, tokenizer, folder / "model.onnx", dtype=dtype)

    ref = av_onnx.OnnxQK(folders["float32"])
    text = sentence_of(ref.tokenizer, N_TOKENS)
    ids = ref.encode(text)[0]
    assert len(ids) == N_TOKENS, len(ids)
    native, native_min = {}, {}
    for threads in (1, None):
        name = "1 thread" if threads else "default threads"
        times = timed(av_onnx.OnnxQK(folders["float32"], threads=threads), ids, args.runs)
        native[name], native_min[name] = statistics.median(times), min(times)

    texts = sentences(16)
    _, want = ref.run(texts)
    quant = {}
    for dtype in ("float16", "int8"):
        _, got = av_onnx.OnnxQK(folders[dtype]).run(texts)
        times = timed(av_onnx.OnnxQK(folders[dtype], threads=1), ids, args.runs)
        pairs = [
            (r, g) for lr, lg in zip(want, got, strict=True) for r, g in zip(lr, lg, strict=True)
        ]
        quant[dtype] = {
            "max_abs": max(float(np.abs(r - g).max()) for r, g in pairs),
            "mean_rel_fro": float(
                np.mean([np.linalg.norm(r - g) / np.linalg.norm(r) for r, g in pairs])
            ),
            "median_ms_1_thread": statistics.median(times),
            "min_ms_1_thread": min(times),
        }
    out = {
        "text": text,
        "n_tokens": len(ids),
        "runs": args.runs,
        "onnxruntime": onnxruntime.__version__,
        "cpu_count": os.cpu_count(),
        "native_ms": native,
        "native_min_ms": native_min,
        "quant": quant,
        "bytes": {d: (f / "model.onnx").stat().st_size for d, f in folders.items()},
        "max_abs_ref": max(float(np.abs(x).max()) for layer in want for x in layer),
    }
    (args.data / "native.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
