"""Export a transformers text model to ONNX with every layer's Q and K as outputs.

The browser (``src/inference/``, onnxruntime-web) computes Q/K from typed text with the
exported model. Q and K are taken exactly where the attention multiplies them: the model
runs with one more attention implementation (``"attentionviz_onnx"``, switched on and off by
``attention_impl`` like the capture's recorder) that appends ``query`` / ``key``
(``[batch, heads, seq, d_head]``, after rotary; ``key`` has the kv heads under grouped-query
attention) to a list and then calls the model's own ``eager_attention_forward``.

``export(model, tokenizer, "out/model.onnx")`` writes next to the ``.onnx`` file:

- ``tokenizer.json`` (+ ``tokenizer_config.json``), read offline by the browser tokenizer;
- ``attnviz-onnx.json``: model name, n_layers, n_heads, n_kv_heads, d_head, scale, mask kind,
  max_length, input names and the Q/K output names (``q.{layer}``, ``k.{layer}``).

``core.onnx_manifest.load_onnx_model(path)`` (``attentionviz.onnx.load``) checks a model
directory/file against its manifest and raises ``OnnxModelError`` naming any missing Q/K
output; ``onnx_qk.OnnxQK(path).run(texts)`` computes Q/K with onnxruntime in Python.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from typing import Any

import numpy as np

from ..core.atomic import atomic_path, write_atomic
from ..core.onnx_manifest import FORMAT, INPUTS, MANIFEST, OnnxModelError
from .attention_impl import attention_implementation, eager_for, register_attention
from .batches import accepted_inputs, model_max_length
from .recorder import check_features
from .runner import model_name

__all__ = ["DTYPES", "export"]

KEY = "attentionviz_onnx"
DTYPES = ("float32", "float16", "int8")


# --- the recording attention ---------------------------------------------------------

_SINK: list[list[tuple[Any, Any, float]]] = []  # a stack: the innermost export/run records


def _onnx_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> Any:
    eager = eager_for(module)
    if scaling is None:
        scaling = query.shape[-1] ** -0.5  # what eager attention does with None
    if _SINK:
        _SINK[-1].append((query, key, float(scaling)))
    return eager(
        module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
    )


def _wrapper(model: Any, type_ids: bool) -> Any:
    import torch

    class QKOutputs(torch.nn.Module):
        """``(input_ids, attention_mask) -> (q.0, k.0, q.1, k.1, ...)`` as float32."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, ...]:
            calls: list[tuple[Any, Any, float]] = []
            _SINK.append(calls)
            try:
                self.inner(**_model_inputs(input_ids, attention_mask, type_ids))
            finally:
                _SINK.pop()
            out: list[Any] = []
            for q, k, _ in calls:
                out += [q.float(), k.float()]
            return tuple(out)

    return QKOutputs(model)


def _model_inputs(input_ids: Any, attention_mask: Any, type_ids: bool) -> dict[str, Any]:
    """What ``capture`` passes for one text: token_type_ids are zeros when the tokenizer makes
    them (single sequences), so the exported graph needs only ids and mask."""
    import torch

    kw = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
    if type_ids:
        kw["token_type_ids"] = torch.zeros_like(input_ids)
    return kw


def _uses_type_ids(model: Any, tokenizer: Any) -> bool:
    names = getattr(tokenizer, "model_input_names", None) or []
    return "token_type_ids" in names and "token_type_ids" in accepted_inputs(model)


# --- export ----------------------------------------------------------------------------


def _probe(
    model: Any, tokenizer: Any, type_ids: bool
) -> tuple[list[tuple[Any, Any, float]], dict[str, Any]]:
    """Run the model once eagerly on a short text: the recorded calls and example inputs."""
    import torch

    enc = tokenizer(["attention viz probe text", "probe"], padding=True, return_tensors="pt")
    inputs = {k: enc[k].to(torch.long) for k in INPUTS}
    calls: list[tuple[Any, Any, float]] = []
    _SINK.append(calls)
    try:
        with torch.no_grad():
            model(**_model_inputs(inputs["input_ids"], inputs["attention_mask"], type_ids))
    finally:
        _SINK.pop()
    return calls, inputs


def _mask_kind(model: Any) -> str:
    cfg = model.config.get_text_config()
    if getattr(cfg, "is_decoder", False) or getattr(model, "_is_causal", None):
        return "causal"
    for m in model.modules():
        if hasattr(m, "is_causal"):
            return "causal" if bool(m.is_causal) else "bidirectional"
    return "bidirectional"


def export(
    model: Any,
    tokenizer: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = 17,
    dtype: str = "float32",
    max_length: int | None = None,
) -> pathlib.Path:
    """Write ``path`` (an ``.onnx`` file) whose outputs are every layer's Q and K.

    Inputs ``input_ids`` / ``attention_mask`` (int64 ``[batch, seq]``, both axes dynamic);
    outputs ``q.{l}`` / ``k.{l}`` float32 ``[batch, heads, seq, d_head]`` (``k`` has the kv
    heads). ``dtype``: ``"float32"``; ``"float16"`` stores the weights in fp16 (half the
    download) and casts them to fp32 on load, so it computes in fp32 on every backend;
    ``"int8"`` is onnxruntime's dynamic int8 quantization (per-channel MatMul weights,
    activations quantized at run time: expect ~10% relative Q/K error, a rough view only).
    Also writes ``tokenizer.json`` and ``attnviz-onnx.json`` in the same folder. Returns ``path``.
    """
    import torch
    from transformers import PreTrainedModel

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if not isinstance(model, PreTrainedModel):
        raise TypeError(f"export expects a transformers PreTrainedModel, got {type(model)}")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            "export needs a fast (tokenizers-backed) tokenizer: the browser reads tokenizer.json"
        )
    check_features(model)
    path = pathlib.Path(path)
    if path.suffix != ".onnx":
        raise ValueError(f"path must end in .onnx, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = model_max_length(model, tokenizer)
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 0 < tok_limit < 1_000_000:
        limit = min(limit, tok_limit) if limit else tok_limit
    if max_length is not None:
        if limit is not None and max_length > limit:
            raise ValueError(f"max_length={max_length} exceeds what the model allows ({limit})")
        limit = max_length
    if limit is None:
        raise ValueError("the model declares no maximum length; pass max_length=")

    register_attention(KEY, _onnx_attention)
    with attention_implementation(model, KEY):
        type_ids = _uses_type_ids(model, tokenizer)
        calls, inputs = _probe(model, tokenizer, type_ids)
        if not calls:
            raise OnnxModelError(
                f"{type(model).__name__} does not route attention through transformers' "
                "AttentionInterface; attentionviz cannot export its queries and keys"
            )
        n_layers = len(calls)
        q0, k0, scale = calls[0]
        names = [f"{w}.{layer}" for layer in range(n_layers) for w in ("q", "k")]
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
        axes.update({n: {0: "batch", 2: "seq"} for n in names})
        with tempfile.TemporaryDirectory() as tmp:
            raw = pathlib.Path(tmp) / "raw.onnx"
            with torch.no_grad():
                _torch_export(_wrapper(model, type_ids), inputs, raw, names, axes, opset)
            _finish(raw, path, dtype)

    _save_tokenizer(tokenizer, path.parent)
    manifest = {
        "format": FORMAT,
        "model_name": model_name(model),
        "architecture": type(model).__name__,
        "onnx_file": path.name,
        "dtype": dtype,
        "opset": opset,
        "n_layers": n_layers,
        "n_heads": int(q0.shape[1]),
        "n_kv_heads": int(k0.shape[1]),
        "d_head": int(q0.shape[-1]),
        "scale": scale,
        "mask": _mask_kind(model),
        "max_length": int(limit),
        "inputs": list(INPUTS),
        "outputs": {"q": names[0::2], "k": names[1::2]},
        "tokenizer": "tokenizer.json",
        "tokenizer_config": "tokenizer_config.json",
    }
    write_atomic(path.parent / MANIFEST, json.dumps(manifest, indent=1).encode())
    return path


def _torch_export(
    module: Any,
    inputs: dict[str, Any],
    out: pathlib.Path,
    names: list[str],
    axes: dict[str, dict[int, str]],
    opset: int,
) -> None:
    import torch

    args = (inputs["input_ids"], inputs["attention_mask"])
    common = dict(input_names=list(INPUTS), output_names=names, opset_version=opset)
    try:
        # TorchScript exporter: deterministic, fast, and handles the HF mask code fine.
        torch.onnx.export(module, args, str(out), dynamic_axes=axes, dynamo=False, **common)
    except Exception as script_error:  # pragma: no cover - depends on the torch version
        try:
            torch.onnx.export(
                module,
                args,
                str(out),
                dynamic_axes=axes,
                dynamo=True,
                external_data=False,
                **common,
            )
        except Exception as dynamo_error:
            raise OnnxModelError(
                f"torch.onnx.export failed with both exporters: {script_error!r}; {dynamo_error!r}"
            ) from dynamo_error


def _finish(raw: pathlib.Path, path: pathlib.Path, dtype: str) -> None:
    """Convert the fp32 export to the requested dtype and write ``path`` atomically."""
    import onnx

    with atomic_path(path) as tmp:
        if dtype == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # per-channel weight scales halve the Q/K error of per-tensor ones (MiniLM: 9% vs 19%)
            quantize_dynamic(str(raw), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        else:
            model = onnx.load(str(raw))
            if dtype == "float16":
                _fp16_weights(model)
            onnx.save(model, str(tmp))


def _fp16_weights(model: Any, min_size: int = 1024) -> None:
    """Store large fp32 initializers as fp16 + a Cast back to fp32 (computed in fp32)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_size:
            continue
        arr = numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        half = numpy_helper.from_array(arr, name + "_fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(
            helper.make_node(
                "Cast", [half.name], [name], to=TensorProto.FLOAT, name=name + "_to_fp32"
            )
        )
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)


def _save_tokenizer(tokenizer: Any, folder: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            src = pathlib.Path(tmp) / name
            if not src.exists():
                raise OnnxModelError(f"the tokenizer did not write {name}")
            write_atomic(folder / name, src.read_bytes())
