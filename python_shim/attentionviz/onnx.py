"""Export a transformers text model to ONNX with every layer's Q and K as outputs, and check
or run such a model.

``export(model, tokenizer, "out/model.onnx")`` (``attentionviz.models.onnx_export``, needs
torch) writes the graph, ``tokenizer.json`` (+ ``tokenizer_config.json``) and
``attnviz-onnx.json`` (the manifest) in one folder; ``load(path)`` checks a folder / file
against its manifest (``OnnxModelError`` names what is missing); ``OnnxQK(path).run(texts)``
computes Q/K with onnxruntime in Python. ``export`` and ``OnnxQK`` load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.onnx_manifest import FORMAT, INPUTS, MANIFEST, OnnxModelError
from .core.onnx_manifest import load_onnx_model as load
from .widget.bundle import ORT_WASM, ort_wasm_path

if TYPE_CHECKING:
    from .models.onnx_export import DTYPES, export
    from .models.onnx_qk import OnnxQK

_LAZY = {
    "export": "attentionviz.models.onnx_export",
    "DTYPES": "attentionviz.models.onnx_export",
    "OnnxQK": "attentionviz.models.onnx_qk",
}
__all__ = [
    "DTYPES",
    "FORMAT",
    "INPUTS",
    "MANIFEST",
    "ORT_WASM",
    "OnnxModelError",
    "OnnxQK",
    "export",
    "load",
    "ort_wasm_path",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attentionviz.onnx' has no attribute {name!r}")
    return getattr(import_module(module), name)
