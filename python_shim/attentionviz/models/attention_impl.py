"""The one place that switches a transformers model to an attentionviz attention
implementation and puts everything back: used by the capture (``recorder.capture_mode``)
and by the ONNX export.

Transformers (>= 5) routes every attention layer through ``ALL_ATTENTION_FUNCTIONS``; an
implementation registered there under a key is selected with ``set_attn_implementation``.
Ours record Q/K and then call the model's own ``eager_attention_forward``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ..core.errors import UnsupportedModelError


def eager_for(module: torch.nn.Module) -> Callable[..., Any]:
    """The ``eager_attention_forward`` of the module's own modeling file (or a base class's)."""
    for cls in type(module).__mro__:
        fn = getattr(sys.modules.get(cls.__module__), "eager_attention_forward", None)
        if fn is not None:
            return fn
    raise UnsupportedModelError(
        f"{type(module).__name__}: its modeling module has no eager_attention_forward, "
        "so attentionviz cannot reproduce its attention"
    )


def register_attention(key: str, attention: Callable[..., Any]) -> None:
    """Register ``attention`` (and the eager mask builder for it) under ``key``, globally."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(key, attention)
    AttentionMaskInterface.register(key, eager_mask)


def model_configs(model: torch.nn.Module) -> list[Any]:
    """Every config object reachable from the model (sub-models and sub-configs), deduplicated."""
    from transformers import PreTrainedModel

    seen: dict[int, Any] = {}
    stack = [m.config for m in model.modules() if isinstance(m, PreTrainedModel)]
    while stack:
        c = stack.pop()
        if c is None or id(c) in seen:
            continue
        seen[id(c)] = c
        stack.extend(getattr(c, k, None) for k in getattr(c, "sub_configs", {}) or {})
    return list(seen.values())


@contextmanager
def attention_implementation(model: torch.nn.Module, key: str) -> Iterator[None]:
    """Eval mode and attention implementation ``key`` inside the block; on exit every
    config's implementation and every module's training flag are restored exactly (the
    stored value, not the resolved one: a model that had none set keeps none set)."""
    saved_impl = [
        (c, c.__dict__.get("_attn_implementation_internal")) for c in model_configs(model)
    ]
    saved_training = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        model.set_attn_implementation(key)
        yield
    finally:
        for c, impl in saved_impl:
            c._attn_implementation_internal = impl
        for m, training in saved_training:
            m.training = training
