"""Run every benchmark of the project and write one table: ``bench/RESULTS.md``.

Each benchmark is its own script (Python or Node) that measures a figure against a baseline
in the same run and writes ``bench/results/<bench>.json`` (rows of figure / value / baseline /
ratio / goal / met, see ``bench/_results.py``) plus its detailed markdown report; this runner
calls them one after another (they would only disturb each other's timings in parallel),
makes their input data when it is missing, and builds ``RESULTS.md`` from the JSON files:
every row there comes from a run, none is typed in.

Usage (``make bench`` runs the first)::

    .venv/bin/python bench/run_all.py [--quick] [--only capture,transfer,...] [--atlas]
    .venv/bin/python bench/run_all.py --report-only      # rebuild RESULTS.md from the JSONs

``--quick`` uses smaller sizes and fewer repeats (see ``BENCHES``); ``--atlas`` adds the
optional embedding-atlas comparison to the layout bench (installs it with ``npm --no-save``).
A benchmark that fails gets a row saying so (and its log in ``bench/results/<bench>.log``);
the others still run. The exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import _results

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable


@dataclass
class Bench:
    """One benchmark: its command in each mode, and data to make first when missing."""

    name: str
    title: str
    quick: list[str]
    full: list[str]
    # (check, command): run command before the bench when check(quick) is false.
    prepare: list[tuple[Any, list[str]]] = field(default_factory=list)
    # Receives the markdown details path (for scripts that take --out).
    takes_out: bool = False


def _layout_data_ok(quick: bool) -> bool:
    manifest = BENCH / "layout" / "data" / "manifest.json"
    if not manifest.exists():
        return False
    # quick runs 1,000 points (500 tokens); full runs 100,000 points (50,000 tokens).
    return json.loads(manifest.read_text())["n_tokens"] >= (500 if quick else 50_000)


def _view_data_ok(quick: bool) -> bool:
    # quick skips the matrix view, the only part that needs data.
    return quick or (BENCH / "view" / "data" / "state.json").exists()


BENCHES: list[Bench] = [
    Bench(
        "capture",
        "Capture overhead and file size",
        quick=[PY, "bench/bench_capture.py", "--n", "200", "--repeat", "2"],
        full=[PY, "bench/bench_capture.py"],
    ),
    Bench(
        "lazy_open",
        "Opening a 1,000,000-token capture lazily",
        # Same 1 GB shape in both modes: peak memory vs file size depends on layers x heads.
        quick=[PY, "bench/bench_lazy_open.py", "--repeat", "1"],
        full=[PY, "bench/bench_lazy_open.py"],
    ),
    Bench(
        "transfer",
        "Kernel -> browser transfer of one head's Q/K",
        quick=["node", "bench/transfer/run.mjs", "--tokens=10000", "--rounds=3"],
        full=["node", "bench/transfer/run.mjs", "--tokens=20000", "--rounds=5"],
        takes_out=True,
    ),
    Bench(
        "layout",
        "UMAP in the browser vs umap-js",
        quick=["node", "bench/layout/run.mjs", "--quick"],
        full=["node", "bench/layout/run.mjs"],
        prepare=[
            (_layout_data_ok, [PY, "bench/layout/make_data.py", "50000"]),
        ],
        takes_out=True,
    ),
    Bench(
        "view",
        "Rendering, hover and the matrix view",
        quick=["node", "bench/view/run.mjs", "--quick", "--only=render,hover"],
        full=["node", "bench/view/run.mjs", "--matrix-timeout=300"],
        prepare=[(_view_data_ok, [PY, "bench/view/make_data.py"])],
        takes_out=True,
    ),
    Bench(
        "inference",
        "Q/K in the browser (onnxruntime-web) vs onnxruntime in Python",
        quick=["node", "bench/inference/run.mjs", "--runs", "5"],
        full=["node", "bench/inference/run.mjs"],
        takes_out=True,
    ),
    Bench(
        "generate",
        "Generation capture overhead",
        quick=[PY, "bench/bench_generate.py", "--prompts", "8", "--new", "16", "--repeat", "2"],
        full=[PY, "bench/bench_generate.py"],
    ),
    Bench(
        "matrix_scale",
        "The matrix view of a 512-head (Llama-3.2-1B-shaped) capture, today's view in the same run",
        # No small variant: the figures are about 512 heads and 32,000 tokens.
        quick=["node", "bench/matrix_scale/run.mjs", "--umap-timeout=120"],
        full=["node", "bench/matrix_scale/run.mjs"],
        prepare=[
            (
                lambda _quick: (BENCH / "matrix_scale" / "data" / "1b.attnviz").exists(),
                [PY, "bench/matrix_scale/make_data.py", "--shape", "1b"],
            )
        ],
        takes_out=True,
    ),
]
NAMES = [b.name for b in BENCHES]


def command(bench: Bench, quick: bool, results: Path, atlas: bool) -> list[str]:
    """The full command line of one bench in one mode, writing into ``results``."""
    mode = "quick" if quick else "full"
    where = results.relative_to(ROOT) if results.is_relative_to(ROOT) else results
    cmd = list(bench.quick if quick else bench.full)
    cmd += [f"--json={where / f'{bench.name}.json'}", f"--mode={mode}"]
    if bench.takes_out:
        cmd.append(f"--out={where / f'{bench.name}.md'}")
    if bench.name == "layout" and not atlas:
        cmd.append("--no-atlas")
    return cmd


# A hung bench (a browser that never answers) must not hang `make bench` forever.
TIMEOUT_MINUTES = {"quick": 30, "full": 150}


def call(cmd: list[str], env: dict[str, str], log: Any, timeout: float) -> int:
    """Run ``cmd`` in its own process group; on timeout kill the group (browsers, servers)."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.write(f"\n[run_all] killed after {timeout / 60:.0f} min\n")
        return -signal.SIGKILL


def run_bench(bench: Bench, quick: bool, results: Path, atlas: bool) -> bool:
    """Prepare data, run one bench (output to ``<bench>.log``); False when it failed."""
    log_path = results / f"{bench.name}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "python_shim")}
    started = _results.now()
    t0 = time.perf_counter()
    (results / f"{bench.name}.json").unlink(missing_ok=True)  # no stale figures survive a run
    with open(log_path, "w") as log:
        steps = [cmd for ok, cmd in bench.prepare if not ok(quick)]
        steps.append(command(bench, quick, results, atlas))
        for cmd in steps:
            print(f"[run_all] {bench.name}: {' '.join(cmd)}", flush=True)
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            code = call(cmd, env, log, TIMEOUT_MINUTES["quick" if quick else "full"] * 60)
            if code != 0:
                failure(bench, results, started, " ".join(cmd), code, quick)
                print(f"[run_all] {bench.name} FAILED (exit {code}), see {log_path}", flush=True)
                return False
    seconds = time.perf_counter() - t0
    if not (results / f"{bench.name}.json").exists():
        failure(bench, results, started, " ".join(steps[-1]), 0, quick)
        print(f"[run_all] {bench.name} wrote no result file, see {log_path}", flush=True)
        return False
    record_run(bench, results, seconds, log_path)
    print(f"[run_all] {bench.name} done in {seconds:.0f} s", flush=True)
    return True


def record_run(bench: Bench, results: Path, seconds: float, log_path: Path) -> None:
    """Add the runner's wall time (data preparation and builds included) to the result file;
    for a bench without its own report, keep its printed output as the report."""
    path = results / f"{bench.name}.json"
    data = json.loads(path.read_text())
    data["wall_seconds"] = round(seconds, 1)
    if not data.get("details"):
        # Progress bars redraw with carriage returns: keep only each line's final state.
        text = log_path.read_bytes().decode(errors="replace")  # read_text folds \r into \n
        lines = [line.split("\r")[-1] for line in text.split("\n")]
        report = results / f"{bench.name}.md"
        report.write_text(
            f"# {data.get('title', bench.name)}: output of the last run\n\n"
            + "```\n"
            + "\n".join(line for line in lines if line.strip())
            + "\n```\n"
        )
        data["details"] = str(report.relative_to(ROOT)) if report.is_relative_to(ROOT) else None
    path.write_text(json.dumps(data, indent=1) + "\n")


def failure(bench: Bench, results: Path, started: str, cmd: str, code: int, quick: bool) -> None:
    """Replace a failed bench's result file by one row saying it failed (this run's truth)."""
    log = results / f"{bench.name}.log"
    log = log.relative_to(ROOT) if log.is_relative_to(ROOT) else log
    data = {
        "bench": bench.name,
        "title": bench.title,
        "started": started,
        "finished": _results.now(),
        "command": cmd,
        "mode": "quick" if quick else "full",
        "machine": _results.machine(),
        "rows": [
            _results.row(
                f"{bench.name}: the benchmark failed",
                f"exit code {code}" if code else "no result file written",
                note=f"see {log}",
            )
        ],
        "details": None,
    }
    (results / f"{bench.name}.json").write_text(json.dumps(data, indent=1) + "\n")


# --- the table --------------------------------------------------------------------------


def load_results(results: Path) -> list[dict[str, Any]]:
    """Every ``<bench>.json`` in ``results``, known benches first in runner order."""
    found = []
    for path in sorted(results.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from e
        for key in ("bench", "rows", "started", "finished", "mode"):
            if key not in data:
                raise ValueError(f"{path}: result file has no {key!r} field")
        for r in data["rows"]:
            missing = [f for f in _results.ROW_FIELDS if f not in r]
            if missing:
                raise ValueError(f"{path}: a row is missing field(s) {missing}: {r!r}")
        found.append(data)
    order = {name: i for i, name in enumerate(NAMES)}
    return sorted(found, key=lambda d: (order.get(d["bench"], len(order)), d["bench"]))


def _cell(value: Any) -> str:
    """Markdown table cell text: pipes escaped, newlines folded."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def _duration(data: dict[str, Any]) -> str:
    """The runner's wall time for the bench, else the bench's own measuring time."""
    seconds = data.get("wall_seconds")
    if seconds is None:
        seconds = (
            datetime.fromisoformat(data["finished"]) - datetime.fromisoformat(data["started"])
        ).total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def render(all_results: list[dict[str, Any]], total: str | None = None) -> str:
    """RESULTS.md text from the benches' result dicts."""
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`bench/run_all.py`) from the JSON file each benchmark wrote",
        "(`bench/results/<bench>.json`); every row comes from a run, none is typed in. Each figure",
        "is compared with a baseline measured in the same run of the same benchmark. The machine",
        "is small and shared (see the load average per run): absolute times are noisy, read the",
        "ratios. Details of each run (setup, method, more figures) are in the linked report.",
        "",
    ]
    modes: dict[str, list[str]] = {}
    for data in all_results:
        modes.setdefault(data["mode"], []).append(data["bench"])
    lines.append(
        "Modes: " + "; ".join(f"{m} for {', '.join(b)}" for m, b in modes.items()) + " (`--quick`"
        ' = smaller sizes, see bench/README.md; table "Runs" has each run\'s date and load).'
    )
    lines.append("")
    if total:
        lines += [total, ""]
    lines += [
        "| bench | figure | value | baseline | ratio | goal | met? | note |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for data in all_results:
        for r in data["rows"]:
            cells = [data["bench"], r["figure"], r["value"], r["baseline"], r["ratio"], r["goal"]]
            lines.append(
                "| "
                + " | ".join(_cell(c) for c in cells)
                + f" | {_met(r['met'])} | {_cell(r['note'])} |"
            )
    lines += [
        "",
        "## Runs",
        "",
        "| bench | mode | started (UTC) | took | machine | command | report |",
        "|---|---|---|---|---|---|---|",
    ]
    for data in all_results:
        m = data.get("machine", {})
        machine = f"{m.get('cpus', '?')} CPUs, load {m.get('load_average', '?')}"
        details = data.get("details")
        report = "—"
        if details:
            target = Path(details)
            link = target.relative_to("bench") if target.is_relative_to("bench") else target
            report = f"[{target.name}]({link})"
        lines.append(
            f"| {data['bench']} | {data['mode']} | {data['started']} | {_duration(data)} | "
            f"{_cell(machine)} | `{_cell(data.get('command', ''))}` | {report} |"
        )
    missing = [n for n in NAMES if n not in {d["bench"] for d in all_results}]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def write_report(results: Path, output: Path, total: str | None = None) -> str:
    """Build RESULTS.md from the JSONs in ``results`` and write it to ``output``."""
    text = render(load_results(results), total)
    output.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(NAMES)}")
    ap.add_argument("--atlas", action="store_true", help="also compare embedding-atlas's UMAP")
    ap.add_argument("--report-only", action="store_true", help="only rebuild RESULTS.md")
    ap.add_argument("--results", type=Path, default=BENCH / "results")
    ap.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = ap.parse_args(argv)
    results = args.results.resolve()
    results.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        write_report(results, args.output)
        return 0
    names = args.only.split(",") if args.only else NAMES
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        ap.error(f"unknown bench(es) {unknown}; known: {', '.join(NAMES)}")
    t0 = time.perf_counter()
    started = _results.now()
    ok = True
    for bench in BENCHES:
        if bench.name in names:
            ok = run_bench(bench, args.quick, results, args.atlas) and ok
    minutes = (time.perf_counter() - t0) / 60
    mode = "quick" if args.quick else "full"
    total = (
        f"Last `run_all.py` invocation: {', '.join(names)} in {mode} mode, {minutes:.1f} min "
        f"in all (started {started})."
    )
    write_report(results, args.output, total)
    print(f"[run_all] wrote {args.output.relative_to(ROOT)} ({minutes:.1f} min)", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
