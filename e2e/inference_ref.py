"""Reference data for e2e/inference.test.mjs (and bench/inference): export all-MiniLM-L6-v2
with Q/K outputs and dump PyTorch's Q/K (``cap.qk``), token ids and token text.

Usage: python e2e/inference_ref.py OUT_DIR [--dtypes float32,float16,int8]
Writes OUT_DIR/model/ (fp32 export + tokenizer.json + attnviz-onnx.json), OUT_DIR/model-<dtype>/
for the other dtypes, OUT_DIR/broken/ (a copy whose q.3 and k.5 outputs were removed),
OUT_DIR/ref.json and OUT_DIR/q.bin / k.bin (float32 [layers, heads, n_tokens, d_head]).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXTS = [
    "The cat sat on the mat.",
    "Attention is all you need, they said in 2017!",
    "Hi",
    "Café naïve résumé: 42% of 3.14 — isn't it?",
    "Queries land near the keys they attend to, so a head's pattern is visible at once.",
    "I ❤ transformers 🤗 and <b>HTML</b> & unusual   spacing\tand tabs.",
]
LONG = "attention " * 600 + "the end"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--dtypes", default="float32")
    args = parser.parse_args()
    import numpy as np
    import onnx

    from attentionviz import onnx as av_onnx
    from attentionviz.capture import capture
    from attentionviz.demo import load_minilm

    out: pathlib.Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer = load_minilm()
    path = av_onnx.export(model, tokenizer, out / "model" / "model.onnx")
    sizes = {"float32": path.stat().st_size}
    for dtype in args.dtypes.split(","):
        if dtype != "float32":
            p = av_onnx.export(model, tokenizer, out / f"model-{dtype}" / "model.onnx", dtype=dtype)
            sizes[dtype] = p.stat().st_size

    broken = out / "broken"
    broken.mkdir(exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", av_onnx.MANIFEST):
        shutil.copy(path.parent / name, broken / name)
    m = onnx.load(str(path))
    keep = [o for o in m.graph.output if o.name not in ("q.3", "k.5")]
    del m.graph.output[:]
    m.graph.output.extend(keep)
    onnx.save(m, str(broken / "model.onnx"))

    cap = capture(model, tokenizer, TEXTS, dtype="float32", progress=False)
    heads = [[cap.qk(layer, h) for h in range(cap.n_heads)] for layer in range(cap.n_layers)]
    q = np.stack([np.stack([qk[0] for qk in layer]) for layer in heads])
    k = np.stack([np.stack([qk[1] for qk in layer]) for layer in heads])
    q.astype("<f4").tofile(out / "q.bin")
    k.astype("<f4").tofile(out / "k.bin")
    tokens = cap.tokens
    full = tokenizer(LONG)["input_ids"]
    cut = tokenizer(LONG, truncation=True, max_length=512)["input_ids"]
    ref = {
        "texts": TEXTS,
        "token_ids": [int(x) for x in tokens["token_id"]],
        "token_text": [str(x) for x in tokens["text"]],
        "seq": [int(x) for x in tokens["seq"]],
        "shape": list(q.shape),
        "long_text": LONG,
        "long_full_length": len(full),
        "long_truncated_ids": [int(x) for x in cut],
        "onnx_bytes": sizes,
    }
    (out / "ref.json").write_text(json.dumps(ref))


if __name__ == "__main__":
    main()
