"""The AttentionViz widget: traits, the binary wire format, selection, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets

import attentionviz as av
from attentionviz.core.arrow import tokens_to_arrow


@pytest.fixture()
def small_capture() -> av.Capture:
    """3 layers x 4 heads, 2 sentences, d_head 8, distinct values per head."""
    rng = np.random.default_rng(0)
    words = [["[CLS]", "the", "cat", "sat", "[SEP]"], ["[CLS]", "<b>bold</b>", "the", "[SEP]"]]
    tokens = pd.DataFrame(
        {
            "text": [w for sent in words for w in sent],
            "seq": [s for s, sent in enumerate(words) for _ in sent],
            "label": [s for s, sent in enumerate(words) for _ in sent],
        }
    )
    n = len(tokens)
    queries = rng.normal(size=(3, 4, n, 8)).astype(np.float32)
    keys = rng.normal(size=(3, 4, n, 8)).astype(np.float32)
    return av.Capture.from_arrays(tokens, queries, keys, scale=8**-0.5, mask="bidirectional")


def frontend_update(viz: av.AttentionViz, state: dict, buffers: dict[str, bytes]) -> None:
    """Deliver a state update the way the browser's comm message arrives in the kernel."""
    paths = [[name] for name in buffers]
    viz._handle_msg(
        {
            "content": {
                "data": {"method": "update", "state": state, "buffer_paths": paths},
            },
            "buffers": [memoryview(b) for b in buffers.values()],
        }
    )


def test_head_sends_only_that_heads_qk_as_binary(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture, head=(1, 2))
    queries, keys = small_capture.qk(1, 2)
    state = viz.get_state()
    assert state["head"] == (1, 2)
    assert state["_qk_meta"] == {
        "layer": 1,
        "head": 2,
        "n_tokens": 9,
        "d_head": 8,
        "dtype": "float16",
        "value_norms": small_capture.has_value_norms,  # _value_norms holds them when True
    }
    assert isinstance(state["_queries"], bytes)
    np.testing.assert_array_equal(
        np.frombuffer(state["_queries"], "<f2"), queries.astype(np.float16).ravel()
    )
    np.testing.assert_array_equal(
        np.frombuffer(state["_keys"], "<f2"), keys.astype(np.float16).ravel()
    )

    viz.head = (2, 3)
    queries, _ = small_capture.qk(2, 3)
    assert viz._qk_meta["layer"] == 2 and viz._qk_meta["head"] == 3
    np.testing.assert_array_equal(
        np.frombuffer(viz._queries, "<f2"), queries.astype(np.float16).ravel()
    )


def test_float32_wire_is_exact(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture, head=(0, 1), dtype="float32")
    queries, _ = small_capture.qk(0, 1)
    np.testing.assert_array_equal(np.frombuffer(viz._queries, "<f4"), queries.ravel())


def test_traits_round_trip_from_the_frontend(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture)
    frontend_update(viz, {"head": [2, 1], "normalize": False, "color_by": "seq"}, {})
    assert viz.head == (2, 1)
    assert viz.normalize is False
    assert viz.color_by == "seq"
    # Python -> frontend: the state that would be sent carries the same values.
    state = viz.get_state()
    assert (state["head"], state["normalize"], state["color_by"]) == ((2, 1), False, "seq")
    assert viz._qk_meta["layer"] == 2 and viz._qk_meta["head"] == 1


def test_matrix_order_takes_each_summary_number_and_nothing_else(
    small_capture: av.Capture,
) -> None:
    for order in ("index", "entropy", "distance", "offset"):
        assert av.AttentionViz(small_capture, matrix_order=order).matrix_order == order
    viz = av.AttentionViz(small_capture)
    with pytest.raises(traitlets.TraitError, match="matrix_order"):
        viz.matrix_order = "bias"
    assert viz.matrix_order == "index"


def test_selection_from_the_frontend_is_a_dataframe_of_token_rows(
    small_capture: av.Capture,
) -> None:
    viz = av.AttentionViz(small_capture)
    seen: list[pd.DataFrame] = []
    viz.on_selection(seen.append)
    frontend_update(viz, {}, {"_selected_rows": np.array([1, 6], "<u4").tobytes()})
    selection = viz.selection
    assert list(selection.index) == [1, 6]
    assert list(selection.text) == ["the", "<b>bold</b>"]
    assert list(selection.seq) == [0, 1]
    assert list(selection.label) == [0, 1]  # user columns come along
    assert len(seen) == 1 and list(seen[0].index) == [1, 6]
    frontend_update(viz, {}, {"_selected_rows": b""})
    assert viz.selection.empty


def test_select_from_pandas(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture)
    tokens = small_capture.tokens
    viz.select(tokens[tokens.text == "the"])
    assert list(viz.selected_rows) == [1, 7]
    assert np.frombuffer(viz.get_state()["_selected_rows"], "<u4").tolist() == [1, 7]
    viz.select(tokens.seq == 1)
    assert list(viz.selection.text) == ["[CLS]", "<b>bold</b>", "the", "[SEP]"]
    viz.select([3, 3, 0])
    assert list(viz.selected_rows) == [0, 3]
    viz.clear_selection()
    assert viz.selection.empty


def test_select_rejects_rows_not_in_the_capture(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture)
    foreign = pd.DataFrame({"text": ["x"]}, index=[99])
    with pytest.raises(ValueError, match=r"not in capture\.tokens"):
        viz.select(foreign)
    with pytest.raises(ValueError, match="one value per token"):
        viz.select(np.array([True, False]))
    with pytest.raises(IndexError, match=r"0\.\.8"):
        viz.select([9])
    viz.select([2])
    with pytest.raises(TypeError, match="boolean mask or integer row"):
        viz.select([0.5])
    assert list(viz.selected_rows) == [2]  # a rejected call leaves the selection as it was


@pytest.mark.parametrize("bad", [(3, 0), (0, 4), (-1, 0)])
def test_bad_head_index_gives_a_clear_error(small_capture: av.Capture, bad: tuple) -> None:
    viz = av.AttentionViz(small_capture, head=(1, 1))
    with pytest.raises(traitlets.TraitError, match=r"layers 0\.\.2 and heads 0\.\.3"):
        viz.head = bad
    assert viz.head == (1, 1)
    assert viz._qk_meta["layer"] == 1  # nothing was sent for the bad head
    with pytest.raises(traitlets.TraitError, match="out of range"):
        av.AttentionViz(small_capture, head=bad)


def test_unknown_keyword_arguments_fail_loudly(small_capture: av.Capture) -> None:
    with pytest.raises(TypeError, match="colour_by"):
        av.AttentionViz(small_capture, colour_by="seq")
    with pytest.raises(TypeError, match=r"needs an attentionviz\.Capture"):
        av.AttentionViz(small_capture.tokens)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dtype"):
        av.AttentionViz(small_capture, dtype="int8")


def test_token_table_crosses_as_arrow(small_capture: av.Capture) -> None:
    import pyarrow as pa

    viz = av.AttentionViz(small_capture)
    table = pa.ipc.open_stream(viz._tokens).read_all()
    assert table.column("text").to_pylist() == small_capture.tokens.text.tolist()
    assert table.column("seq").to_pylist() == small_capture.tokens.seq.tolist()
    for column in ("pos", "pos_norm", "token_id", "special", "label"):
        assert column in table.column_names
    # Columns Arrow cannot type still cross, as text.
    odd = pd.DataFrame({"text": ["a"], "seq": [0], "obj": [{"nested": object()}]})
    table = pa.ipc.open_stream(tokens_to_arrow(odd)).read_all()
    assert table.column("obj").type == pa.string()


def test_html_export_is_self_contained_and_escapes_token_text(
    small_capture: av.Capture, tmp_path
) -> None:
    viz = av.AttentionViz(small_capture, head=(1, 0))
    path = viz.save(tmp_path / "view.html", progress=False)
    page = path.read_text()
    assert "http://" not in page and "https://" not in page  # no CDN: works offline
    assert "<b>bold</b>" not in page  # token text only ever travels as data
    assert page.count("<script") == 3
    with pytest.raises(ValueError, match=r"supported: \.html"):
        viz.save(tmp_path / "view.pdf")


def request_head(viz: av.AttentionViz, content: dict) -> list[tuple[dict, list]]:
    """Send a custom message as the view does and return what the kernel answered."""
    sent: list[tuple[dict, list]] = []
    viz.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    viz._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})
    return sent


def test_view_can_request_any_heads_qk(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture, head=(0, 0))
    sent = request_head(viz, {"kind": "qk", "id": 7, "layer": 2, "head": 1})
    assert len(sent) == 1
    content, buffers = sent[0]
    assert content == {
        "kind": "qk",
        "reply_to": 7,
        "ok": True,
        "layer": 2,
        "head": 1,
        "n_tokens": 9,
        "d_head": 8,
        "dtype": "float16",
    }
    queries, keys = small_capture.qk(2, 1)
    np.testing.assert_array_equal(
        np.frombuffer(buffers[0], "<f2"), queries.astype(np.float16).ravel()
    )
    np.testing.assert_array_equal(np.frombuffer(buffers[1], "<f2"), keys.astype(np.float16).ravel())
    assert viz.head == (0, 0)  # answering a request does not change the shown head
    # The matrix view asks for the first rows only (its thumbnail sample).
    content, buffers = request_head(viz, {"kind": "qk", "id": 8, "layer": 2, "head": 1, "rows": 4})[
        0
    ]
    assert content["n_tokens"] == 4
    np.testing.assert_array_equal(
        np.frombuffer(buffers[0], "<f2"), queries[:4].astype(np.float16).ravel()
    )


def test_bad_head_request_is_answered_with_an_error(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture)
    sent = request_head(viz, {"kind": "qk", "id": 3, "layer": 9, "head": 0})
    assert (sent[0][0]["kind"], sent[0][0]["reply_to"], sent[0][0]["ok"]) == ("qk", 3, False)
    assert "out of range" in sent[0][0]["error"]
    assert request_head(viz, {"kind": "something-else"}) == []  # a notification nobody takes


def test_png_save_is_written_atomically_when_the_view_answers(
    small_capture: av.Capture, tmp_path
) -> None:
    viz = av.AttentionViz(small_capture)
    target = tmp_path / "fig.png"
    target.write_bytes(b"old figure")
    sent = request_head(viz, {"kind": "noop"})  # installs the recorder on viz.send
    request = viz.save(target, scale=2)
    assert "waiting for the view" in repr(request)
    content = sent[-1][0]
    assert content == {"kind": "export", "id": request.id, "format": "png", "scale": 2.0}
    assert target.read_bytes() == b"old figure"  # nothing touched before the answer
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    viz._handle_msg(
        {
            "content": {
                "data": {
                    "method": "custom",
                    "content": {
                        "kind": "export",
                        "reply_to": request.id,
                        "ok": True,
                        "format": "png",
                    },
                }
            },
            "buffers": [memoryview(png)],
        }
    )
    assert request.done and target.read_bytes() == png
    with pytest.raises(ValueError, match="scale"):
        viz.save(tmp_path / "x.png", scale=0)


def test_failed_export_keeps_the_old_file(small_capture: av.Capture, tmp_path) -> None:
    viz = av.AttentionViz(small_capture)
    target = tmp_path / "fig.svg"
    target.write_text("<svg/>")
    request_head(viz, {"kind": "noop"})
    request = viz.save(target)
    failed = {"kind": "export", "reply_to": request.id, "ok": False, "error": "no layout"}
    request_head(viz, failed)
    assert request.error == "no layout" and not request.done
    assert target.read_text() == "<svg/>"


def test_view_can_ask_for_the_standalone_html(small_capture: av.Capture) -> None:
    viz = av.AttentionViz(small_capture)
    sent = request_head(viz, {"kind": "html", "id": 4})
    content, buffers = sent[0]
    assert content == {"kind": "html", "reply_to": 4, "ok": True}
    assert bytes(buffers[0]).startswith(b"<!doctype html>")
