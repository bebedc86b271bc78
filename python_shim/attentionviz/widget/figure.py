"""``SaveRequest``: a PNG/SVG figure the view renders for ``AttentionViz.save``."""

from __future__ import annotations

import pathlib
from typing import Any

from ..core.atomic import write_atomic


class SaveRequest:
    """A figure the view is rendering for ``AttentionViz.save`` (PNG/SVG).

    The browser answers after the requesting cell finishes; then ``done`` is True and
    the file exists, or ``error`` says what went wrong. ``id`` is the ``export`` request's.
    """

    def __init__(self, path: pathlib.Path, fmt: str, request_id: int = 0) -> None:
        self.id = request_id
        self.path = path
        self.format = fmt
        self.done = False
        self.error: str | None = None

    def write(self, data: bytes) -> None:
        write_atomic(self.path, data)
        self.done = True

    def fail(self, message: str) -> None:
        self.error = message

    def settle(self, reply: dict[str, Any], buffers: list[Any]) -> None:
        """Finish with the view's ``export`` reply (protocol v1)."""
        if not reply.get("ok") or not buffers:
            self.fail(str(reply.get("error") or "the view sent no image"))
        else:
            self.write(bytes(buffers[0]))

    def __repr__(self) -> str:
        if self.error:
            state = f"failed: {self.error}"
        elif self.done:
            state = "written"
        else:
            state = "waiting for the view to render it (it must be on screen)"
        return f"<SaveRequest {self.format.upper()} {self.path}: {state}>"
