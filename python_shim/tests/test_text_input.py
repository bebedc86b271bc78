"""Text typed into the widget: ``AttentionViz(cap, onnx=...)``, the model files sent to the
view as binary chunks on request, ONNX-vs-capture validation, and the rows the view adds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from conftest import TEXTS, tiny_model

import attentionviz as av
from attentionviz import onnx as av_onnx
from attentionviz.models.capture import capture
from attentionviz.widget.text_input import CHUNK_BYTES, OnnxFiles, TextInputError


@pytest.fixture(scope="module")
def gpt2(gpt2_tokenizer: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A tiny GPT-2's capture and its ONNX export (2 layers x 4 heads, d_head 16)."""
    model = tiny_model("gpt2")
    path = av_onnx.export(model, gpt2_tokenizer, tmp_path_factory.mktemp("gpt2") / "model.onnx")
    cap = capture(model, gpt2_tokenizer, TEXTS[:2], progress=False)
    return cap, path


def custom_message(viz: av.AttentionViz, content: dict) -> list[tuple[dict, list]]:
    """Deliver a custom message as the view sends it; return what the kernel answered."""
    sent: list[tuple[dict, list]] = []
    viz.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    viz._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})
    return sent


def test_onnx_option_offers_the_model_to_the_view(gpt2: tuple[Any, Path]) -> None:
    cap, path = gpt2
    viz = av.AttentionViz(cap, onnx=path.parent)  # the folder or the .onnx file
    info = viz.get_state()["_text_input"]
    assert info["n_layers"] == 2 and info["n_heads"] == 4 and info["d_head"] == 16
    assert info["max_length"] == 128
    assert info["bytes"] > path.stat().st_size  # + tokenizer, manifest, WASM runtime
    assert av.AttentionViz(cap).get_state()["_text_input"] == {}
    assert viz.added_tokens.empty


def test_model_files_cross_as_binary_chunks_on_request(gpt2: tuple[Any, Path]) -> None:
    cap, path = gpt2
    files = OnnxFiles(path, cap)
    sizes = files.sizes()
    assert sizes == {name: p.stat().st_size for name, p in files.paths.items()}
    assert set(sizes) == {"model", "tokenizer", "tokenizer_config", "manifest", "wasm"}
    # Reassembled chunk by chunk, every file is byte-identical; no chunk exceeds the limit.
    for name, p in files.paths.items():
        blob, offset = bytearray(), 0
        while offset < sizes[name]:
            size, data = files.read_chunk(name, offset, 1 << 16)
            assert size == sizes[name] and 0 < len(data) <= 1 << 16
            blob += data
            offset += len(data)
        assert bytes(blob) == p.read_bytes(), name
    assert files.paths["wasm"] == av_onnx.ort_wasm_path()
    assert json.loads(files.read_chunk("manifest", 0)[1])["n_layers"] == 2
    with pytest.raises(ValueError, match="no model file 'weights'"):
        files.read_chunk("weights", 0)
    with pytest.raises(ValueError, match="outside"):
        files.read_chunk("model", sizes["model"] + 1)


def test_onnx_files_and_chunks_through_the_widget_router(gpt2: tuple[Any, Path]) -> None:
    cap, path = gpt2
    viz = av.AttentionViz(cap, onnx=path)
    ((listing, buffers),) = custom_message(viz, {"kind": "onnx-files", "id": 9})
    assert (listing["kind"], listing["reply_to"], listing["ok"], buffers) == (
        "onnx-files",
        9,
        True,
        [],
    )
    assert listing["files"]["model"] == path.stat().st_size
    model, request_id = bytearray(), 10
    while len(model) < listing["files"]["model"]:
        message = {"kind": "onnx-chunk", "id": request_id, "file": "model", "offset": len(model)}
        ((reply, buffers),) = custom_message(viz, message)
        assert (reply["reply_to"], reply["ok"], reply["file"], reply["offset"]) == (
            request_id,
            True,
            "model",
            len(model),
        )
        assert reply["size"] == len(path.read_bytes()) and len(json.dumps(reply)) < 200
        assert 0 < len(buffers[0]) <= CHUNK_BYTES
        model += bytes(buffers[0])
        request_id += 1
    assert bytes(model) == path.read_bytes()
    # A view without a model is told why, not left waiting.
    sent = custom_message(av.AttentionViz(cap), {"kind": "onnx-files", "id": 1})
    assert sent == [
        (
            {
                "kind": "onnx-files",
                "reply_to": 1,
                "ok": False,
                "error": "no ONNX model: create the view with AttentionViz(cap, onnx=...)",
            },
            [],
        )
    ]


def test_added_tokens_and_selection_include_them(gpt2: tuple[Any, Path]) -> None:
    cap, path = gpt2
    viz = av.AttentionViz(cap, onnx=path)
    n = len(cap.tokens)
    sentence = "the dog ran"
    tokens = {
        "text": ["the", "dog", "ran"],
        "seq": [2, 2, 2],
        "pos": [0, 1, 2],
        "token_id": [1996, 3899, 2743],
        "special": [False, False, False],
        "sentence": [sentence] * 3,
    }
    custom_message(viz, {"kind": "added-tokens", "tokens": tokens})
    added = viz.added_tokens
    assert list(added.index) == [n, n + 1, n + 2]
    assert added.text.tolist() == ["the", "dog", "ran"]
    assert added.source.unique().tolist() == ["browser"]
    np.testing.assert_allclose(added.pos_norm, [0, 0.5, 1])
    # The view selects row n + 1 (the typed "dog") and a capture row.
    viz._selected_rows = np.asarray([1, n + 1], "<u4").tobytes()
    selection = viz.selection
    assert selection.index.tolist() == [1, n + 1]
    assert selection.text.tolist() == [cap.tokens.text.iloc[1], "dog"]
    assert selection.source.iloc[1] == "browser" and pd.isna(selection.source.iloc[0])
    # Python can select them too (row numbers after the capture's).
    viz.select([n + 2])
    assert viz.selection.text.tolist() == ["ran"]
    with pytest.raises(IndexError, match=rf"0\.\.{n + 2}"):
        viz.select([n + 3])
    # The view sends its whole list each time: re-sending replaces, never duplicates.
    custom_message(viz, {"kind": "added-tokens", "tokens": tokens})
    assert len(viz.added_tokens) == 3
    custom_message(viz, {"kind": "added-tokens", "tokens": {"text": ["x"], "seq": []}})
    assert "unreadable added tokens" in viz.error and len(viz.added_tokens) == 3


def _capture_like(cap: Any, **changes: Any) -> av.Capture:
    """A capture shaped like ``cap`` with n_layers / n_heads / d_head / model_name changed."""
    n_layers = changes.get("n_layers", cap.n_layers)
    n_heads = changes.get("n_heads", cap.n_heads)
    d_head = changes.get("d_head", cap.d_head)
    n = len(cap.tokens)
    q = np.ones((n_layers, n_heads, n, d_head), np.float32)
    return av.Capture.from_arrays(
        cap.tokens[["text", "seq"]],
        q,
        q,
        scale=cap.scale,
        mask=cap.mask,
        model_name=changes.get("model_name", cap.model_name),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"n_layers": 3},
            r"layers: the capture stores model layers \[0, 1, 2\], "
            r"the ONNX model outputs layers 0\.\.1",
        ),
        ({"n_heads": 2}, r"heads per layer: capture 2, ONNX model 4"),
        ({"d_head": 8}, r"d_head: capture 8, ONNX model 16"),
        ({"model_name": "bert-base-uncased"}, r"model: the capture is of 'bert-base-uncased'"),
    ],
)
def test_mismatched_onnx_is_refused_naming_the_mismatch(
    gpt2: tuple[Any, Path], changes: dict, message: str
) -> None:
    cap, path = gpt2
    other = _capture_like(cap, **changes)
    with pytest.raises(TextInputError, match=message):
        av.AttentionViz(other, onnx=path)


def test_custom_captures_skip_the_name_check_and_bad_paths_are_named(
    gpt2: tuple[Any, Path], tmp_path: Path
) -> None:
    cap, path = gpt2
    viz = av.AttentionViz(_capture_like(cap, model_name="custom"), onnx=path)
    assert viz._text_input["n_heads"] == 4
    with pytest.raises(av_onnx.OnnxModelError, match="not a model written by attentionviz"):
        av.AttentionViz(cap, onnx=tmp_path)
    with pytest.raises(TypeError, match="onnx"):
        av.AttentionViz(cap, onxx=path)
