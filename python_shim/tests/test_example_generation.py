"""examples/generation.ipynb runs top to bottom in a fresh kernel (offline, tiny model) and
shows what it promises: generated tokens marked, chat roles in the token table."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "generation.ipynb"


def test_generation_notebook_runs(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [
        "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
        for c in nb.cells
        if c.cell_type == "code"
    ]
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert "<Capture 'LlamaForCausalLM'" in outputs[1]
    assert "generated" in outputs[2] and "True" in outputs[2]
    assert "assistant" in outputs[4] and "system" in outputs[4]
    widgets = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) == 2  # both views were displayed
