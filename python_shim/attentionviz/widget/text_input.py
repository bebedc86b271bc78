"""Text typed into the widget: the ONNX model files the browser needs, and the rows it adds.

``AttentionViz(cap, onnx="exported/")`` (a folder or ``.onnx`` file written by
``attentionviz.onnx.export``) shows an "Add text…" box in the single-head view. The first
time the user presses Enter there, the view fetches the model once over the widget's
request channel (protocol v1, ``router``): an ``onnx-files`` request answers
``files: {name: size}``, then one ``onnx-chunk`` request per chunk (``file``, ``offset``)
answers ``file``, ``offset``, ``size`` (the whole file's) and one raw binary buffer of at
most ``CHUNK_BYTES`` read from ``offset`` (only that chunk is read from disk). Files:
``model`` (the ``.onnx``), ``tokenizer`` (tokenizer.json), ``tokenizer_config``,
``manifest`` (attnviz-onnx.json) and ``wasm`` (onnxruntime-web's runtime,
``bundle.ort_wasm_path()``). Nothing is base64- or JSON-encoded.

The view computes Q/K of every layer in a worker, places the new tokens into the shown
head's layout, and sends their rows back in an ``added-tokens`` notification
(``{"kind": "added-tokens", "tokens": {...}}``, JSON: text, seq, pos, token_id, sentence);
``added_frame`` turns them into the rows of ``viz.added_tokens``. Their Q/K stay in the browser.
"""

from __future__ import annotations

import operator
import os
import pathlib
from typing import Any

import pandas as pd

from ..core.onnx_manifest import MANIFEST, load_onnx_model
from .bundle import ort_wasm_path

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
        self.manifest = load_onnx_model(path)
        check_matches(self.manifest, capture)
        onnx_path = pathlib.Path(self.manifest["onnx_path"])
        folder = onnx_path.parent
        self.paths: dict[str, pathlib.Path] = {
            "model": onnx_path,
            "tokenizer": folder / self.manifest["tokenizer"],
            "manifest": folder / MANIFEST,
            "wasm": ort_wasm_path(),
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

    def sizes(self) -> dict[str, int]:
        """``{file: size in bytes}``: the ``onnx-files`` reply."""
        return {name: path.stat().st_size for name, path in self.paths.items()}

    def read_chunk(
        self, name: Any, offset: Any, chunk_bytes: int = CHUNK_BYTES
    ) -> tuple[int, bytes]:
        """``(size of the whole file, at most chunk_bytes bytes from offset)`` of file
        ``name``: only that chunk is read from disk."""
        path = self.paths.get(name) if isinstance(name, str) else None
        if path is None:
            raise ValueError(f"no model file {name!r}; the files are {sorted(self.paths)}")
        try:
            start = operator.index(offset)
        except TypeError:
            raise ValueError(f"offset must be an integer, got {offset!r}") from None
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if not 0 <= start <= size:
                raise ValueError(f"offset {start} is outside {name} (0..{size})")
            handle.seek(start)
            return size, handle.read(chunk_bytes)


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
