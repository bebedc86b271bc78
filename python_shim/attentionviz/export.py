"""Facade: ``attentionviz.export.to_html`` / ``html_bytes`` (``attentionviz.widget.html``),
``SaveRequest`` (``widget.figure``) and the one atomic writer (``core.atomic``)."""

from .core.atomic import write_atomic
from .widget.figure import SaveRequest
from .widget.html import b64, html_bytes, public_traits, to_html

__all__ = ["SaveRequest", "b64", "html_bytes", "public_traits", "to_html", "write_atomic"]
