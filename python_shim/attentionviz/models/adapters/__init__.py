"""Adapters for interpretability libraries: TransformerLens (``transformer_lens``) and
nnsight. Each is an optional extra; ``require`` names the extra when it is missing."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the pip extra providing it."""
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f'this needs {module} (pip install "attentionviz[{extra}]"): {error}'
        ) from error
