"""``from_nnsight(model, texts)``: capture the transformers model inside an nnsight wrapper
with the wrapper's tokenizer. (``attentionviz.capture`` accepts nnsight models too.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...core.capture import Capture
from ..capture import capture
from ..wrapped import is_nnsight
from . import require

__all__ = ["from_nnsight"]


def from_nnsight(model: Any, texts: Sequence[str], **options: Any) -> Capture:
    """Capture Q/K of the transformers model inside an nnsight wrapper over ``texts``,
    with the wrapper's tokenizer; ``options`` are those of ``attentionviz.capture``."""
    require("nnsight", "nnsight")
    if not is_nnsight(model):
        raise TypeError(f"from_nnsight needs an nnsight model, got {type(model).__name__}")
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ValueError(
            "the nnsight model has no tokenizer; use av.capture(model, tokenizer, texts)"
        )
    return capture(model, tokenizer, texts, **options)
