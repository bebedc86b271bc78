"""The ``AttentionViz`` notebook widget: what it shows and how it answers the view.

Its traits (every piece of view state) are declared in ``traits.ViewTraits``, the kernel
layouts in ``kernel_view``. Q/K cross to the browser as binary buffers, only for the head
being shown; the token table crosses once as an Arrow IPC stream. The browser computes
the layout (normalization + PCA) and sends the selection back as uint32 rows; the view's
requests (other heads, images, the ONNX model, the HTML page) and this side's export
requests travel over one channel (``router``, protocol v1).
"""

from __future__ import annotations

import os
import pathlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import traitlets as t

from ..core.capture import Capture
from .captures import capture_id, compare_info, head_in_range, same_tokens
from .figure import SaveRequest
from .head_map import head_map_payload
from .kernel_view import KernelLayoutView
from .router import Router
from .selection import rows_of, selection_frame
from .text_input import OnnxFiles, added_frame
from .thumbnails import thumbnail_reply
from .traits import SETTABLE
from .wire import head_payload, rows_to_bytes

#: Columns every token table has; user metadata columns follow them.
BASE_COLUMNS = ("text", "seq", "pos", "pos_norm", "token_id", "special")


class AttentionViz(KernelLayoutView):
    """Joint query/key scatterplot of one attention head of a ``Capture``.

    >>> viz = AttentionViz(cap, head=(3, 7))
    >>> viz.head = (0, 1)             # redraw another head
    >>> viz.selection                 # DataFrame of the tokens clicked or lassoed
    >>> viz.select(cap.tokens.text == "the")   # highlight from pandas

    ``onnx=`` (a folder or ``.onnx`` file from ``attentionviz.onnx.export`` of the captured
    model) adds an "Add text…" box to the single-head view: typed text is run in the
    browser (onnxruntime-web, in a worker) and its tokens are placed into the shown
    layout; they appear in ``viz.added_tokens`` and, when selected, in ``viz.selection``
    (rows numbered after the capture's). See ``attentionviz.text_input``.

    ``compare=(layer, head)`` opens the compare view with that head beside ``head``;
    ``compare_to=other`` puts a head of another capture in the right panel (another model,
    or the same one before/after training, over the same token rows: same texts, same
    tokenizer), so one selection, search or hover means the same tokens in both; then
    ``matrix_source="compare"`` (or the matrix view's model picker) shows every head of the
    other model, and clicking one opens it beside ``head``.
    """

    def __init__(
        self,
        capture: Capture,
        *,
        head: tuple[int, int] | None = None,
        compare: tuple[int, int] | None = None,
        compare_to: Capture | None = None,
        dtype: str = "float16",
        onnx: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        settable = set(SETTABLE)
        unknown = sorted(set(kwargs) - settable)
        if unknown:
            raise TypeError(
                f"AttentionViz() got unexpected keyword argument(s): {', '.join(unknown)}; "
                f"settable: head, compare, compare_to, dtype, onnx, {', '.join(sorted(settable))}"
            )
        if not isinstance(capture, Capture):
            raise TypeError(
                f"AttentionViz needs an attentionviz.Capture (from av.capture or av.load), "
                f"got {type(capture).__name__}"
            )
        if dtype not in ("float16", "float32"):
            raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
        if capture.sampled:  # Q rows != token rows: the view draws one query per token
            raise ValueError(
                "this capture keeps sampled query positions only (capture(positions=...)); "
                "the view cannot show it yet: read it with cap.qk / cap.attention, or capture "
                "without positions="
            )
        self._capture = capture
        # The right panel's capture: another model's Q/K over the same tokens, or this one.
        self._compare_capture = same_tokens(capture, compare_to) if compare_to is not None else None
        # self.send looked up per message (tests and hosts may replace it)
        self._router = Router(
            lambda *args, **kwargs: self.send(*args, **kwargs),
            self._request_handlers(),
            {"added-tokens": self._on_added},
        )
        self._wire_dtype = dtype
        # Checked now: a model that does not match the capture fails here, naming why.
        self._onnx = OnnxFiles(onnx, capture) if onnx is not None else None
        self._added = added_frame({}, capture.n_tokens)  # n_tokens: no DataFrame needed
        right = self._compare_capture or capture
        if compare is not None:  # checked before the widget exists
            compare = head_in_range(compare, "compare", right.n_layers, right.n_heads)
        # Naming a head means "show me that head"; otherwise start on the matrix view.
        if compare is not None or compare_to is not None:
            kwargs.setdefault("view", "compare")
        elif head is not None:
            kwargs.setdefault("view", "head")
        super().__init__(
            n_layers=capture.n_layers,
            n_heads=capture.n_heads,
            model_name=str(capture.model_name),
            scale=float(capture.scale),
            _capture_id=capture_id(capture),
            _widget_id=uuid.uuid4().hex,
            mask=str(capture.mask),
            _tokens=capture.tokens_ipc(),  # == tokens_to_arrow(capture.tokens)
            _text_input=self._onnx.info() if self._onnx else {},
            _compare=compare_info(self._compare_capture) if self._compare_capture else {},
            **kwargs,
        )
        self.head = tuple(head) if head is not None else (0, 0)  # validated, then sent
        if compare is not None:
            self.compare_head = compare
        elif self._compare_capture is not None:  # the other model's head at the same place
            self.compare_head = (
                min(self.head[0], right.n_layers - 1),
                min(self.head[1], right.n_heads - 1),
            )
        else:  # the next head of the same layer, wrapping
            self.compare_head = (self.head[0], (self.head[1] + 1) % max(1, self.n_heads))
        if not self._qk_meta:
            self._send_head()
        self._layouts_live = True
        if self.layout_backend == "kernel":
            self._check_kernel_backend()
            self._send_layout()
        self.on_msg(self._on_message)

    # --- Python -> view -------------------------------------------------------------

    @t.validate("head")
    def _check_head(self, proposal: t.Bunch) -> tuple[int, int]:
        try:
            return self._in_range(proposal["value"], "head")
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    @t.validate("compare_head")
    def _check_compare_head(self, proposal: t.Bunch) -> tuple[int, int]:
        try:
            return self._in_compare_range(proposal["value"], "compare_head")
        except ValueError as error:
            raise t.TraitError(str(error)) from None

    @t.validate("weight_by_value")
    def _check_weight_by_value(self, proposal: t.Bunch) -> bool:
        capture = getattr(self, "_capture", None)
        if proposal["value"] and capture is not None and not capture.has_value_norms:
            raise t.TraitError(
                "weight_by_value needs value-vector norms, which this capture lacks (captured "
                "before attentionviz kept them, or built with from_arrays without "
                "value_norms=); capture it again"
            )
        return bool(proposal["value"])

    @t.validate("matrix_source")
    def _check_matrix_source(self, proposal: t.Bunch) -> str:
        if proposal["value"] == "compare" and getattr(self, "_compare_capture", None) is None:
            raise t.TraitError(
                "matrix_source='compare' shows another model's heads: it needs "
                "AttentionViz(capture, compare_to=other)"
            )
        return proposal["value"]

    def _in_compare_range(self, value: Any, what: str) -> tuple[int, int]:
        right = getattr(self, "_compare_capture", None)
        if right is None:
            return self._in_range(value, what)
        what = f"{what} (of {right.model_name})"
        return head_in_range(value, what, right.n_layers, right.n_heads)

    def _in_range(self, value: Any, what: str) -> tuple[int, int]:
        return head_in_range(value, what, self.n_layers, self.n_heads)

    def compare(self, layer: int, head: int) -> AttentionViz:
        """Show head ``(layer, head)`` beside the current ``head``, linked: hover, selection
        and search show in both panels. Sets ``compare_head`` and ``view = "compare"``;
        returns the widget, so ``viz.compare(2, 3)`` in a cell shows it. With
        ``AttentionViz(cap, compare_to=other)`` the head is ``other``'s. An out-of-range
        head raises ValueError and changes nothing. ``viz.view = "head"`` (or Esc, or the
        view's Back button) returns to the single head."""
        chosen = self._in_compare_range((layer, head), "compare head")
        with self.hold_sync():
            self.compare_head = chosen
            self.view = "compare"
        return self

    @t.observe("head")
    def _on_head(self, change: dict) -> None:
        try:
            self._send_head()
            self._send_layout()
        except Exception:
            # e.g. a damaged head (NaN/inf): go back to the head the view has (once)
            if not getattr(self, "_reverting", False) and change["old"] != change["new"]:
                self._reverting = True
                try:
                    self.set_trait("head", change["old"])
                finally:
                    self._reverting = False
            raise

    def _head_payload(
        self, layer: int, head: int, rows: int | None = None, capture: Capture | None = None
    ) -> tuple[dict[str, Any], bytes, bytes]:
        """Meta, Q bytes and K bytes of one head of ``capture`` (default: the shown one)
        as they cross the wire (``wire.head_payload`` in this view's dtype)."""
        return head_payload(
            capture or self._capture, layer, head, rows=rows, dtype=self._wire_dtype
        )

    def _send_head(self) -> None:
        layer, head = self.head
        meta, queries, keys = self._head_payload(layer, head)
        norms = self._capture.value_norms(layer, head) if self._capture.has_value_norms else None
        with self.hold_sync():
            self._queries = queries
            self._keys = keys
            self._value_norms = b"" if norms is None else norms.astype("<f4").tobytes()
            self._qk_meta = {**meta, "value_norms": norms is not None}

    # --- the request channel (protocol v1, see router.py) ------------------------------

    def _on_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        self._router.receive(content, buffers)

    def _request_handlers(self) -> dict[str, Any]:
        """The kinds of request the view sends, and who answers them."""
        return {
            "qk": self._reply_qk,
            "image": self._reply_image,
            "onnx-files": self._reply_onnx_files,
            "onnx-chunk": self._reply_onnx_chunk,
            "html": self._reply_html,
            "thumbnails": self._reply_thumbnails,
            "head-map": self._reply_head_map,
        }

    def _reply_qk(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Q/K of one head (matrix view thumbnails, compare panels)."""
        # "source": "compare" asks for a head of the compare_to capture (right panel)
        other = request.get("source") == "compare" and self._compare_capture is not None
        check = self._in_compare_range if other else self._in_range
        layer, head = check((request.get("layer"), request.get("head")), "head")
        rows = request.get("rows")
        rows = int(rows) if isinstance(rows, int) and not isinstance(rows, bool) else None
        capture = self._compare_capture if other else None
        meta, queries, keys = self._head_payload(layer, head, rows, capture)
        return meta, [queries, keys]

    def _reply_thumbnails(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """2D PCA of many heads at once (matrix view of a large model, thumbnails.py)."""
        other = request.get("source") == "compare" and self._compare_capture is not None
        return thumbnail_reply(self._compare_capture if other else self._capture, request)

    def _reply_image(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """PNG bytes of image ``seq`` as the model saw it (the image view)."""
        seq, count = request.get("seq"), self._capture.n_images
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < count:
            raise ValueError(
                "this capture holds no images (capture_vision keeps them; older files do not)"
                if not count
                else f"image {seq!r} out of range (0..{count - 1})"
            )
        return {"seq": seq}, [self._capture.image_png(seq)]

    def _onnx_files(self) -> OnnxFiles:
        if self._onnx is None:
            raise ValueError("no ONNX model: create the view with AttentionViz(cap, onnx=...)")
        return self._onnx

    def _reply_onnx_files(self, _request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        return {"files": self._onnx_files().sizes()}, []

    def _reply_onnx_chunk(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        name, offset = request.get("file"), request.get("offset")
        size, data = self._onnx_files().read_chunk(name, offset)
        return {"file": name, "offset": offset, "size": size}, [data]

    def _reply_head_map(self, _request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Every head as one point placed by attention similarity (the head map view)."""
        return head_map_payload(self._capture)

    def _reply_html(self, _request: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        from .html import html_bytes

        return {}, [html_bytes(self, progress=False)]

    # --- text typed into the view -------------------------------------------------------

    def _on_added(self, notification: dict[str, Any]) -> None:
        """The view's ``added-tokens`` notification: its whole list of typed-in rows."""
        try:
            self._added = added_frame(notification.get("tokens"), self._capture.n_tokens)
        except (ValueError, TypeError) as error:
            self.error = f"the view sent unreadable added tokens: {error}"

    @property
    def added_tokens(self) -> pd.DataFrame:
        """Tokens of the text typed into the view (``onnx=``), one row per token, indexed
        after the capture's rows (``len(capture.tokens)``, ...): ``text``, ``seq`` (after the
        capture's sequences), ``pos``, ``pos_norm``, ``token_id``, ``special``,
        ``source`` (``"browser"``) and ``sentence``. Their Q/K live in the browser only.
        The view sends its whole list after each text, so this follows the view that last
        added text (a view shown again starts without them)."""
        return self._added.copy()

    # --- selection ------------------------------------------------------------------

    @property
    def capture(self) -> Capture:
        """The capture this view shows."""
        return self._capture

    @property
    def selected_rows(self) -> np.ndarray:
        """Positions (0..n_tokens-1) of the selected tokens, sorted, as uint32."""
        return np.frombuffer(self._selected_rows, dtype="<u4").astype(np.uint32)

    @property
    def selection(self) -> pd.DataFrame:
        """The selected tokens as rows of ``capture.tokens`` (empty when nothing is selected);
        selected typed-in tokens follow as rows of ``added_tokens``."""
        return selection_frame(self._capture.tokens, self._added, self.selected_rows)

    def select(self, what: pd.DataFrame | pd.Series | np.ndarray | Iterable[int] | None) -> None:
        """Highlight tokens: a DataFrame of token rows (by index), a boolean mask over
        the tokens, or row positions. ``None`` or empty clears the selection."""
        self._selected_rows = rows_to_bytes(rows_of(self._capture.tokens, len(self._added), what))

    def clear_selection(self) -> None:
        self.select(None)

    def on_selection(self, callback: Callable[[pd.DataFrame], None]) -> Callable[[], None]:
        """Call ``callback(selection)`` whenever the selection changes; returns the unsubscribe."""

        def handler(_change: dict) -> None:
            callback(self.selection)

        self.observe(handler, names="_selected_rows")
        return lambda: self.unobserve(handler, names="_selected_rows")

    # --- export ---------------------------------------------------------------------

    def save(self, path: str | pathlib.Path, *, scale: float = 1.0, **options: Any) -> Any:
        """Save the view to ``path``; the format follows the extension.

        - ``.html``: a self-contained, offline, interactive page, written now
          (see ``attentionviz.export.to_html`` for options). Returns the path.
        - ``.png`` (``scale`` x the on-screen size) and ``.svg`` (points, lines, labels,
          legend): rendered by the view shown in the notebook, so the view must be on
          screen: the single head, in the compare view both heads side by side, in the
          matrix view (PNG only) every head's thumbnail in its layers x heads grid. The
          kernel receives the image once the cell has finished; the file is then written
          atomically. Returns a ``SaveRequest`` (``.done``, ``.error``).
        """
        from .html import to_html

        target = pathlib.Path(path)
        suffix = target.suffix.lower()
        if suffix in (".html", ".htm"):
            return to_html(self, target, **options)
        if suffix not in (".png", ".svg"):
            raise ValueError(
                f"save(): cannot write {suffix or 'a file without extension'!r} files; "
                "supported: .html, .png, .svg"
            )
        if options:
            raise TypeError(f"save() got unexpected option(s) for {suffix}: {sorted(options)}")
        if not 0 < float(scale) <= 8:
            raise ValueError(f"save(): scale must be in (0, 8], got {scale}")
        request = SaveRequest(target, suffix[1:])
        # several views of one widget each answer; the first reply wins (router.py)
        request.id = self._router.request(
            "export", {"format": suffix[1:], "scale": float(scale)}, request.settle
        )
        return request

    # --- what the standalone page embeds ---------------------------------------------

    @property
    def compare_capture(self) -> Capture | None:
        """The compare_to capture of the right panel, or None (the right panel is this one's)."""
        return self._compare_capture

    def view_state(self) -> dict[str, Any]:
        """The view state (``VIEW_STATE`` traits) as JSON values."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((n, getattr(self, n)) for n in self.VIEW_STATE)
        }

    @property
    def token_payload(self) -> bytes:
        """The token table as the view received it (Arrow IPC stream)."""
        return self._tokens

    @property
    def selection_payload(self) -> bytes:
        """The selection as the view holds it (uint32 little-endian rows)."""
        return self._selected_rows

    @property
    def compare_payload(self) -> dict[str, Any]:
        """What the view knows of the compare_to capture ({} without one)."""
        return dict(self._compare)
