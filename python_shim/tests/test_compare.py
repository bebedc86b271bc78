"""The compare view from Python: ``viz.compare``, the ``compare_head`` trait, its state."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
import traitlets

import attentionviz as av
from attentionviz.widget.html import html_bytes


@pytest.fixture()
def capture() -> av.Capture:
    """3 layers x 4 heads, 2 sentences, d_head 8."""
    rng = np.random.default_rng(1)
    words = [["[CLS]", "the", "cat", "sat", "[SEP]"], ["[CLS]", "a", "dog", "[SEP]"]]
    tokens = pd.DataFrame(
        {
            "text": [w for sentence in words for w in sentence],
            "seq": [s for s, sentence in enumerate(words) for _ in sentence],
        }
    )
    queries = rng.normal(size=(3, 4, len(tokens), 8)).astype(np.float32)
    keys = rng.normal(size=(3, 4, len(tokens), 8)).astype(np.float32)
    return av.Capture.from_arrays(tokens, queries, keys, scale=8**-0.5, mask="bidirectional")


def embedded_state(page: bytes) -> dict:
    """The JSON state a standalone page embeds for its view."""
    found = re.search(
        rb'<script type="application/json" id="attentionviz-state">(.*?)</script>', page, re.S
    )
    assert found, "no embedded state in the page"
    return json.loads(found.group(1))


def test_compare_head_defaults_to_the_next_head_of_the_same_layer(capture: av.Capture) -> None:
    assert av.AttentionViz(capture).compare_head == (0, 1)
    assert av.AttentionViz(capture, head=(2, 1)).compare_head == (2, 2)
    # the last head wraps to the first of the same layer
    assert av.AttentionViz(capture, head=(1, 3)).compare_head == (1, 0)


def test_compare_sets_the_head_and_the_view_and_chains(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture, head=(0, 2))
    assert viz.view == "head"
    assert viz.compare(2, 3) is viz
    assert (viz.view, viz.compare_head, viz.head) == ("compare", (2, 3), (0, 2))
    state = viz.get_state()
    assert (state["view"], state["compare_head"]) == ("compare", (2, 3))
    viz.view = "head"  # back; the right head is remembered
    assert viz.compare_head == (2, 3)


@pytest.mark.parametrize("bad", [(3, 0), (0, 4), (-1, 0), (0, -1)])
def test_compare_out_of_range_raises_value_error_and_changes_nothing(
    capture: av.Capture, bad: tuple[int, int]
) -> None:
    viz = av.AttentionViz(capture, head=(1, 1))
    with pytest.raises(ValueError, match=r"out of range.*layers 0\.\.2 and heads 0\.\.3"):
        viz.compare(*bad)
    assert (viz.view, viz.compare_head, viz.head) == ("head", (1, 2), (1, 1))


def test_compare_rejects_what_is_not_a_head_index(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    with pytest.raises(ValueError, match="pair of integers"):
        viz.compare(1.5, 0)  # type: ignore[arg-type]
    assert viz.view == "matrix"


def test_compare_keyword_opens_the_compare_view(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture, head=(1, 0), compare=(2, 3))
    assert (viz.view, viz.head, viz.compare_head) == ("compare", (1, 0), (2, 3))
    # an explicit view wins
    assert av.AttentionViz(capture, compare=(2, 3), view="matrix").view == "matrix"
    with pytest.raises(ValueError, match=r"compare \(5, 0\) is out of range"):
        av.AttentionViz(capture, compare=(5, 0))


def test_compare_head_trait_is_validated_like_head(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    with pytest.raises(traitlets.TraitError, match=r"compare_head \(0, 9\) is out of range"):
        viz.compare_head = (0, 9)
    assert viz.compare_head == (0, 1)
    with pytest.raises(traitlets.TraitError):
        viz.view = "side-by-side"


def test_compare_state_round_trips_from_the_frontend(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    # The right panel's pickers (or a reopened notebook's saved state) set the trait.
    viz.set_state({"compare_head": [2, 0], "view": "compare"})
    assert (viz.view, viz.compare_head) == ("compare", (2, 0))
    again = av.AttentionViz(capture)
    again.set_state({name: viz.get_state()[name] for name in ("compare_head", "view", "head")})
    assert (again.view, again.compare_head, again.head) == ("compare", (2, 0), (0, 0))


def test_compare_head_is_part_of_the_saved_view_state(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture, head=(1, 1)).compare(2, 2)
    assert "compare_head" in av.AttentionViz.VIEW_STATE
    page = html_bytes(viz, heads="current", progress=False)
    state = embedded_state(page)
    assert state["traits"]["view"] == "compare"
    assert state["traits"]["compare_head"] == [2, 2]
    # "current" in the compare view embeds both heads on screen, so the page can show them.
    assert sorted(state["heads"]) == ["1,1", "2,2"]
    viz.view = "head"
    assert sorted(embedded_state(html_bytes(viz, heads="current", progress=False))["heads"]) == [
        "1,1"
    ]


def test_the_view_can_fetch_the_compare_head(capture: av.Capture) -> None:
    """The right panel asks the kernel for its Q/K like a matrix thumbnail does."""
    viz = av.AttentionViz(capture).compare(2, 3)
    sent: list[tuple[dict, list]] = []
    viz.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    message = {"kind": "qk", "id": 5, "layer": 2, "head": 3}
    viz._handle_msg({"content": {"data": {"method": "custom", "content": message}}, "buffers": []})
    content, buffers = sent[0]
    assert (content["kind"], content["reply_to"], content["layer"], content["head"]) == (
        "qk",
        5,
        2,
        3,
    )
    queries, _ = capture.qk(2, 3)
    np.testing.assert_array_equal(
        np.frombuffer(buffers[0], "<f2"), queries.astype(np.float16).ravel()
    )


# --- two models: compare_to ---------------------------------------------------------


def other_model(capture: av.Capture, n_layers: int = 2, n_heads: int = 5) -> av.Capture:
    """Another "model" over the same tokens: other Q/K, another shape, another name."""
    rng = np.random.default_rng(7)
    shape = (n_layers, n_heads, capture.n_tokens, 8)
    return av.Capture.from_arrays(
        capture.tokens,
        rng.normal(size=shape).astype(np.float32),
        rng.normal(size=shape).astype(np.float32),
        scale=0.5,
        mask="causal",
        model_name="other-model",
    )


def fetch(viz: av.AttentionViz, message: dict) -> tuple[dict, list]:
    """What the kernel answers the view's ``message``."""
    sent: list[tuple[dict, list]] = []
    viz.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    viz._handle_msg({"content": {"data": {"method": "custom", "content": message}}, "buffers": []})
    return sent[0]


def test_compare_to_puts_another_capture_in_the_right_panel(capture: av.Capture) -> None:
    other = other_model(capture)
    viz = av.AttentionViz(capture, head=(2, 3), compare_to=other)
    assert viz.view == "compare"
    # the same place when the other model has it, clamped to its shape otherwise
    assert viz.compare_head == (1, 3)
    info = viz.get_state()["_compare"]
    assert {k: info[k] for k in ("model_name", "n_layers", "n_heads", "scale", "mask")} == {
        "model_name": "other-model",
        "n_layers": 2,
        "n_heads": 5,
        "scale": 0.5,
        "mask": "causal",
    }
    assert info["capture_id"] != viz._capture_id  # layouts of the two are cached apart
    # compare_head and viz.compare follow the other capture's shape (5 heads, 2 layers)
    assert viz.compare(0, 4).compare_head == (0, 4)
    with pytest.raises(ValueError, match=r"of other-model.*layers 0..1 and heads 0..4"):
        viz.compare(2, 0)
    with pytest.raises(traitlets.TraitError, match="out of range"):
        viz.compare_head = (0, 5)
    assert viz.compare_head == (0, 4)


def test_the_right_panel_fetches_its_head_from_the_other_capture(capture: av.Capture) -> None:
    other = other_model(capture)
    viz = av.AttentionViz(capture, compare_to=other)
    content, buffers = fetch(
        viz, {"kind": "qk", "id": 3, "layer": 1, "head": 4, "source": "compare"}
    )
    assert (content["kind"], content["ok"], content["layer"], content["head"]) == ("qk", True, 1, 4)
    queries, keys = other.qk(1, 4)
    np.testing.assert_array_equal(
        np.frombuffer(buffers[0], "<f2"), queries.astype(np.float16).ravel()
    )
    np.testing.assert_array_equal(np.frombuffer(buffers[1], "<f2"), keys.astype(np.float16).ravel())
    # without "source" the request is for the shown capture, whose head 4 does not exist
    content, _ = fetch(viz, {"kind": "qk", "id": 4, "layer": 1, "head": 4})
    assert content["ok"] is False and "out of range" in content["error"]


def test_compare_to_needs_the_same_token_rows(capture: av.Capture) -> None:
    tokens = capture.tokens.copy()
    tokens.loc[7, "text"] = "cow"  # "dog"
    shape = (1, 1, len(tokens), 8)
    changed = av.Capture.from_arrays(
        tokens, np.ones(shape, np.float32), np.ones(shape, np.float32), scale=1.0, mask="causal"
    )
    with pytest.raises(ValueError, match=r"token 'text' differs from row 7 \('dog' vs 'cow'\)"):
        av.AttentionViz(capture, compare_to=changed)
    tokens = capture.tokens.copy()
    tokens.loc[6:, "seq"] = 5  # the same words, split into sentences differently from row 6
    resplit = av.Capture.from_arrays(
        tokens, np.ones(shape, np.float32), np.ones(shape, np.float32), scale=1.0, mask="causal"
    )
    before = capture.tokens["seq"].iloc[6]
    with pytest.raises(ValueError, match=rf"token 'seq' differs from row 6 \({before} vs 5\)"):
        av.AttentionViz(capture, compare_to=resplit)
    shorter = av.Capture.from_arrays(
        tokens.iloc[:5],
        np.ones((1, 1, 5, 8), np.float32),
        np.ones((1, 1, 5, 8), np.float32),
        scale=1.0,
        mask="causal",
    )
    with pytest.raises(ValueError, match=r"different tokens \(9 vs 5 rows\)"):
        av.AttentionViz(capture, compare_to=shorter)
    with pytest.raises(TypeError, match=r"compare_to needs an attentionviz\.Capture"):
        av.AttentionViz(capture, compare_to="model.attnviz")  # type: ignore[arg-type]


def test_compare_to_hashes_each_captures_token_rows_once(
    capture: av.Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The token text of a file-backed capture is read for this hash: once per capture,
    # shared by the compare_to check and the capture ids the layout cache is keyed by.
    other = other_model(capture)
    hashed: list[int] = []
    original = av.Capture.token_hashes

    def counting(self: av.Capture, names: list[str]) -> np.ndarray:
        hashed.append(id(self))
        return original(self, names)

    monkeypatch.setattr(av.Capture, "token_hashes", counting)
    viz = av.AttentionViz(capture, compare_to=other)
    assert sorted(hashed) == sorted([id(capture), id(other)])
    assert viz._compare["capture_id"] != viz._capture_id


def test_the_two_model_compare_view_exports_both_captures_to_html(capture: av.Capture) -> None:
    other = other_model(capture)
    viz = av.AttentionViz(capture, head=(1, 2), compare_to=other).compare(0, 4)
    state = embedded_state(html_bytes(viz, heads="current", progress=False))
    assert state["traits"]["_compare"]["model_name"] == "other-model"
    assert sorted(state["heads"]) == ["1,2"]
    assert sorted(state["compare"]["heads"]) == ["0,4"]  # the other model's head shown
    queries, _ = other.qk(0, 4)
    embedded = np.frombuffer(base64.b64decode(state["compare"]["heads"]["0,4"][0]), "<f2")
    np.testing.assert_array_equal(embedded, queries.astype(np.float16).ravel())
    everything = embedded_state(html_bytes(viz, progress=False))
    assert len(everything["heads"]) == 3 * 4 and len(everything["compare"]["heads"]) == 2 * 5
    # one capture: no compare section
    assert "compare" not in embedded_state(html_bytes(av.AttentionViz(capture), progress=False))


def test_matrix_source_shows_the_other_models_heads_only_with_compare_to(
    capture: av.Capture,
) -> None:
    other = other_model(capture)
    viz = av.AttentionViz(capture, compare_to=other, view="matrix", matrix_source="compare")
    assert (viz.view, viz.matrix_source) == ("matrix", "compare")
    # its thumbnails are fetched like the right panel's head: from the other capture
    content, buffers = fetch(
        viz, {"kind": "qk", "id": 1, "layer": 1, "head": 4, "rows": 5, "source": "compare"}
    )
    assert content["kind"] == "qk" and content["ok"] and content["n_tokens"] == 5
    queries, _ = other.qk(1, 4)
    np.testing.assert_array_equal(
        np.frombuffer(buffers[0], "<f2"), queries[:5].astype(np.float16).ravel()
    )
    # restored with the view, and part of the exported page's state
    assert viz.get_state()["matrix_source"] == "compare"
    page = embedded_state(html_bytes(viz, progress=False))
    assert page["traits"]["matrix_source"] == "compare"
    with pytest.raises(traitlets.TraitError, match=r"matrix_source.*compare_to="):
        av.AttentionViz(capture, matrix_source="compare")
    alone = av.AttentionViz(capture, view="matrix")
    with pytest.raises(traitlets.TraitError, match=r"needs AttentionViz\(capture, compare_to="):
        alone.matrix_source = "compare"
    assert alone.matrix_source == "capture"
    with pytest.raises(traitlets.TraitError):
        viz.matrix_source = "other"
