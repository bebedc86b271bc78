"""The one atomic writer: a temporary file in the target's folder, fsync, ``os.replace``.

Every file attentionviz writes (captures, HTML pages, figures, ONNX exports, tokenizer
files) goes through here, so a crash or an error mid-write leaves the previous file as it
was, and a written file survives a power cut (the file and the rename are both fsynced).
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

PathLike = str | os.PathLike[str]


def _fsync_dir(folder: pathlib.Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a directory: the rename is still atomic
        return
    try:
        os.fsync(fd)  # makes the rename itself durable
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside ``path``; fill it inside the block. On success it is
    fsynced and renamed over ``path``; on an exception it is deleted and ``path`` untouched.
    The file gets the permissions a plain ``open()`` would give (``mkstemp`` makes 0600; a
    saved file is meant to be shared)."""
    target = pathlib.Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory; give a file path")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.tmp-")
    os.close(fd)
    tmp = pathlib.Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_atomic(path: PathLike, data: bytes | bytearray | memoryview) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``); returns ``path``."""
    target = pathlib.Path(path)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return target
