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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ..core.atomic import write_atomic
from ..core.capture import Capture
from .bundle import bundle_path
from .head_map import head_map_payload
from .wire import head_payload

if TYPE_CHECKING:
    from .viz import AttentionViz

__all__ = ["b64", "html_bytes", "public_traits", "to_html"]

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


def b64(data: bytes) -> str:
    """``data`` as base64 text (how binary data sits in the page)."""
    return base64.b64encode(data).decode("ascii")


def _json_for_script(value: Any) -> str:
    # "<" escaped so no string in the data can close the <script> element.
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def _every_head(capture: Capture) -> list[tuple[int, int]]:
    """Every (layer, head) of ``capture``, layer by layer."""
    return [(la, h) for la in range(capture.n_layers) for h in range(capture.n_heads)]


def _embed_heads(
    capture: Capture, wanted: Iterable[tuple[int, int]], progress: bool
) -> dict[str, list[str]]:
    """``{"layer,head": [Q, K]}``, base64 of little-endian fp16 matrices (the wire's)."""
    encoded: dict[str, list[str]] = {}
    for layer, head in tqdm(list(wanted), desc="embedding heads", disable=not progress):
        _, q_bytes, k_bytes = head_payload(capture, layer, head, dtype="float16")
        encoded[f"{layer},{head}"] = [b64(q_bytes), b64(k_bytes)]
    return encoded


def public_traits(viz: AttentionViz) -> dict[str, Any]:
    """The widget's view state (binary traits travel base64-encoded beside it)."""
    return viz.view_state()


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
    bundle = bundle_path()
    capture = viz.capture
    if heads == "all":
        wanted = _every_head(capture)
    elif heads == "current":
        wanted = [tuple(viz.head)]
        two_heads = viz.view == "compare" and viz.compare_capture is None
        if two_heads and tuple(viz.compare_head) not in wanted:
            wanted.append(tuple(viz.compare_head))  # both heads on screen
    else:
        wanted = [(int(la), int(h)) for la, h in heads]  # type: ignore[union-attr]
    state = {
        "traits": public_traits(viz),
        "tokens": b64(viz.token_payload),
        "dtype": "float16",
        "n_tokens": capture.n_tokens,
        "d_head": capture.d_head,
        "heads": _embed_heads(capture, wanted, progress),
        "selected_rows": b64(viz.selection_payload),
    }
    # the head map view's reply, precomputed: the page has no kernel to ask
    result, (coords, stats) = head_map_payload(capture, progress=False)
    state["head_map"] = {**result, "coords": b64(coords), "values": b64(stats)}
    other = viz.compare_capture
    if other is not None:
        # compare_to: the other model's heads for the right panel (all, or the one shown)
        theirs = _every_head(other) if heads == "all" else [tuple(viz.compare_head)]
        state["traits"]["_compare"] = viz.compare_payload
        state["compare"] = {
            "d_head": other.d_head,
            "heads": _embed_heads(other, theirs, progress),
        }
    page = _PAGE.format(
        title=html.escape(f"attentionviz · {viz.model_name or 'capture'}"),
        state=_json_for_script(state),
        bundle=b64(bundle.read_bytes()),
    )
    return page.encode("utf-8")
