"""The original AttentionViz's head-view options (issue #17) as view-state traits: set at
construction, synced from the view, kept in the exported view state, bad values refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets

import attentionviz as av

OPTIONS = {
    "labels": False,
    "hide_special": True,
    "lines": "sentence",
    "pos_mod_k": 3,
    "hide_queries": True,
    "hide_keys": False,
}


@pytest.fixture()
def capture() -> av.Capture:
    rng = np.random.default_rng(1)
    tokens = pd.DataFrame({"text": ["[CLS]", "a", "b", "[SEP]"], "seq": [0, 0, 0, 0]})
    queries = rng.normal(size=(1, 2, 4, 4)).astype(np.float32)
    keys = rng.normal(size=(1, 2, 4, 4)).astype(np.float32)
    return av.Capture.from_arrays(tokens, queries, keys, scale=0.5, mask="bidirectional")


def test_defaults_are_the_original_tools(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    assert (viz.labels, viz.hide_special, viz.lines, viz.pos_mod_k) == (True, False, "query", 5)
    assert (viz.hide_queries, viz.hide_keys) == (False, False)


def test_options_are_settable_and_saved_with_the_view_state(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture, **OPTIONS)
    state = viz.view_state()
    for name, value in OPTIONS.items():
        assert getattr(viz, name) == value
        assert state[name] == value, name
    # A notebook reopened with that state shows the same options.
    again = av.AttentionViz(capture, **{name: state[name] for name in OPTIONS})
    assert {name: getattr(again, name) for name in OPTIONS} == OPTIONS


@pytest.mark.parametrize(("name", "bad"), [("lines", "all"), ("pos_mod_k", 0), ("labels", "yes")])
def test_bad_values_are_refused_by_name(capture: av.Capture, name: str, bad: object) -> None:
    viz = av.AttentionViz(capture)
    with pytest.raises(traitlets.TraitError, match=name):
        setattr(viz, name, bad)
