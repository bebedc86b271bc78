"""Standalone, offline HTML: the widget bundle and the data in one file, no kernel, no CDN.

The page decodes the bundle from base64 into a module (a blob: URL), so it opens from
``file://``; every text in it is data passed through JSON, never markup.
"""

from __future__ import annotations

import base64
import html
import json
import os
import pathlib
import tempfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from .capture import Capture
    from .widget import AttentionViz

_STATIC = pathlib.Path(__file__).parent / "static"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ margin: 16px; font-family: system-ui, sans-serif; }}</style>
</head>
<body>
<div id="attentionviz-root"></div>
<script type="application/json" id="attentionviz-state">{state}</script>
<script type="text/plain" id="attentionviz-bundle">{bundle}</script>
<script type="module">
const text = atob(document.getElementById('attentionviz-bundle').textContent.trim());
const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
const url = URL.createObjectURL(new Blob([bytes], {{ type: 'text/javascript' }}));
const widget = await import(url);
const state = JSON.parse(document.getElementById('attentionviz-state').textContent);
widget.mountStandalone(document.getElementById('attentionviz-root'), state);
</script>
</body>
</html>
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_for_script(value: Any) -> str:
    # "<" escaped so no string in the data can close the <script> element.
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> pathlib.Path:
    """Write via a temporary file in the same folder and rename: a crash leaves the old file."""
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a saved figure is meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _every_head(capture: Capture) -> list[tuple[int, int]]:
    """Every (layer, head) of ``capture``, layer by layer."""
    return [(la, h) for la in range(capture.n_layers) for h in range(capture.n_heads)]


def _embed_heads(
    capture: Capture, wanted: Iterable[tuple[int, int]], progress: bool
) -> dict[str, list[str]]:
    """``{"layer,head": [Q, K]}``, base64 of little-endian fp16 matrices."""
    encoded: dict[str, list[str]] = {}
    for layer, head in tqdm(list(wanted), desc="embedding heads", disable=not progress):
        if capture.dtype == "float16":  # the stored bytes are the page's: no float32 detour
            q_bytes, k_bytes = capture._qk_bytes(layer, head)
        else:
            queries, keys = capture.qk(layer, head)
            q_bytes = np.ascontiguousarray(queries, dtype="<f2").tobytes()
            k_bytes = np.ascontiguousarray(keys, dtype="<f2").tobytes()
        encoded[f"{layer},{head}"] = [_b64(q_bytes), _b64(k_bytes)]
    return encoded


def _public_traits(viz: AttentionViz) -> dict[str, Any]:
    """The widget's view state (binary traits travel base64-encoded beside it)."""
    return {name: _jsonable(getattr(viz, name)) for name in viz.VIEW_STATE}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class SaveRequest:
    """A figure the view is rendering for ``AttentionViz.save`` (PNG/SVG).

    The browser answers after the requesting cell finishes; then ``done`` is True and
    the file exists, or ``error`` says what went wrong.
    """

    _next_id = 1

    def __init__(self, path: pathlib.Path, fmt: str) -> None:
        self.id = SaveRequest._next_id
        SaveRequest._next_id += 1
        self.path = path
        self.format = fmt
        self.done = False
        self.error: str | None = None

    def write(self, data: bytes) -> None:
        write_atomic(self.path, data)
        self.done = True

    def fail(self, message: str) -> None:
        self.error = message

    def __repr__(self) -> str:
        if self.error:
            state = f"failed: {self.error}"
        elif self.done:
            state = "written"
        else:
            state = "waiting for the view to render it (it must be on screen)"
        return f"<SaveRequest {self.format.upper()} {self.path}: {state}>"


def to_html(
    viz: AttentionViz,
    path: str | os.PathLike[str],
    *,
    heads: Iterable[tuple[int, int]] | str = "all",
    progress: bool = True,
) -> pathlib.Path:
    """Write ``viz`` as one self-contained HTML file.

    ``heads="all"`` embeds every layer x head (fp16) so the page can switch heads;
    ``"current"`` (the shown head, and in the compare view ``compare_head`` too) or a list
    of ``(layer, head)`` keeps the file smaller. With ``compare_to=`` the other capture's
    heads are embedded too (all of them, or else the right panel's).
    """
    return write_atomic(path, html_bytes(viz, heads=heads, progress=progress))


def html_bytes(
    viz: AttentionViz,
    *,
    heads: Iterable[tuple[int, int]] | str = "all",
    progress: bool = True,
) -> bytes:
    """The standalone page of ``viz`` (see ``to_html``) as UTF-8 bytes."""
    bundle = _STATIC / "widget.js"
    if not bundle.exists():
        raise FileNotFoundError(
            f"{bundle} is missing: the package was installed without its JavaScript; "
            "reinstall attentionviz from a wheel or run `npm run build:prod`"
        )
    capture = viz.capture
    if heads == "all":
        wanted = _every_head(capture)
    elif heads == "current":
        wanted = [tuple(viz.head)]
        two_heads = viz.view == "compare" and viz._compare_capture is None
        if two_heads and tuple(viz.compare_head) not in wanted:
            wanted.append(tuple(viz.compare_head))  # both heads on screen
    else:
        wanted = [(int(la), int(h)) for la, h in heads]  # type: ignore[union-attr]
    state = {
        "traits": _public_traits(viz),
        "tokens": _b64(viz._tokens),
        "dtype": "float16",
        "n_tokens": capture.n_tokens,
        "d_head": capture.d_head,
        "heads": _embed_heads(capture, wanted, progress),
        "selected_rows": _b64(viz._selected_rows),
    }
    other = viz._compare_capture
    if other is not None:
        # compare_to: the other model's heads for the right panel (all, or the one shown)
        theirs = _every_head(other) if heads == "all" else [tuple(viz.compare_head)]
        state["traits"]["_compare"] = dict(viz._compare)
        state["compare"] = {
            "d_head": other.d_head,
            "heads": _embed_heads(other, theirs, progress),
        }
    page = _PAGE.format(
        title=html.escape(f"attentionviz · {viz.model_name or 'capture'}"),
        state=_json_for_script(state),
        bundle=_b64(bundle.read_bytes()),
    )
    return page.encode("utf-8")
