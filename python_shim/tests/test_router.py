"""The widget's request/reply channel (protocol v1): every kind the view sends is answered
with its id and kind, errors become ``ok: false`` replies, and the kernel's own ``export``
request is settled by the first matching reply only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.widget.router import Router

Sent = list[tuple[dict[str, Any], list[Any]]]


@pytest.fixture(scope="module")
def capture() -> av.Capture:
    rng = np.random.default_rng(5)
    tokens = pd.DataFrame({"text": [f"w{i}" for i in range(7)], "seq": [0] * 3 + [1] * 4})
    queries = rng.normal(size=(2, 2, 7, 4)).astype(np.float32)
    return av.Capture.from_arrays(tokens, queries, queries[:, :1], scale=0.5, mask="causal")


def deliver(viz: av.AttentionViz, content: Any, buffers: list[bytes] | None = None) -> Sent:
    """A custom message as it reaches the kernel from the view; what the kernel sent back."""
    sent: Sent = []
    viz.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    message = {"data": {"method": "custom", "content": content}}
    viz._handle_msg({"content": message, "buffers": [memoryview(b) for b in buffers or []]})
    return sent


@pytest.mark.parametrize(
    ("request_", "result", "n_buffers"),
    [
        ({"kind": "qk", "layer": 1, "head": 1}, {"layer": 1, "head": 1, "n_tokens": 7}, 2),
        ({"kind": "qk", "layer": 0, "head": 0, "rows": 3}, {"n_tokens": 3, "d_head": 4}, 2),
        ({"kind": "html"}, {}, 1),
    ],
)
def test_each_request_kind_is_answered_with_its_id_and_kind(
    capture: av.Capture, request_: dict, result: dict, n_buffers: int
) -> None:
    viz = av.AttentionViz(capture)
    ((reply, buffers),) = deliver(viz, {**request_, "id": 41})
    assert (reply["kind"], reply["reply_to"], reply["ok"]) == (request_["kind"], 41, True)
    assert "id" not in reply and result.items() <= reply.items()
    assert len(buffers) == n_buffers and all(len(b) for b in buffers)


def test_image_and_onnx_requests_fail_with_a_reason_when_there_is_nothing_to_send(
    capture: av.Capture,
) -> None:
    viz = av.AttentionViz(capture)
    for kind, params, reason in (
        ("image", {"seq": 0}, "no images"),
        ("onnx-files", {}, "no ONNX model"),
        ("onnx-chunk", {"file": "model", "offset": 0}, "no ONNX model"),
    ):
        ((reply, buffers),) = deliver(viz, {"kind": kind, "id": 3, **params})
        assert (reply["kind"], reply["reply_to"], reply["ok"], buffers) == (kind, 3, False, [])
        assert reason in reply["error"]


def test_unknown_kind_with_an_id_gets_an_error_and_the_kernel_keeps_going(
    capture: av.Capture,
) -> None:
    viz = av.AttentionViz(capture)
    ((reply, _),) = deliver(viz, {"kind": "teleport", "id": 8})
    assert reply == {
        "kind": "teleport",
        "reply_to": 8,
        "ok": False,
        "error": "unknown request kind 'teleport'",
    }
    # malformed messages are ignored, not answered and not raised
    for junk in (["qk"], "qk", None, {"id": 2}, {"kind": 5, "id": 2}, {"kind": "qk", "id": -1}):
        assert deliver(viz, junk) == []
    ((reply, _),) = deliver(viz, {"kind": "qk", "id": 9, "layer": 0, "head": 1})
    assert reply["ok"] is True  # still answering


def test_a_handler_that_raises_gives_ok_false_with_its_message() -> None:
    sent: Sent = []

    def broken(_request: dict) -> tuple[dict, list]:
        raise RuntimeError("disk on fire")

    router = Router(
        lambda content, buffers=None: sent.append((content, list(buffers or []))),
        {"qk": broken, "html": lambda _r: ({"extra": 1}, [b"page"])},
    )
    router.receive({"kind": "qk", "id": 1})
    router.receive({"kind": "html", "id": 2})
    assert sent == [
        ({"kind": "qk", "reply_to": 1, "ok": False, "error": "disk on fire"}, []),
        ({"kind": "html", "reply_to": 2, "ok": True, "extra": 1}, [b"page"]),
    ]


def test_result_fields_cannot_overwrite_the_reply_envelope() -> None:
    sent: Sent = []
    router = Router(
        lambda content, buffers=None: sent.append((content, list(buffers or []))),
        {"qk": lambda _r: ({"kind": "image", "reply_to": 99, "ok": False}, [])},
    )
    router.receive({"kind": "qk", "id": 4})
    assert sent[0][0] == {"kind": "qk", "reply_to": 4, "ok": True}


def test_added_tokens_notification_is_not_answered(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    tokens = {"text": ["hi"], "seq": [2], "pos": [0], "token_id": [7]}
    assert deliver(viz, {"kind": "added-tokens", "tokens": tokens}) == []
    assert viz.added_tokens.text.tolist() == ["hi"]
    assert viz.added_tokens.index.tolist() == [capture.n_tokens]


def test_export_requests_number_from_one_counter_and_take_the_first_reply(
    capture: av.Capture, tmp_path: Path
) -> None:
    viz = av.AttentionViz(capture)
    sent = deliver(viz, {"kind": "noop"})  # installs the recorder
    first = viz.save(tmp_path / "a.png")
    second = viz.save(tmp_path / "b.svg", scale=1)
    requests = [content for content, _ in sent]
    assert [r["id"] for r in requests] == [first.id, second.id] and first.id < second.id
    assert all(r["kind"] == "export" for r in requests)
    # a reply of another kind with the same id, and a foreign id: both ignored
    deliver(viz, {"kind": "qk", "reply_to": first.id, "ok": True}, [b"not a png"])
    deliver(viz, {"kind": "export", "reply_to": 12345, "ok": True}, [b"foreign"])
    assert not first.done and first.error is None
    # the second request answered first (out of order), then the first
    deliver(viz, {"kind": "export", "reply_to": second.id, "ok": True}, [b"<svg/>"])
    deliver(viz, {"kind": "export", "reply_to": first.id, "ok": True}, [b"PNG-1"])
    assert second.done and (tmp_path / "b.svg").read_bytes() == b"<svg/>"
    assert first.done and (tmp_path / "a.png").read_bytes() == b"PNG-1"
    # a second view answering late, or a duplicate: the file stays the first reply's
    deliver(viz, {"kind": "export", "reply_to": first.id, "ok": True}, [b"PNG-2"])
    deliver(viz, {"kind": "export", "reply_to": first.id, "ok": False, "error": "late"})
    assert (tmp_path / "a.png").read_bytes() == b"PNG-1" and first.error is None
    assert viz._router.pending == {}


def test_an_export_error_reply_fails_the_request_and_keeps_the_file(
    capture: av.Capture, tmp_path: Path
) -> None:
    viz = av.AttentionViz(capture)
    (tmp_path / "fig.png").write_bytes(b"old")
    deliver(viz, {"kind": "noop"})
    request = viz.save(tmp_path / "fig.png")
    deliver(viz, {"kind": "export", "reply_to": request.id, "ok": False, "error": "off screen"})
    assert request.error == "off screen" and not request.done
    assert (tmp_path / "fig.png").read_bytes() == b"old"
