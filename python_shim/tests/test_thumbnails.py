"""The ``thumbnails`` request: many heads' 2D PCA computed in the kernel (matrix view)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import attentionviz as av
from attentionviz.widget.kernel_layout import normalize_qk
from attentionviz.widget.thumbnails import head_pca


@pytest.fixture(scope="module")
def capture() -> av.Capture:
    rng = np.random.default_rng(11)
    n = 40
    tokens = pd.DataFrame({"text": [f"w{i}" for i in range(n)], "seq": np.arange(n) // 10})
    # Anisotropic so the principal axes are well separated.
    queries = rng.normal(size=(2, 4, n, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    keys = rng.normal(size=(2, 2, n, 6)) + 1.0  # grouped-query: 2 kv heads
    return av.Capture.from_arrays(
        tokens, queries.astype(np.float32), keys.astype(np.float32), scale=0.4, mask="causal"
    )


def ask(viz: av.AttentionViz, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    viz.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    message = {"data": {"method": "custom", "content": {"kind": "thumbnails", "id": 7, **request}}}
    viz._handle_msg({"content": message, "buffers": []})
    ((reply, buffers),) = sent
    return reply, buffers


def test_a_head_pca_is_the_projection_on_its_two_principal_axes(capture: av.Capture) -> None:
    q, k = capture.qk(1, 3)
    layout = head_pca(q, k)
    nq, nk = normalize_qk(q, k)
    joint = np.concatenate([nq, nk]).astype(np.float64)
    centred = joint - joint.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reference = centred @ vt[:2].T
    # SVD and the covariance eigen-decomposition are different float paths: 1e-4 relative.
    scale = np.abs(reference).max()
    assert np.allclose(np.abs(layout), np.abs(reference), atol=1e-4 * scale)
    # The sign rule of src/layout/pca.ts: each axis' largest-magnitude component positive,
    # i.e. the layout equals the reference with each column's sign fixed that way.
    for axis in range(2):
        vector = vt[axis] * (1 if vt[axis][np.argmax(np.abs(vt[axis]))] > 0 else -1)
        assert np.allclose(layout[:, axis], centred @ vector, atol=1e-4 * scale)
    assert layout[:, 0].var() >= layout[:, 1].var()


def test_the_reply_holds_every_asked_head_in_order_over_the_first_rows(capture: av.Capture) -> None:
    viz = av.AttentionViz(capture)
    heads = [[1, 2], [0, 0], [1, 3]]
    reply, buffers = ask(viz, {"heads": heads, "rows": 20, "normalize": True})
    assert reply["ok"] and reply["reply_to"] == 7 and reply["n_tokens"] == 20
    assert reply["heads"] == heads
    data = np.frombuffer(buffers[0], dtype="<f4").reshape(3, 40, 2)
    q, k = capture.qk(1, 3, rows=20)
    assert np.allclose(data[2], head_pca(q, k), atol=0)  # the same function, same bits
    q, k = capture.qk(0, 0, rows=20)
    assert not np.allclose(
        data[1], head_pca(q, k, normalize=False), atol=1e-3
    )  # normalization matters
    _, plain_buffers = ask(viz, {"heads": [[0, 0]], "rows": 20, "normalize": False})
    assert np.allclose(
        np.frombuffer(plain_buffers[0], "<f4").reshape(40, 2), head_pca(q, k, normalize=False)
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"heads": [[2, 0]], "rows": 5},
            r"head \[2, 0\] is not a \[layer, head\] of this capture \(2 layers x 4 heads\)",
        ),
        ({"heads": [], "rows": 5}, "non-empty list"),
        ({"heads": [[0, 0]], "rows": 0}, "rows must be a positive integer"),
        ({"heads": [[0, 0]] * 300, "rows": 5}, "at most 256 heads"),
    ],
)
def test_bad_thumbnail_requests_fail_naming_the_problem(
    capture: av.Capture, request_: dict, message: str
) -> None:
    reply, buffers = ask(av.AttentionViz(capture), request_)
    assert reply["ok"] is False and buffers == []
    assert re.search(message, reply["error"]), reply["error"]
