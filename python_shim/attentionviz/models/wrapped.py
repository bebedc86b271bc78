"""Models that arrive inside a wrapper: an nnsight ``LanguageModel`` / ``NNsight`` /
``TransformersModel`` holds the transformers model it runs; ``capture`` records that model,
so it captures exactly as the bare model does (outside any nnsight trace)."""

from __future__ import annotations

from typing import Any

__all__ = ["is_nnsight", "unwrap"]


def is_nnsight(model: Any) -> bool:
    """Whether ``model`` is an nnsight wrapper (checked without importing nnsight)."""
    return type(model).__module__.split(".")[0] == "nnsight" and hasattr(model, "_module")


def unwrap(model: Any) -> Any:
    """The module an nnsight wrapper holds, or ``model`` itself when it is no wrapper."""
    return model._module if is_nnsight(model) else model
