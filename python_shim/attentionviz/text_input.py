"""Facade: typed-text support lives in ``attentionviz.widget.text_input``."""

from .widget.text_input import (
    ADDED_COLUMNS,
    CHUNK_BYTES,
    OnnxFiles,
    TextInputError,
    added_frame,
    check_matches,
)

__all__ = [
    "ADDED_COLUMNS",
    "CHUNK_BYTES",
    "OnnxFiles",
    "TextInputError",
    "added_frame",
    "check_matches",
]
