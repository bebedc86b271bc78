"""Facade kept for ``from attentionviz.capture import capture`` (and ``Capture``,
``UnsupportedModelError``, ``capture_vision``): the code is in ``attentionviz.models``
(torch) and ``attentionviz.core``; names load on first use."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "Capture": "attentionviz.core.capture",
    "UnsupportedModelError": "attentionviz.core.errors",
    "capture": "attentionviz.models.capture",
    "capture_vision": "attentionviz.models.capture",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attentionviz.capture' has no attribute {name!r}")
    return getattr(import_module(module), name)
