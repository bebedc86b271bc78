"""attentionviz: transformer attention the AttentionViz way, in Jupyter.

>>> import attentionviz as av
>>> cap = av.capture(model, tokenizer, texts)   # Q/K of every layer and head
>>> viz = av.AttentionViz(cap, head=(3, 7))     # joint query/key scatterplot

The names below load on first use (module ``__getattr__``): ``import attentionviz`` is
instant and needs no torch; ``av.load`` / ``av.AttentionViz`` need no torch either, only
``av.capture`` / ``av.capture_vision`` load torch and transformers (``attentionviz.models``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# ``attentionviz.capture`` is also a (facade) module: imported here, before the name is
# bound lazily, so that a later ``from attentionviz.capture import capture`` finds it in
# sys.modules and leaves ``av.capture`` the function. Importing it set the package
# attribute ``capture`` to the module: drop that, ``__getattr__`` resolves the function.
from . import capture as _capture_module  # noqa: F401
from .core.version import library_version

globals().pop("capture", None)

if TYPE_CHECKING:
    from .core.capture import Capture
    from .core.errors import CaptureFileError, UnsupportedModelError
    from .core.loading import load
    from .models.adapters.nnsight import from_nnsight
    from .models.adapters.transformer_lens import from_transformer_lens
    from .models.capture import capture, capture_vision
    from .models.generate import capture_generate
    from .widget.viz import AttentionViz

__version__ = library_version()

#: public name -> module that defines it
_LAZY = {
    "AttentionViz": "attentionviz.widget.viz",
    "Capture": "attentionviz.core.capture",
    "CaptureFileError": "attentionviz.core.errors",
    "UnsupportedModelError": "attentionviz.core.errors",
    "load": "attentionviz.core.loading",
    "capture": "attentionviz.models.capture",
    "capture_vision": "attentionviz.models.capture",
    "capture_generate": "attentionviz.models.generate",
    "from_transformer_lens": "attentionviz.models.adapters.transformer_lens",
    "from_nnsight": "attentionviz.models.adapters.nnsight",
}

__all__ = [
    "AttentionViz",
    "Capture",
    "CaptureFileError",
    "UnsupportedModelError",
    "__version__",
    "capture",
    "capture_generate",
    "capture_vision",
    "from_nnsight",
    "from_transformer_lens",
    "load",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attentionviz' has no attribute {name!r}")
    try:
        value = getattr(import_module(module), name)
    except ImportError as error:
        if not module.startswith("attentionviz.models"):
            raise
        raise ImportError(
            f"attentionviz.{name} runs a model, so it needs torch and transformers "
            f'(pip install "attentionviz[models]"): {error}'
        ) from error
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "attentionviz"}]
