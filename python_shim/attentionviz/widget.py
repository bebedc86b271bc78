"""The ``AttentionViz`` notebook widget: traits for every piece of view state.

Q/K cross to the browser as binary buffers, only for the head being shown; the
token table crosses once as an Arrow IPC stream. The browser computes the layout
(normalization + PCA) and sends the selection back as uint32 rows.
"""

from __future__ import annotations

import hashlib
import importlib.util
import operator
import os
import pathlib
from collections.abc import Callable, Iterable
from typing import Any

import anywidget
import numpy as np
import pandas as pd
import traitlets as t

from ._arrow import tokens_to_arrow as tokens_to_arrow  # re-exported (tests, users)
from ._bundle import BUNDLE, LOADER
from .capture import Capture
from .text_input import OnnxFiles, added_frame

_STATIC = pathlib.Path(__file__).parent / "static"

#: Columns every token table has; user metadata columns follow them.
_BASE_COLUMNS = ("text", "seq", "pos", "pos_norm", "token_id", "special")


def _bytes_from_json(value: Any, _widget: Any) -> bytes:
    # Buffers from the browser arrive as memoryview; the traits hold bytes.
    return b"" if value is None else bytes(value)


_binary = {"from_json": _bytes_from_json}


def _capture_id(capture: Capture) -> str:
    """Identifies a capture's contents, so cached layouts are never reused for another."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(str(capture.model_name).encode())
    # hash_pandas_object(tokens[["text", "seq"]]), without building the whole DataFrame
    digest.update(capture._text_seq_hashes())
    queries, _ = capture.qk(0, 0, rows=64)  # reads 64 rows, not the whole head
    digest.update(np.ascontiguousarray(queries).tobytes())
    return digest.hexdigest()[:16]


def head_in_range(value: Any, what: str, n_layers: int, n_heads: int) -> tuple[int, int]:
    """``value`` as a ``(layer, head)`` of a capture with ``n_layers`` x ``n_heads`` heads,
    or a ValueError naming ``what`` and the valid ranges."""
    try:
        layer, head = (operator.index(v) for v in value)
    except (TypeError, ValueError):
        message = f"{what} must be a (layer, head) pair of integers, got {value!r}"
        raise ValueError(message) from None
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        raise ValueError(
            f"{what} {(layer, head)} is out of range: this capture has layers "
            f"0..{n_layers - 1} and heads 0..{n_heads - 1}"
        )
    return layer, head


def same_tokens(capture: Capture, other: Any) -> Capture:
    """``other`` if it is a Capture over the same token rows as ``capture`` (same text and
    sequence, row for row), so one selection means the same tokens in both; else an error
    naming the first difference."""
    if not isinstance(other, Capture):
        raise TypeError(
            f"compare_to needs an attentionviz.Capture (from av.capture or av.load), "
            f"got {type(other).__name__}"
        )
    if other.n_tokens != capture.n_tokens:
        raise ValueError(
            f"compare_to: the captures hold different tokens ({capture.n_tokens} vs "
            f"{other.n_tokens} rows); capture the same texts with the same tokenizer"
        )
    mine, theirs = capture._text_seq_hashes(), other._text_seq_hashes()
    if not np.array_equal(mine, theirs):
        row = int(np.flatnonzero(mine != theirs)[0])
        for column in ("text", "seq"):
            # tolist(): plain Python values, so the message reads 1, not np.int64(1)
            a, b = (c.tokens[column].iloc[row : row + 1].tolist()[0] for c in (capture, other))
            if a != b:
                raise ValueError(
                    f"compare_to: the captures' token {column!r} differs from row {row} "
                    f"({a!r} vs {b!r}); capture the same texts with the same tokenizer"
                )
    return other


def _compare_info(capture: Capture) -> dict[str, Any]:
    """What the view needs of the compare_to capture (the ``_compare`` trait)."""
    return {
        "model_name": str(capture.model_name),
        "n_layers": capture.n_layers,
        "n_heads": capture.n_heads,
        "scale": float(capture.scale),
        "mask": str(capture.mask),
        "capture_id": _capture_id(capture),
    }


def rows_to_bytes(rows: Iterable[int]) -> bytes:
    return np.asarray(list(rows), dtype="<u4").tobytes()


class AttentionViz(anywidget.AnyWidget):
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

    # A small loader: the bundle itself is imported once per page (see _bundle.py).
    _esm = LOADER
    _bundle = t.Bytes(BUNDLE, help="the widget's JS bundle, imported once per page").tag(sync=True)

    #: Traits that make up the view state (exported with the view, restored with it).
    VIEW_STATE = (
        "head",
        "compare_head",
        "n_layers",
        "n_heads",
        "view",
        "projection",
        "dims",
        "normalize",
        "color_by",
        "size_by",
        "search",
        "top_k",
        "matrix_order",
        "matrix_source",
        "camera",
        "theme",
        "model_name",
        "scale",
        "mask",
        "_capture_id",
    )

    head = t.Tuple(t.Int(), t.Int(), default_value=(0, 0), help="(layer, head) shown").tag(
        sync=True
    )
    compare_head = t.Tuple(
        t.Int(),
        t.Int(),
        default_value=(0, 1),
        help="(layer, head) of the compare view's right panel (``head`` is the left one)",
    ).tag(sync=True)
    n_layers = t.Int(0, help="layers in the capture").tag(sync=True)
    n_heads = t.Int(0, help="heads per layer in the capture").tag(sync=True)
    normalize = t.Bool(True, help="key translation + Q/K scaling (attention unchanged)").tag(
        sync=True
    )
    view = t.Enum(
        ["matrix", "head", "compare"],
        "matrix",
        help="every layer x head, one head, or two heads side by side (compare_head beside head)",
    ).tag(sync=True)
    projection = t.Enum(["pca", "umap", "tsne"], "umap", help="layout method").tag(sync=True)
    dims = t.Enum([2, 3], 2, help="2D (pan/zoom) or 3D (orbit)").tag(sync=True)
    color_by = t.Unicode(
        "qk", help="'qk', 'pos_norm', 'seq', 'category' or any token-table column"
    ).tag(sync=True)
    size_by = t.Enum(
        ["none", "norm"], "none", help="point size: uniform, or by the (normalized) Q/K norm"
    ).tag(sync=True)
    layout_backend = t.Enum(
        ["browser", "kernel"],
        "browser",
        help="where UMAP / t-SNE run: browser web workers, or this kernel (umap-learn / "
        'openTSNE, pip install "attentionviz[kernel-layout]"); PCA always runs in the browser',
    ).tag(sync=True)
    search = t.Unicode("", help="highlight tokens whose text matches").tag(sync=True)
    top_k = t.Int(5, help="attention lines drawn from a clicked query").tag(sync=True)
    matrix_order = t.Enum(
        ["index", "entropy", "distance", "offset"],
        "index",
        help="order of the matrix view cells: layer x head, or ascending attention entropy, "
        "query-key centroid distance or mean attended offset (positional bias)",
    ).tag(sync=True)
    matrix_source = t.Enum(
        ["capture", "compare"],
        "capture",
        help="whose heads the matrix view shows: this capture's, or 'compare' for the "
        "compare_to capture's (a click then opens that head beside ``head``)",
    ).tag(sync=True)
    camera = t.Dict(help="the single-head camera, as the view last left it").tag(sync=True)
    theme = t.Enum(["auto", "light", "dark"], "auto", help="auto follows JupyterLab").tag(sync=True)
    model_name = t.Unicode("").tag(sync=True)
    error = t.Unicode("", help="a problem the view shows to the user").tag(sync=True)

    _tokens = t.Bytes(b"").tag(sync=True, **_binary)
    _queries = t.Bytes(b"").tag(sync=True, **_binary)
    _keys = t.Bytes(b"").tag(sync=True, **_binary)
    _qk_meta = t.Dict().tag(sync=True)
    #: kernel layout of the shown head: float32 [2 n_tokens, dims], described by _layout_meta
    _layout = t.Bytes(b"").tag(sync=True, **_binary)
    _layout_meta = t.Dict().tag(sync=True)
    _selected_rows = t.Bytes(b"").tag(sync=True, **_binary)
    _capture_id = t.Unicode("").tag(sync=True)
    #: the capture of the compare view's right panel when it is another model's
    #: (``compare_to=``): model_name, n_layers, n_heads, scale, mask, capture_id; {} if none
    _compare = t.Dict().tag(sync=True)
    _text_input = t.Dict(help="the ONNX model offered for typed text ({} when none)").tag(sync=True)
    scale = t.Float(1.0, help="attention scale of the capture (q.k * scale)").tag(sync=True)
    mask = t.Unicode("bidirectional", help="'causal' or 'bidirectional'").tag(sync=True)

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
        settable = {
            "normalize",
            "color_by",
            "size_by",
            "layout_backend",
            "theme",
            "view",
            "projection",
            "dims",
            "search",
            "top_k",
            "matrix_order",
            "matrix_source",
        }
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
        self._capture = capture
        # The right panel's capture: another model's Q/K over the same tokens, or this one.
        self._compare_capture = same_tokens(capture, compare_to) if compare_to is not None else None
        self._wire_dtype = dtype
        # Checked now: a model that does not match the capture fails here, naming why.
        self._onnx = OnnxFiles(onnx, capture) if onnx is not None else None
        self._added = added_frame({}, capture.n_tokens)  # n_tokens: no DataFrame needed
        self._saves: dict[int, Any] = {}
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
            _capture_id=_capture_id(capture),
            mask=str(capture.mask),
            _tokens=capture._tokens_ipc(),  # == tokens_to_arrow(capture.tokens)
            _text_input=self._onnx.info() if self._onnx else {},
            _compare=_compare_info(self._compare_capture) if self._compare_capture else {},
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
        self.on_msg(self._on_request)

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
        as they cross the wire (little-endian); ``rows`` keeps only the first rows (the
        matrix view's thumbnail sample)."""
        capture = capture or self._capture
        wire = np.dtype(self._wire_dtype).newbyteorder("<")
        rows = rows if rows is not None and rows > 0 else None
        if capture.dtype == self._wire_dtype:
            # the stored bytes are the wire's: read once into the bytes sent (one copy)
            queries, keys = capture._qk_bytes(layer, head, rows=rows)
            n_tokens = len(queries) // (capture.d_head * wire.itemsize)
        else:
            # through float32, so an fp32 value beyond fp16's range is not checked as inf
            q, k = capture.qk(layer, head, rows=rows, dtype=np.float32)
            queries, keys = q.astype(wire).tobytes(), k.astype(wire).tobytes()
            n_tokens = int(q.shape[0])
            del q, k
        meta = {
            "layer": layer,
            "head": head,
            "n_tokens": n_tokens,
            "d_head": capture.d_head,
            "dtype": self._wire_dtype,
        }
        return meta, queries, keys

    def _send_head(self) -> None:
        layer, head = self.head
        meta, queries, keys = self._head_payload(layer, head)
        with self.hold_sync():
            self._queries = queries
            self._keys = keys
            self._qk_meta = meta

    def _on_request(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        """Messages from the view: Q/K requests (matrix view), exports it rendered, HTML."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind in ("export-result", "export-error"):
            self._finish_save(content, buffers)
            return
        if kind == "html-request":
            self._send_html(content.get("request"))
            return
        if kind == "image":
            self._send_image(content.get("request"), content.get("seq"))
            return
        if kind in ("onnx-request", "added-tokens"):
            self._on_text_input(kind, content)
            return
        if kind != "qk":
            return
        request = content.get("request")
        try:
            # "source": "compare" asks for a head of the compare_to capture (right panel)
            other = content.get("source") == "compare" and self._compare_capture is not None
            where = (content["layer"], content["head"])
            check = self._in_compare_range if other else self._in_range
            layer, head = check(where, "head")
            rows = content.get("rows")
            rows = int(rows) if isinstance(rows, int) and not isinstance(rows, bool) else None
            capture = self._compare_capture if other else None
            meta, queries, keys = self._head_payload(layer, head, rows, capture)
        except Exception as error:  # the view shows it; the kernel keeps running
            self.send({"type": "qk-error", "request": request, "message": str(error)})
            return
        self.send({"type": "qk", "request": request, **meta}, buffers=[queries, keys])

    # --- text typed into the view -------------------------------------------------------

    def _on_text_input(self, kind: str, content: dict[str, Any]) -> None:
        request = content.get("request")
        if kind == "onnx-request":
            if self._onnx is None:
                self.send(
                    {
                        "type": "onnx-error",
                        "request": request,
                        "message": (
                            "no ONNX model: create the view with AttentionViz(cap, onnx=...)"
                        ),
                    }
                )
                return
            try:
                self._onnx.send(self.send, request)
            except Exception as error:  # the view shows it; the kernel keeps running
                self.send({"type": "onnx-error", "request": request, "message": str(error)})
            return
        try:
            self._added = added_frame(content.get("tokens"), self._capture.n_tokens)
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

    def _send_image(self, request: Any, seq: Any) -> None:
        """Answer the image view: PNG bytes of image ``seq`` as the model saw it."""
        count = self._capture.n_images
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < count:
            message = (
                "this capture holds no images (capture_vision keeps them; older files do not)"
                if not count
                else f"image {seq!r} out of range (0..{count - 1})"
            )
            self.send({"type": "image-error", "request": request, "message": message})
            return
        png = self._capture.image_png(seq)
        self.send({"type": "image", "request": request, "seq": seq}, buffers=[png])

    # --- kernel-side layouts ---------------------------------------------------------

    def _check_kernel_backend(self) -> None:
        missing = [m for m in ("umap", "openTSNE") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(
                f'layout_backend="kernel" needs {", ".join(missing)}: '
                'pip install "attentionviz[kernel-layout]"'
            )

    @t.observe("layout_backend")
    def _on_backend(self, change: dict) -> None:
        if change["new"] == "kernel":
            try:
                self._check_kernel_backend()
            except ImportError:
                self.layout_backend = "browser"  # the view keeps working
                raise
        self._send_layout()

    @t.observe("projection", "dims", "normalize")
    def _on_layout_params(self, _change: dict) -> None:
        self._send_layout()

    def kernel_layout(
        self, layer: int | None = None, head: int | None = None, *, progress: bool = True
    ) -> np.ndarray:
        """The joint Q/K layout of a head computed in this kernel (``projection``, ``dims``,
        ``normalize`` as set on the view): float32 ``[2 n_tokens, dims]``, queries first."""
        from .kernel_layout import joint_layout

        shown = self.head
        layer = shown[0] if layer is None else layer
        head = shown[1] if head is None else head
        queries, keys = self._capture.qk(layer, head)
        return joint_layout(
            queries,
            keys,
            self.projection,
            dims=int(self.dims),
            normalize=self.normalize,
            progress=progress,
        )

    def _send_layout(self) -> None:
        """With the kernel backend, compute and send the shown head's UMAP / t-SNE layout."""
        # not while __init__ is still setting traits (head is set last)
        if not getattr(self, "_layouts_live", False) or self.layout_backend != "kernel":
            return
        from .kernel_layout import METHODS, layout_bytes

        if self.projection not in METHODS:
            return  # PCA: the browser does it instantly
        layer, head = self.head
        meta = {
            "layer": layer,
            "head": head,
            "method": self.projection,
            "dims": int(self.dims),
            "normalize": bool(self.normalize),
        }
        if {k: v for k, v in self._layout_meta.items() if k != "n_points"} == meta:
            return
        try:
            positions = self.kernel_layout(layer, head)
        except Exception as error:  # shown in the view; the PCA layout stays
            self.error = f"kernel {self.projection} layout failed: {error}"
            raise
        with self.hold_sync():
            self._layout = layout_bytes(positions)
            self._layout_meta = {**meta, "n_points": int(positions.shape[0])}

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
        tokens = self._capture.tokens
        rows = self.selected_rows
        n = len(tokens)
        if not len(self._added) or not (rows >= n).any():
            return tokens.iloc[rows[rows < n]]
        added = self._added.iloc[rows[(rows >= n) & (rows < n + len(self._added))] - n]
        return pd.concat([tokens.iloc[rows[rows < n]], added])

    def select(self, what: pd.DataFrame | pd.Series | np.ndarray | Iterable[int] | None) -> None:
        """Highlight tokens: a DataFrame of token rows (by index), a boolean mask over
        the tokens, or row positions. ``None`` or empty clears the selection."""
        self._selected_rows = rows_to_bytes(self._rows_of(what))

    def clear_selection(self) -> None:
        self.select(None)

    def on_selection(self, callback: Callable[[pd.DataFrame], None]) -> Callable[[], None]:
        """Call ``callback(selection)`` whenever the selection changes; returns the unsubscribe."""

        def handler(_change: dict) -> None:
            callback(self.selection)

        self.observe(handler, names="_selected_rows")
        return lambda: self.unobserve(handler, names="_selected_rows")

    def _rows_of(self, what: Any) -> np.ndarray:
        tokens = self._capture.tokens
        n = len(tokens) + len(self._added)
        if what is None:
            return np.zeros(0, dtype=np.uint32)
        if isinstance(what, pd.DataFrame):
            missing = what.index.difference(tokens.index)
            if len(missing):
                raise ValueError(
                    f"select(): {len(missing)} row label(s) are not in capture.tokens "
                    f"(e.g. {list(missing[:5])}); pass rows of viz.capture.tokens or a filter of it"
                )
            return np.unique(tokens.index.get_indexer(what.index)).astype(np.uint32)
        if isinstance(what, pd.Series) and what.dtype == bool:
            # a mask is matched to the tokens by its labels, not by its order
            missing = what.index.difference(tokens.index)
            if len(missing) or what.index.has_duplicates:
                raise ValueError(
                    f"select(): the boolean mask's index does not match capture.tokens "
                    f"({len(missing)} unknown label(s), e.g. {list(missing[:5])}"
                    f"{', and duplicate labels' if what.index.has_duplicates else ''}); "
                    "build the mask from viz.capture.tokens"
                )
            what = what.reindex(tokens.index, fill_value=False)
        values = np.asarray(what.to_numpy() if isinstance(what, pd.Series) else list(what))
        if values.dtype == bool:
            if values.shape != (n,):
                raise ValueError(
                    f"select(): a boolean mask must have one value per token ({n}), "
                    f"got shape {values.shape}"
                )
            return np.flatnonzero(values).astype(np.uint32)
        if values.size == 0:
            return np.zeros(0, dtype=np.uint32)
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(
                "select() takes a DataFrame of token rows, a boolean mask or integer row "
                f"positions, got values of dtype {values.dtype}"
            )
        if values.min() < 0 or values.max() >= n:
            raise IndexError(f"select(): row positions must be in 0..{n - 1}")
        return np.unique(values).astype(np.uint32)

    # --- export ---------------------------------------------------------------------

    def save(self, path: str | pathlib.Path, *, scale: float = 1.0, **options: Any) -> Any:
        """Save the view to ``path``; the format follows the extension.

        - ``.html``: a self-contained, offline, interactive page, written now
          (see ``export.to_html`` for options). Returns the path.
        - ``.png`` (``scale`` x the on-screen size) and ``.svg`` (points, lines, labels,
          legend): rendered by the view shown in the notebook, so the view must be on
          screen: the single head, in the compare view both heads side by side, in the
          matrix view (PNG only) every head's thumbnail in its layers x heads grid. The
          kernel receives the image once the cell has finished; the file is then written
          atomically. Returns a ``SaveRequest`` (``.done``, ``.error``).
        """
        from .export import SaveRequest, to_html

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
        self._saves[request.id] = request
        self.send(
            {"type": "export", "format": suffix[1:], "scale": float(scale), "request": request.id}
        )
        return request

    def _finish_save(self, content: dict[str, Any], buffers: list[Any]) -> None:
        request = self._saves.pop(content.get("request"), None)
        if request is None:  # answered already (several views of one widget)
            return
        if content.get("type") == "export-error" or not buffers:
            request.fail(str(content.get("message", "the view sent no image")))
        else:
            request.write(bytes(buffers[0]))

    def _send_html(self, request: Any) -> None:
        from .export import html_bytes

        try:
            page = html_bytes(self, progress=False)
        except Exception as error:  # shown in the view; the kernel keeps running
            self.send({"type": "html-error", "request": request, "message": str(error)})
            return
        self.send({"type": "html", "request": request}, buffers=[page])
