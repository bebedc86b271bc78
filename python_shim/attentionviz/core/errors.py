"""Errors users catch by name; importable without torch."""

from __future__ import annotations


class CaptureFileError(ValueError):
    """A file is not a readable ``.attnviz`` capture (truncated, foreign, or inconsistent)."""


class UnsupportedModelError(ValueError):
    """The model computes attention in a way a Q/K capture cannot reproduce faithfully."""
