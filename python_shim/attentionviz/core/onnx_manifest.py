"""An ONNX export's manifest (``attnviz-onnx.json``): its name, format, and the check that a
model folder / ``.onnx`` file holds what the manifest promises (every Q/K output).

Torch-free (reading the graph needs the ``onnx`` package only): the widget checks a model
offered for typed text with it, ``models.onnx_export`` writes the manifest.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

__all__ = ["FORMAT", "INPUTS", "MANIFEST", "OnnxModelError", "load_onnx_model"]

MANIFEST = "attnviz-onnx.json"
FORMAT = "attnviz-onnx/1"
#: Inputs of every exported graph (int64 ``[batch, seq]``).
INPUTS = ("input_ids", "attention_mask")


class OnnxModelError(ValueError):
    """An ONNX model that cannot serve Q/K (missing outputs, foreign file, bad manifest)."""


def _resolve(path: str | os.PathLike[str]) -> tuple[pathlib.Path, pathlib.Path]:
    p = pathlib.Path(path)
    folder = p if p.is_dir() else p.parent
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise OnnxModelError(
            f"{folder} has no {MANIFEST}: not a model written by attentionviz.onnx.export "
            "(its Q/K outputs cannot be identified)"
        )
    return folder, manifest


def load_onnx_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Validate an exported model (its folder or ``.onnx`` file); returns the manifest with
    ``onnx_path`` added. Raises ``OnnxModelError`` naming any missing Q/K output or file."""
    import onnx

    folder, mpath = _resolve(path)
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError) as error:
        raise OnnxModelError(f"{mpath}: unreadable manifest ({error})") from error
    if manifest.get("format") != FORMAT:
        raise OnnxModelError(f"{mpath}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    p = pathlib.Path(path)
    onnx_path = p if p.suffix == ".onnx" else folder / manifest["onnx_file"]
    for name in (onnx_path.name, manifest["tokenizer"]):
        if not (folder / name).exists():
            raise OnnxModelError(f"{folder / name} is missing")
    try:
        graph = onnx.load(str(onnx_path), load_external_data=False).graph
    except Exception as error:
        raise OnnxModelError(f"{onnx_path}: not a readable ONNX model ({error})") from error
    have = {o.name for o in graph.output}
    inputs = {i.name for i in graph.input}
    wanted = [*manifest["outputs"]["q"], *manifest["outputs"]["k"]]
    missing = [n for n in wanted if n not in have]
    if missing:
        raise OnnxModelError(
            f"{onnx_path.name} lacks the Q/K output(s) {missing} "
            f"({len(missing)} of {len(wanted)}); it has {sorted(have)[:8]}; "
            "re-export it with attentionviz.onnx.export"
        )
    missing_in = [n for n in manifest["inputs"] if n not in inputs]
    if missing_in:
        raise OnnxModelError(f"{onnx_path.name} lacks the input(s) {missing_in}")
    return {**manifest, "onnx_path": str(onnx_path)}
