"""examples/paper_findings.ipynb runs top to bottom offline (nbclient), exports its figures
with viz.save, and the numbers its text states are the ones it measures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "paper_findings.ipynb"
FIGURES = [
    "positional_head.html",
    "sink_head_value_weighted.html",
    "pair_dims.html",
    "category_clusters.html",
    "vit_patches_brightness.html",
    "vit_patches_rows.html",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory, minilm_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("skimage")
    work = tmp_path_factory.mktemp("paper_findings")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # one more cell, not saved: hands the measured numbers to this test
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json\nprint('MEASURED ' + json.dumps({'head02': stats.loc[(0, 2)].to_dict(), "
            "'sink45': stats.loc[(4, 5)].special_share, 'sink45_v': stats_v.loc[(4, 5)]"
            ".special_share, 'mean': stats.special_share.mean(), 'mean_v': "
            "stats_v.special_share.mean(), 'vit': grouping.to_numpy().ravel().tolist()}))"
        )
    )
    nbclient.NotebookClient(nb, timeout=900, resources={"metadata": {"path": str(work)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    measured = json.loads(text.split("MEASURED ", 1)[1])
    return work, nb, measured


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_figures_are_exported_as_standalone_pages(executed):
    work, _, _ = executed
    for name in FIGURES:
        page = (work / "paper_findings_output" / name).read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype")
        assert len(page) > 10_000, f"{name} holds no view"


def test_the_text_states_what_the_notebook_measures(executed):
    _, nb, measured = executed
    text = _markdown(nb)
    head = measured["head02"]
    # the positional head: numbers as the text rounds them
    assert f"**{head['entropy']:.4f} nats**" in text
    assert f"mean offset **{head['mean_offset']:.2f}**" in text
    assert f"signed offset **{head['signed_offset']:.2f}**" in text
    # the sink head and the value-weighted shares, in percent
    for key in ("sink45", "sink45_v", "mean", "mean_v"):
        assert f"**{round(measured[key] * 100)}%**" in text, key
    values = measured["vit"]  # every ratio of every ViT head
    stated = re.search(r"between \*\*([\d.]+) and ([\d.]+)\*\*", text)
    assert stated and (float(stated[1]), float(stated[2])) == (
        round(min(values), 2),
        round(max(values), 2),
    )
