"""The one atomic writer (``core.atomic``): every file attentionviz writes replaces the old
one whole or not at all, and is readable by others like a plain ``open()`` would make it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from attentionviz.core.atomic import atomic_path, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "fig.png"
    assert write_atomic(target, b"one") == target  # creates the folder
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["fig.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "view.html"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="renderer died"), atomic_path(target) as tmp:
        tmp.write_text("half a page")
        raise RuntimeError("renderer died")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["view.html"]
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, b"x")
