"""The runner builds RESULTS.md from result JSONs (no benchmark is run here).

Run: ``.venv/bin/python -m pytest bench/test_run_all.py -q`` (not part of ``make test``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import _results
import run_all


def _write(results: Path, bench: str, rows: list[dict], **extra: object) -> None:
    data = {
        "bench": bench,
        "title": bench,
        "started": "2026-01-01T10:00:00+00:00",
        "finished": "2026-01-01T10:02:30+00:00",
        "command": f"node bench/{bench}/run.mjs --json=x",
        "mode": "quick",
        "machine": {"cpus": 2, "load_average": [1.0, 1.0, 1.0]},
        "rows": rows,
        "details": f"bench/results/{bench}.md",
        **extra,
    }
    (results / f"{bench}.json").write_text(json.dumps(data))


def test_table_has_one_line_per_row_in_runner_order(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "view",
        [_results.row("frame | 100k", "12 ms", "10 ms", "1.20x", "<= 1.2x", True)],
    )
    _write(
        tmp_path,
        "capture",
        [
            _results.row("capture in memory", "1.5 s", "1.0 s", "1.50x", "<= 1.3x", False),
            _results.row("bytes", "1 B", note="no goal"),
        ],
    )
    out = tmp_path / "RESULTS.md"
    text = run_all.write_report(tmp_path, out)
    assert out.read_text() == text
    body = [line for line in text.splitlines() if line.startswith(("| capture", "| view"))]
    # Three result rows, then one "Runs" line per bench; capture comes before view.
    assert len(body) == 5
    assert body[0].startswith("| capture | capture in memory | 1.5 s | 1.0 s | 1.50x |")
    assert "| **no** |" in body[0]
    assert "| — |" in body[1]  # no goal -> no verdict
    assert "frame \\| 100k" in body[2] and "| yes |" in body[2]
    assert "| capture | quick | 2026-01-01T10:00:00+00:00 | 2.5 min |" in text
    assert "[view.md](results/view.md)" in text
    assert "Modes: quick for capture, view (" in text
    assert "Not run yet: lazy_open, transfer, layout, inference, generate, matrix_scale." in text


def test_bad_result_file_is_named(tmp_path: Path) -> None:
    _write(tmp_path, "capture", [{"figure": "x", "value": "1"}])
    with pytest.raises(ValueError, match=r"capture\.json: a row is missing field"):
        run_all.load_results(tmp_path)
    (tmp_path / "capture.json").write_text("{")
    with pytest.raises(ValueError, match=r"capture\.json: not valid JSON"):
        run_all.load_results(tmp_path)


def test_commands_write_json_and_skip_atlas_by_default(tmp_path: Path) -> None:
    layout = next(b for b in run_all.BENCHES if b.name == "layout")
    results = run_all.ROOT / "bench" / "results"
    cmd = run_all.command(layout, True, results, atlas=False)
    assert "--quick" in cmd and "--no-atlas" in cmd
    assert "--json=bench/results/layout.json" in cmd and "--mode=quick" in cmd
    assert "--no-atlas" not in run_all.command(layout, False, results, atlas=True)


def test_writer_rejects_incomplete_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing field"):
        _results.write(tmp_path / "x.json", "x", "x", [{"figure": "f"}], _results.now())
    _results.write(tmp_path / "x.json", "x", "x", [_results.row("f", "1 s")], _results.now())
    assert json.loads((tmp_path / "x.json").read_text())["rows"][0]["met"] is None


def test_record_run_adds_wall_time_and_keeps_printed_output(tmp_path: Path) -> None:
    _write(tmp_path, "capture", [_results.row("f", "1 s")], details=None)
    log = tmp_path / "capture.log"
    log.write_text("Loading:  10%\rLoading: 100%\nplain forward 1.0 s\n")
    run_all.record_run(run_all.BENCHES[0], tmp_path, 123.4, log)
    data = json.loads((tmp_path / "capture.json").read_text())
    assert data["wall_seconds"] == 123.4
    assert (tmp_path / "capture.md").read_text().splitlines()[2:5] == [
        "```",
        "Loading: 100%",
        "plain forward 1.0 s",
    ]
    assert "| capture | quick | 2026-01-01T10:00:00+00:00 | 2.1 min |" in run_all.render([data])


@pytest.mark.parametrize(
    ("code", "value"), [("raise SystemExit(3)", "exit code 3"), ("pass", "no result file written")]
)
def test_a_failed_bench_gets_a_row_saying_so(tmp_path: Path, code: str, value: str) -> None:
    bench = run_all.Bench("capture", "t", quick=[sys.executable, "-c", code], full=[])
    _write(tmp_path, "capture", [_results.row("stale figure", "1 s")])
    assert run_all.run_bench(bench, True, tmp_path, atlas=False) is False
    rows = json.loads((tmp_path / "capture.json").read_text())["rows"]
    assert [(r["figure"], r["value"]) for r in rows] == [("capture: the benchmark failed", value)]


def test_a_rerun_keeps_the_hand_written_part_of_a_report(tmp_path: Path) -> None:
    """results.mjs writeReport: generated text replaced, text after the marker kept."""
    report = tmp_path / "RESULTS-x.md"
    marker = "<!-- hand-written below: the bench scripts keep everything after this line -->"
    report.write_text(f"# old table\n\n{marker}\n\n## Findings\n\nwritten by hand\n")
    script = (
        "import('./bench/results.mjs').then((m) => "
        f"m.writeReport({json.dumps(str(report))}, '# new table\\n'))"
    )
    subprocess.run(["node", "-e", script], cwd=Path(__file__).parent.parent, check=True)
    assert report.read_text() == f"# new table\n\n{marker}\n\n## Findings\n\nwritten by hand\n"
    report.write_text("# no marker\n")
    subprocess.run(["node", "-e", script], cwd=Path(__file__).parent.parent, check=True)
    assert report.read_text() == "# new table\n"
