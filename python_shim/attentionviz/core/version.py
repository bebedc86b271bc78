"""The installed library version, from the package metadata (never the package ``__init__``)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def library_version() -> str:
    """``attentionviz``'s version (package.json, read by hatch-nodejs-version at build time)."""
    try:
        return version("attentionviz")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"
