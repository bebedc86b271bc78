"""The view-state schema has one source, the Python traits: the generated TypeScript module
(``src/model/view_state.ts``) must be up to date, and every synced trait must be declared
in TypeScript's ``ViewTraits``. Runs in a source checkout only (src/ is not in the wheel)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import attentionviz as av
from attentionviz.widget import schema

TRAITS_TS = schema.TS_PATH.parent / "traits.ts"

pytestmark = pytest.mark.skipif(
    not TRAITS_TS.exists(), reason="needs the TypeScript sources (a source checkout)"
)


def test_generated_view_state_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "view_state.ts"
    assert schema.main([str(fresh)]) == 0
    committed = schema.TS_PATH.read_text(encoding="utf-8")
    assert committed == fresh.read_text(encoding="utf-8"), (
        "src/model/view_state.ts is stale: run python -m attentionviz.widget.schema"
    )
    assert schema.main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "view_state.ts"
    stale.write_text(schema.render().replace("'umap'", "'pca'"), encoding="utf-8")
    assert schema.main(["--check", str(stale)]) == 1


def test_host_defaults_are_the_python_defaults() -> None:
    text = schema.render()
    for name, trait in schema.synced_traits().items():
        if name in schema.HOST_SUPPLIED:
            continue
        assert f"  {name}: {schema.ts_default(trait)},\n" in text
    # the drift issue #14 found: hosts built by hand started on 'head' / 'pca'
    assert "  view: 'matrix',\n" in text and "  projection: 'umap',\n" in text


def _view_traits_fields(source: str) -> set[str]:
    body = re.search(r"export interface ViewTraits \{(.*?)\n\}", source, re.S)
    assert body, "interface ViewTraits not found in src/model/traits.ts"
    return set(re.findall(r"^\s{2}(\w+)\??:", body.group(1), re.M))


def test_every_synced_python_trait_is_declared_in_typescript() -> None:
    declared = _view_traits_fields(TRAITS_TS.read_text(encoding="utf-8"))
    synced = set(schema.synced_traits())
    assert synced - declared == set(), "synced traits missing from TS ViewTraits"
    # and nothing the view reads is unknown to Python
    assert declared - synced == set(), "TS ViewTraits fields that Python does not sync"
    assert set(av.AttentionViz.VIEW_STATE) <= synced
