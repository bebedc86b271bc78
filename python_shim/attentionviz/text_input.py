"""Text typed into the widget: the ONNX model files the browser needs, and the rows it adds.

``AttentionViz(cap, onnx="exported/")`` (a folder or ``.onnx`` file written by
``attentionviz.onnx.export``) shows an "Add text…" box in the single-head view. The first
time the user presses Enter there, the view asks the kernel for the model once
(``{"type": "onnx-request", "request": id}``); the kernel answers with the files as raw
binary buffers over the widget's custom messages, in chunks of at most ``CHUNK_BYTES``
(``{"type": "onnx-chunk", "request", "file", "offset", "size"}`` + one buffer each, then
``{"type": "onnx-done", "request", "files": {name: size}}`` or ``"onnx-error"``). Files:
``model`` (the ``.onnx``), ``tokenizer`` (tokenizer.json), ``tokenizer_config``,
``manifest`` (attnviz-onnx.json) and ``wasm`` (onnxruntime-web's runtime,
``onnx.ort_wasm_path()``). Nothing is base64- or JSON-encoded.

The view computes Q/K of every layer in a worker, places the new tokens into the shown
head's layout, and sends their rows back (``{"type": "added-tokens", "tokens": {...}}``,
JSON: text, seq, pos, token_id, sentence); ``added_frame`` turns them into the rows of
``viz.added_tokens``. Their Q/K stay in the browser.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

#: Largest buffer in one custom message. Whole-file messages of 100+ MB work through
#: jupyter-server too, but chunks keep the kernel's and the server's peak memory low and
#: let the view show progress.
CHUNK_BYTES = 16 << 20

#: Columns of ``viz.added_tokens`` (``source`` is always ``"browser"``).
ADDED_COLUMNS = ("text", "seq", "pos", "pos_norm", "token_id", "special", "source", "sentence")


class TextInputError(ValueError):
    """An ONNX model that cannot add tokens to this capture (names the mismatch)."""


class OnnxFiles:
    """An exported model checked against a capture, and its files as the browser gets them."""

    def __init__(self, path: str | os.PathLike[str], capture: Any) -> None:
        from . import onnx as av_onnx

        self.manifest = av_onnx.load(path)
        check_matches(self.manifest, capture)
        onnx_path = pathlib.Path(self.manifest["onnx_path"])
        folder = onnx_path.parent
        self.paths: dict[str, pathlib.Path] = {
            "model": onnx_path,
            "tokenizer": folder / self.manifest["tokenizer"],
            "manifest": folder / av_onnx.MANIFEST,
            "wasm": av_onnx.ort_wasm_path(),
        }
        config = folder / self.manifest.get("tokenizer_config", "tokenizer_config.json")
        if config.exists():
            self.paths["tokenizer_config"] = config

    def info(self) -> dict[str, Any]:
        """What the view shows before asking for the bytes (the ``_text_input`` trait)."""
        m = self.manifest
        return {
            "model_name": str(m.get("model_name", "")),
            "n_layers": int(m["n_layers"]),
            "n_heads": int(m["n_heads"]),
            "d_head": int(m["d_head"]),
            "max_length": int(m["max_length"]),
            "dtype": str(m.get("dtype", "float32")),
            "bytes": sum(p.stat().st_size for p in self.paths.values()),
        }

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[str, int, int, memoryview]]:
        """``(file, offset, size, bytes)`` for every file, in chunks of <= ``chunk_bytes``."""
        for name, path in self.paths.items():
            data = memoryview(path.read_bytes())
            size = len(data)
            for offset in range(0, max(size, 1), chunk_bytes):
                yield name, offset, size, data[offset : offset + chunk_bytes]

    def send(self, send: Callable[..., None], request: Any, chunk_bytes: int = CHUNK_BYTES) -> None:
        """Answer one ``onnx-request``: every chunk, then ``onnx-done``."""
        sizes: dict[str, int] = {}
        for name, offset, size, data in self.chunks(chunk_bytes):
            sizes[name] = size
            send(
                {
                    "type": "onnx-chunk",
                    "request": request,
                    "file": name,
                    "offset": offset,
                    "size": size,
                },
                buffers=[data],
            )
        send({"type": "onnx-done", "request": request, "files": sizes})


def check_matches(manifest: dict[str, Any], capture: Any) -> None:
    """Raise ``TextInputError`` naming every way the exported model differs from the capture
    (layers, heads, head size, model name): its Q/K would not share the capture's space."""
    problems = []
    layer_ids = list(getattr(capture, "layer_ids", range(capture.n_layers)))
    if layer_ids != list(range(int(manifest["n_layers"]))):
        problems.append(
            f"layers: the capture stores model layers {_short(layer_ids)}, the ONNX model "
            f"outputs layers 0..{int(manifest['n_layers']) - 1}"
        )
    for key, label in (("n_heads", "heads per layer"), ("d_head", "d_head")):
        if int(manifest[key]) != int(getattr(capture, key)):
            problems.append(
                f"{label}: capture {int(getattr(capture, key))}, ONNX model {int(manifest[key])}"
            )
    ours, theirs = str(capture.model_name or ""), str(manifest.get("model_name") or "")
    if ours not in ("", "custom") and theirs and ours != theirs:
        problems.append(f"model: the capture is of {ours!r}, the ONNX model of {theirs!r}")
    if problems:
        raise TextInputError(
            "this ONNX model does not match the capture, so its queries and keys cannot be "
            "placed in the capture's layouts: " + "; ".join(problems)
        )


def _short(values: list[int]) -> str:
    return str(values) if len(values) <= 8 else f"[{values[0]}, {values[1]}, ..., {values[-1]}]"


def added_frame(tokens: Any, first_row: int) -> pd.DataFrame:
    """The rows the view added (``{"text": [...], "seq": [...], "pos": [...],
    "token_id": [...], "special": [...], "sentence": [...]}``) as a DataFrame indexed from
    ``first_row`` (the capture's row count), one row per token."""
    if not isinstance(tokens, dict):
        raise ValueError("added tokens must be a dict of columns")
    n = len(tokens.get("text") or [])
    for name in ("seq", "pos", "token_id"):
        if len(tokens.get(name) or []) != n:
            raise ValueError(f"added tokens: column {name!r} has not {n} values")
    frame = pd.DataFrame(
        {
            "text": [str(v) for v in tokens.get("text") or []],
            "seq": pd.array(tokens.get("seq") or [], dtype="int64"),
            "pos": pd.array(tokens.get("pos") or [], dtype="int64"),
            "token_id": pd.array(tokens.get("token_id") or [], dtype="int64"),
            "special": [bool(v) for v in tokens.get("special") or [False] * n],
            "source": ["browser"] * n,
            "sentence": [str(v) for v in tokens.get("sentence") or [""] * n],
        },
        index=pd.RangeIndex(first_row, first_row + n),
    )
    lengths = frame.groupby("seq")["pos"].transform("max") if n else frame["pos"]
    frame.insert(3, "pos_norm", (frame["pos"] / lengths.where(lengths > 0, 1)).astype("float64"))
    return frame[list(ADDED_COLUMNS)]
