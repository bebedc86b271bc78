"""Facade: the ``.attnviz`` format lives in ``attentionviz.core`` (``attnviz_file``: layout,
writer, header; ``file_store``: readers; ``loading``: ``load``)."""

from .core.attnviz_file import FORMAT, FORMAT_VERSION, CaptureWriter, PathLike, read_header
from .core.errors import CaptureFileError
from .core.file_store import FileStore, ShardedStore
from .core.loading import load

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CaptureFileError",
    "CaptureWriter",
    "FileStore",
    "PathLike",
    "ShardedStore",
    "load",
    "read_header",
]
