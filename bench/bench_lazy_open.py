"""Opening a 1,000,000-token capture lazily: time to first view and peak memory.

Writes a synthetic ``.attnviz`` file (default 1,000,000 tokens x 2 layers x 4 heads x
d_head 32, fp16: 1.02 GB of Q/K; MiniLM's real 6 x 12 heads would be 9.2 GB, too much disk
and time for this shared machine) with ``CaptureWriter``, the writer ``av.capture`` uses,
then measures in fresh child processes, the file evicted from the page cache before each:

* first view: ``av.load(path)`` + ``av.AttentionViz(cap)`` (which builds the first head's
  payload, the fp16 bytes sent to the browser) + switching to a second head;
* baseline: an eager read of the whole file into memory (``np.fromfile``).

Peak memory is the child's peak resident set (``VmHWM``, reset after the imports; it
includes touched pages of the memory map) minus its resident set right after ``import
attentionviz`` (torch, pandas, pyarrow), i.e. what opening the capture costs.
Goal: far below the file size (<= 0.5x).
Q/K values are random normal (timing and memory do not depend on them); the token table is
realistic: words of the built-in corpus, 20-token sequences. The file lives in a temporary
directory and is deleted at the end.

Run: ``HF_HUB_OFFLINE=1 PYTHONPATH=python_shim .venv/bin/python bench/bench_lazy_open.py
[--tokens 1000000] [--layers 2] [--heads 4] [--d-head 32] [--json FILE]``. Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _results
import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEQ_LEN = 20
CHUNK = 1 << 18  # rows of random Q/K generated at a time (bounded memory while writing)

# Child programs: print one JSON line. Memory from /proc/self/status (kB): the peak (VmHWM)
# is reset after the imports by writing 5 to /proc/self/clear_refs (Linux >= 4.0), so it
# covers only the measured work.
_CHILD_PRELUDE = """
import json, sys, time
import numpy as np
import attentionviz as av

def status_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

path = sys.argv[1]
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
base = status_kb("VmRSS")
"""
_CHILD_VIEW = (
    _CHILD_PRELUDE
    + """
t0 = time.perf_counter()
cap = av.load(path)
viz = av.AttentionViz(cap)
assert len(viz._queries) == cap.n_tokens * cap.d_head * 2, "no first head payload"
t1 = time.perf_counter()
viz.head = (cap.n_layers - 1, cap.n_heads - 1)
t2 = time.perf_counter()
print(json.dumps({"base_kb": base, "peak_kb": status_kb("VmHWM"),
                  "rss_kb": status_kb("VmRSS"), "first_s": t1 - t0, "switch_s": t2 - t1,
                  "n_tokens": cap.n_tokens}))
"""
)
_CHILD_EAGER = (
    _CHILD_PRELUDE
    + """
t0 = time.perf_counter()
data = np.fromfile(path, dtype=np.uint8)
t1 = time.perf_counter()
print(json.dumps({"base_kb": base, "peak_kb": status_kb("VmHWM"),
                  "rss_kb": status_kb("VmRSS"), "read_s": t1 - t0, "bytes": int(data.size)}))
"""
)

# Where the memory goes: each public step's peak above what was resident before it (peak
# reset before every step), and what stays resident after it; in the order a user meets
# them (the view first: it needs neither the token DataFrame nor float32 copies).
_CHILD_STEPS = (
    _CHILD_PRELUDE
    + """
steps = []
def step(name, fn):
    before = status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    t = time.perf_counter()
    out = fn()
    steps.append({"step": name, "seconds": time.perf_counter() - t,
                  "peak_above_before_kb": status_kb("VmHWM") - before,
                  "resident_after_kb": status_kb("VmRSS") - base})
    return out
cap = step("av.load(path)", lambda: av.load(path))
viz = step("AttentionViz(cap)", lambda: av.AttentionViz(cap))
last = (cap.n_layers - 1, cap.n_heads - 1)
step("viz.head = another head", lambda: setattr(viz, "head", last))
step("cap.tokens (Parquet -> pandas)", lambda: cap.tokens)
qk = step("cap.qk(0, 0) (float32 copies)", lambda: cap.qk(0, 0))
print(json.dumps(steps))
"""
)


def token_table(n_tokens: int, rng: np.random.Generator) -> pd.DataFrame:
    """A realistic token table: corpus words, SEQ_LEN-token sequences with [CLS] ... [SEP]."""
    from attentionviz.corpus import sentences

    words = np.array(sorted({w.strip(".,;:!?").lower() for s in sentences() for w in s.split()}))
    pos = np.arange(n_tokens, dtype=np.int64) % SEQ_LEN
    seq = np.arange(n_tokens, dtype=np.int64) // SEQ_LEN
    text = words[rng.integers(0, len(words), n_tokens)].astype(object)
    text[pos == 0] = "[CLS]"
    last = (pos == SEQ_LEN - 1) | (np.arange(n_tokens) == n_tokens - 1)
    text[last] = "[SEP]"
    length = np.minimum(SEQ_LEN, n_tokens - seq * SEQ_LEN)
    return pd.DataFrame(
        {
            "text": text,
            "seq": seq,
            "pos": pos,
            "pos_norm": pos / np.maximum(length - 1, 1),
            "raw": text,
            "token_id": rng.integers(1000, 30000, n_tokens),
            "special": (pos == 0) | last,
        }
    )


def write_capture(path: Path, n_tokens: int, n_layers: int, n_heads: int, d_head: int) -> None:
    """A synthetic fp16 capture written block by block (memory bounded by CHUNK rows)."""
    from attentionviz.capture_file import CaptureWriter
    from attentionviz.core.capture import make_manifest

    rng = np.random.default_rng(0)
    tokens = token_table(n_tokens, rng)
    manifest = make_manifest(
        model_name="synthetic-1M",
        architecture="bert",
        scale=float(d_head) ** -0.5,
        mask="bidirectional",
        dtype="float16",
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv_heads=n_heads,
        d_head=d_head,
        n_tokens=n_tokens,
        n_seqs=int(tokens["seq"].iloc[-1]) + 1,
        layer_ids=list(range(n_layers)),
    )
    with CaptureWriter(path, manifest, tokens) as w:
        for layer in range(n_layers):
            for name in (f"q.{layer}", f"k.{layer}"):
                block = w.block(name)
                for head in range(n_heads):
                    for start in range(0, n_tokens, CHUNK):
                        stop = min(n_tokens, start + CHUNK)
                        values = rng.standard_normal((stop - start, d_head), dtype=np.float32)
                        block[head, start:stop] = values.astype(np.float16)


def evict(path: Path) -> None:
    """Drop the file's pages from the page cache (only this file), so each child reads cold."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def child(program: str, path: Path) -> dict:
    """Run a child program on ``path`` (cold cache) and return its JSON line."""
    evict(path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "python_shim")}
    out = subprocess.run(
        [sys.executable, "-c", program, str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=1_000_000)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-head", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2, help="child runs of each kind (best kept)")
    ap.add_argument("--dir", help="where to write the temporary file (default: system temp)")
    ap.add_argument("--json", help="also write the figures as JSON here (bench/run_all.py)")
    ap.add_argument("--mode", default="custom", help="label for the JSON: quick / full")
    args = ap.parse_args()
    started = _results.now()

    tmp = Path(tempfile.mkdtemp(prefix="attnviz-lazy-", dir=args.dir))
    try:
        path = tmp / "synthetic.attnviz"
        need = args.tokens * args.layers * args.heads * 2 * args.d_head * 2
        free = shutil.disk_usage(tmp).free
        if need * 1.2 > free:
            raise SystemExit(f"need ~{need / 1e9:.1f} GB in {tmp}, only {free / 1e9:.1f} GB free")
        t0 = time.perf_counter()
        write_capture(path, args.tokens, args.layers, args.heads, args.d_head)
        size = path.stat().st_size
        print(f"wrote {size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s: {path}", flush=True)
        views, eagers = [], []
        for _ in range(args.repeat):  # interleaved, so drifting load hits both alike
            views.append(child(_CHILD_VIEW, path))
            eagers.append(child(_CHILD_EAGER, path))
        view = min(views, key=lambda r: r["first_s"])
        eager = min(eagers, key=lambda r: r["read_s"])
        steps = child(_CHILD_STEPS, path)
        view_peak = max(r["peak_kb"] - r["base_kb"] for r in views) * 1024
        eager_peak = max(r["peak_kb"] - r["base_kb"] for r in eagers) * 1024
        import_rss = view["base_kb"] * 1024
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    mb = lambda n: f"{n / 1e6:,.0f} MB"  # noqa: E731
    shape = (
        f"{args.tokens:,} tokens x {args.layers} layers x {args.heads} heads x d_head "
        f"{args.d_head}, fp16, {size / 1e9:.2f} GB"
    )
    head_bytes = args.tokens * args.d_head * 2 * 2
    print(f"capture: {shape}; best of {args.repeat} cold-cache child runs")
    print(f"first view {view['first_s']:.2f} s (switch head {view['switch_s']:.2f} s), "
          f"eager read {eager['read_s']:.2f} s")  # fmt: skip
    print(f"peak RSS above import: first view {mb(view_peak)}, eager read {mb(eager_peak)}, "
          f"file {mb(size)} (import itself {mb(import_rss)})")  # fmt: skip
    print("where the memory goes (one more child run; peak above what was resident before):")
    for s in steps:
        peak, after = s["peak_above_before_kb"] * 1024, s["resident_after_kb"] * 1024
        print(f"  {s['step']:32} {s['seconds']:6.2f} s  peak +{mb(peak):>9}  "
              f"resident after {mb(after):>9}")  # fmt: skip
    rows = [
        _results.row(
            f"time to first view of a {shape} capture (av.load + AttentionViz(cap) incl. "
            "first head payload; cold page cache)",
            f"{view['first_s']:.2f} s",
            baseline=f"{eager['read_s']:.2f} s (eager read of the whole file)",
            ratio=f"{view['first_s'] / eager['read_s']:.2f}x",
            note=f"switching to another head afterwards: {view['switch_s']:.2f} s",
        ),
        _results.row(
            f"peak memory opening that capture (RSS above `import attentionviz`, "
            f"max of {args.repeat})",
            mb(view_peak),
            baseline=f"{mb(size)} (file size); eager read peaks at {mb(eager_peak)}",
            ratio=f"{view_peak / size:.2f}x file size",
            goal="<= 0.5x file size",
            met=view_peak <= 0.5 * size,
            note=(
                f"one head's fp16 Q+K is {mb(head_bytes)}; memory scales with one head, "
                "the file with layers x heads. What stays: the shown head's Q+K bytes and "
                "the token table's Arrow payload (read from the Parquet, no DataFrame); "
                "switching heads holds the next head too until it replaces the shown one"
            ),
        ),
    ]
    _results.write(
        args.json,
        "lazy_open",
        "Opening a 1,000,000-token capture lazily",
        rows,
        started,
        mode=args.mode,
        extra={"raw": {"views": views, "eagers": eagers, "steps": steps, "file_bytes": size}},
    )


if __name__ == "__main__":
    main()
