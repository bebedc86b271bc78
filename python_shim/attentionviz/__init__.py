"""attentionviz: transformer attention the AttentionViz way, in Jupyter.

>>> import attentionviz as av
>>> cap = av.capture(model, tokenizer, texts)   # Q/K of every layer and head
>>> viz = av.AttentionViz(cap, head=(3, 7))     # joint query/key scatterplot
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    # One version source: package.json, read by hatch-nodejs-version at build time.
    __version__ = _version("attentionviz")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from .capture import Capture, UnsupportedModelError, capture, capture_vision
from .capture_file import CaptureFileError, load
from .widget import AttentionViz

__all__ = [
    "AttentionViz",
    "Capture",
    "CaptureFileError",
    "UnsupportedModelError",
    "__version__",
    "capture",
    "capture_vision",
    "load",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "attentionviz"}]
