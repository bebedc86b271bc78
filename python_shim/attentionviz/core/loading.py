"""``load``: open ``.attnviz`` files (one, a list of shards, or a folder of them) as a Capture."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .attnviz_file import PathLike
from .capture import Capture
from .errors import CaptureFileError
from .file_store import FileStore, ShardedStore


def load(path: PathLike | Sequence[PathLike]) -> Capture:
    """Open a capture lazily: a ``.attnviz`` file, a list of shard files, or a directory of them.

    Only headers are read here; Q/K are read on ``qk()``, the token table on first access of
    ``.tokens``. Raises ``CaptureFileError`` for truncated/foreign files.
    """
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if not p.is_dir():
            return Capture(FileStore(p))
        paths = sorted(p.glob("*.attnviz"))
        if not paths:
            raise CaptureFileError(f"{p}: directory holds no *.attnviz shard files")
    else:
        paths = [Path(x) for x in path]
        if not paths:
            raise ValueError("load() got an empty list of shard paths")
    shards = [FileStore(x) for x in paths]
    return Capture(shards[0] if len(shards) == 1 else ShardedStore(shards))
