"""Machine-readable benchmark results: the JSON file every bench writes for bench/run_all.py.

One file per benchmark (``bench/results/<bench>.json`` when run by the runner)::

    {"bench": "capture", "title": "...", "started": ISO, "finished": ISO,
     "command": "...", "mode": "quick" | "full" | "custom", "machine": {...},
     "rows": [{"figure": str, "value": str, "baseline": str, "ratio": str,
               "goal": str, "met": true | false | null, "note": str}],
     "details": "bench/results/<bench>.md" | null}

``value`` / ``baseline`` / ``ratio`` are display strings with units, formatted by the bench
that measured them (it knows the units); ``met`` is ``None`` when a figure has no goal.
The JavaScript benches write the same shape (bench/results.mjs).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

ROW_FIELDS = ("figure", "value", "baseline", "ratio", "goal", "met", "note")


def now() -> str:
    """The current UTC time as an ISO 8601 string (second precision)."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def machine() -> dict[str, Any]:
    """CPU count, load average and Python version: the context every figure depends on."""
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def row(
    figure: str,
    value: str,
    baseline: str = "—",
    ratio: str = "—",
    goal: str = "—",
    met: bool | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One result row; ``met`` is None when the figure has no goal."""
    return {
        "figure": figure,
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "goal": goal,
        "met": met,
        "note": note,
    }


def write(
    path: str | os.PathLike[str] | None,
    bench: str,
    title: str,
    rows: list[dict[str, Any]],
    started: str,
    mode: str = "custom",
    details: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write one benchmark's result file (no-op when ``path`` is None)."""
    if path is None:
        return
    for r in rows:
        missing = [f for f in ROW_FIELDS if f not in r]
        if missing:
            raise ValueError(f"result row {r!r} is missing field(s) {missing}")
    out = {
        "bench": bench,
        "title": title,
        "started": started,
        "finished": now(),
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "mode": mode,
        "machine": machine(),
        "rows": rows,
        "details": details,
        **(extra or {}),
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, target)
