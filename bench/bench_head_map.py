"""The head map's measure: cost at 512 heads, agreement with Jensen-Shannon, head types.

Usage: .venv/bin/python bench/bench_head_map.py [--quick] [--no-minilm]

1. Cost: ``head_map`` (RMS Hellinger over a shared query sample, one Gram matrix product,
   classical MDS) on a Llama-3.2-1B-shaped capture (16 x 32 heads, 8 KV heads, d_head 64,
   fp16; 128 x 64 tokens: the map reads only the first 2,048 rows of any capture, so a
   32,000-token one costs the same). Baseline in the same run: exact pairwise JSD over
   the same sample, timed on 64 heads and scaled by the pair count to 512.
2. Agreement: on real all-MiniLM-L6-v2 Q/K (72 heads; skipped with --no-minilm or
   without torch), Spearman rank correlation of Hellinger and JSD over every head pair.
3. Head types: heads planted as previous-token, next-token, first-token, self and diffuse
   (4 each, each with its own sharpness and noise; bidirectional): share of heads whose
   nearest head is of the same type, for Hellinger distances vs distances between
   standardised (entropy, distance, offset) vectors, the other measure the issue proposes.
Writes bench/RESULTS-headmap.md.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "python_shim"))

import attentionviz as av  # noqa: E402
from attentionviz.core.head_map import attention_entries, head_map, query_sample  # noqa: E402


def llama_like(n_seqs: int) -> av.Capture:
    rng = np.random.default_rng(0)
    n = n_seqs * 64
    tokens = pd.DataFrame({"text": ["t"] * n, "seq": np.repeat(np.arange(n_seqs), 64)})
    q = rng.standard_normal((16, 32, n, 64), dtype=np.float32).astype(np.float16)
    k = rng.standard_normal((16, 8, n, 64), dtype=np.float32).astype(np.float16)
    return av.Capture.from_arrays(
        tokens, q, k, scale=0.125, mask="causal", model_name="llama-1b-shape"
    )


def sample_weights(cap: av.Capture, heads: list[tuple[int, int]]) -> tuple[np.ndarray, object]:
    sample = query_sample(cap)
    rows = [
        attention_entries(*cap.qk(la, h, rows=sample.rows), sample, cap.scale) for la, h in heads
    ]
    return np.stack(rows), sample


def pairwise_jsd(weights: np.ndarray, sample: object) -> np.ndarray:
    """Mean over queries of JSD (nats) for every pair: one pass over the sample per pair."""
    n = len(weights)
    logs = np.log(np.maximum(weights, 1e-30))
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            mix = (weights[a] + weights[b]) / 2
            log_mix = np.log(np.maximum(mix, 1e-30))
            terms = weights[a] * (logs[a] - log_mix) + weights[b] * (logs[b] - log_mix)
            out[a, b] = out[b, a] = terms.sum() / (2 * sample.n_queries)
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rank = lambda v: np.argsort(np.argsort(v)).astype(float)  # noqa: E731
    return float(np.corrcoef(rank(x), rank(y))[0, 1])


def cost(quick: bool) -> list[str]:
    cap = llama_like(32 if quick else 128)
    started = time.perf_counter()
    found = head_map(cap)
    ours = time.perf_counter() - started
    subset = [(la, h) for la in range(2) for h in range(32)]
    weights, sample = sample_weights(cap, subset)
    started = time.perf_counter()
    pairwise_jsd(weights, sample)
    jsd_64 = time.perf_counter() - started
    pairs = lambda n: n * (n - 1) / 2  # noqa: E731
    jsd_512 = jsd_64 * pairs(512) / pairs(64)
    return [
        f"| head map, 512 heads ({cap.n_tokens} tokens, {found.n_queries} queries, "
        f"{len(sample.key_rows)} weights/head) | {ours:.2f} s | exact pairwise JSD: "
        f"{jsd_64:.2f} s for 64 heads -> ~{jsd_512:.0f} s for 512 "
        f"(pairs x{pairs(512) / pairs(64):.0f}) "
        f"| {jsd_512 / ours:.0f}x faster |",
    ]


def agreement() -> list[str]:
    try:
        from attentionviz.corpus import sentences
        from attentionviz.demo import load_minilm
    except ImportError as error:
        return [f"| Hellinger vs JSD on MiniLM | skipped ({error}) | | |"]
    model, tokenizer = load_minilm()
    cap = av.capture(model, tokenizer, sentences(128), progress=False)
    heads = [(la, h) for la in range(cap.n_layers) for h in range(cap.n_heads)]
    weights, sample = sample_weights(cap, heads)
    jsd = pairwise_jsd(weights, sample)
    hell = head_map(cap).distances
    upper = np.triu_indices(len(heads), 1)
    rho = spearman(hell[upper], jsd[upper])
    nn_h = np.argsort(hell + np.eye(len(heads)) * 9, axis=1)[:, :5]
    nn_j = np.argsort(jsd + np.eye(len(heads)) * 9, axis=1)[:, :5]
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(nn_h, nn_j, strict=True)])
    return [
        f"| Hellinger vs JSD, all-MiniLM-L6-v2 (72 heads, {sample.n_queries} queries) | "
        f"Spearman rho {rho:.3f} over {len(upper[0])} pairs | 5 nearest heads shared: "
        f"{100 * overlap:.0f}% | |"
    ]


def planted() -> tuple[av.Capture, list[str]]:
    rng = np.random.default_rng(1)
    n_seqs, length, d = 40, 16, 32
    n = n_seqs * length
    pos = np.tile(np.arange(length), n_seqs)
    eye = np.eye(d, dtype=np.float32)
    # previous and next: the same entropy and offset, different keys (bidirectional mask)
    kinds = ["previous", "next", "first", "self", "diffuse"] * 4
    q = np.zeros((1, len(kinds), n, d), np.float32)
    k = np.zeros_like(q)
    for h, kind in enumerate(kinds):
        sharp = rng.uniform(3, 8)  # each head its own sharpness and noise
        noise = lambda: rng.normal(scale=rng.uniform(0.2, 0.6), size=(n, d)).astype(np.float32)  # noqa: E731
        if kind in ("previous", "next"):
            target = np.clip(pos + (1 if kind == "next" else -1), 0, length - 1)
            q[0, h], k[0, h] = sharp * eye[target] + noise(), sharp * eye[pos] + noise()
        elif kind == "first":
            q[0, h] = sharp * eye[0] + noise()
            k[0, h] = np.where(pos[:, None] == 0, sharp * eye[0], 0) + noise()
        elif kind == "self":
            q[0, h], k[0, h] = sharp * eye[pos] + noise(), sharp * eye[pos] + noise()
        else:
            q[0, h], k[0, h] = 0.3 * noise(), noise()
    tokens = pd.DataFrame({"text": ["t"] * n, "seq": np.repeat(np.arange(n_seqs), length)})
    return av.Capture.from_arrays(tokens, q, k, scale=0.5, mask="bidirectional"), kinds


def purity(distances: np.ndarray, kinds: list[str]) -> float:
    d = distances + np.eye(len(kinds)) * 1e9
    return float(np.mean([kinds[j] == kinds[i] for i, j in enumerate(d.argmin(axis=1))]))


def separation() -> list[str]:
    cap, kinds = planted()
    found = head_map(cap)
    stats = np.stack([found.stats[name] for name in ("entropy", "distance", "offset")], 1)
    z = (stats - stats.mean(0)) / np.maximum(stats.std(0), 1e-12)
    stat_distances = np.linalg.norm(z[:, None] - z[None], axis=2)
    mds = np.linalg.norm(found.coords[:, None] - found.coords[None], axis=2)
    return [
        f"| nearest head of the same type ({len(kinds)} planted heads, 5 types) | Hellinger "
        f"{100 * purity(found.distances, kinds):.0f}% "
        f"(its 2-D map: {100 * purity(mds, kinds):.0f}%) "
        f"| statistic vectors: {100 * purity(stat_distances, kinds):.0f}% | |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-minilm", action="store_true")
    args = parser.parse_args()
    rows = cost(args.quick) + separation() + ([] if args.no_minilm else agreement())
    table = "\n".join(
        ["| figure | value | baseline (same run) | ratio |", "|---|---|---|---|", *rows]
    )
    print(table)
    report = ROOT / "RESULTS-headmap.md"
    report.write_text(f"# Head map benchmark\n\n`{' '.join(sys.argv)}`\n\n{table}\n")


if __name__ == "__main__":
    main()
