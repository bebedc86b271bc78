"""``ViewTraits``: the synced traits of ``AttentionViz``, the one source of the view-state
schema (``schema.py`` generates the TypeScript defaults and names from them)."""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as t

from .bundle import BUNDLE, LOADER


def _bytes_from_json(value: Any, _widget: Any) -> bytes:
    # Buffers from the browser arrive as memoryview; the traits hold bytes.
    return b"" if value is None else bytes(value)


_binary = {"from_json": _bytes_from_json}


class ViewTraits(anywidget.AnyWidget):
    """Every piece of view state, as traits synced with the view.

    Tags: ``sync`` (the view has it), ``view_state`` (exported with the view and restored
    with it: ``VIEW_STATE``), ``settable`` (``AttentionViz(cap, name=...)``: ``SETTABLE``).
    """

    #: Names of the ``view_state`` traits (filled in below the class, from the tags).
    VIEW_STATE: tuple[str, ...] = ()

    # A small loader: the bundle itself is imported once per page (see bundle.py).
    _esm = LOADER
    _bundle = t.Bytes(BUNDLE, help="the widget's JS bundle, imported once per page").tag(sync=True)

    head = t.Tuple(t.Int(), t.Int(), default_value=(0, 0), help="(layer, head) shown").tag(
        sync=True, view_state=True
    )
    compare_head = t.Tuple(
        t.Int(),
        t.Int(),
        default_value=(0, 1),
        help="(layer, head) of the compare view's right panel (``head`` is the left one)",
    ).tag(sync=True, view_state=True)
    n_layers = t.Int(0, help="layers in the capture").tag(sync=True, view_state=True)
    n_heads = t.Int(0, help="heads per layer in the capture").tag(sync=True, view_state=True)
    normalize = t.Bool(True, help="key translation + Q/K scaling (attention unchanged)").tag(
        sync=True, view_state=True, settable=True
    )
    view = t.Enum(
        ["matrix", "head", "compare", "headmap"],
        "matrix",
        help="every layer x head, one head, two heads side by side (compare_head beside head), "
        "or the head map (each head one point, placed by attention similarity)",
    ).tag(sync=True, view_state=True, settable=True)
    projection = t.Enum(["pca", "umap", "tsne"], "umap", help="layout method").tag(
        sync=True, view_state=True, settable=True
    )
    dims = t.Enum([2, 3], 2, help="2D (pan/zoom) or 3D (orbit)").tag(
        sync=True, view_state=True, settable=True
    )
    color_by = t.Unicode(
        "qk",
        help="'qk', 'pos_norm', 'pos', 'seq', 'category', 'norm', 'token_length', "
        "'sentence_length', 'frequency', 'pos_mod', 'attention_received' or any token-table column",
    ).tag(sync=True, view_state=True, settable=True)
    size_by = t.Enum(
        ["none", "norm"], "none", help="point size: uniform, or by the (normalized) Q/K norm"
    ).tag(sync=True, view_state=True, settable=True)
    layout_backend = t.Enum(
        ["browser", "kernel"],
        "browser",
        help="where UMAP / t-SNE run: browser web workers, or this kernel (umap-learn / "
        'openTSNE, pip install "attentionviz[kernel-layout]"); PCA always runs in the browser',
    ).tag(sync=True, settable=True)
    search = t.Unicode("", help="highlight tokens whose text matches").tag(
        sync=True, view_state=True, settable=True
    )
    top_k = t.Int(5, help="attention lines drawn from a clicked query").tag(
        sync=True, view_state=True, settable=True
    )
    matrix_order = t.Enum(
        ["index", "entropy", "distance", "offset"],
        "index",
        help="order of the matrix view cells: layer x head, or ascending attention entropy, "
        "query-key centroid distance or mean attended offset (positional bias)",
    ).tag(sync=True, view_state=True, settable=True)
    matrix_source = t.Enum(
        ["capture", "compare"],
        "capture",
        help="whose heads the matrix view shows: this capture's, or 'compare' for the "
        "compare_to capture's (a click then opens that head beside ``head``)",
    ).tag(sync=True, view_state=True, settable=True)
    headmap_color = t.Enum(
        ["layer", "entropy", "distance", "offset"],
        "layer",
        help="colour of the head map's points: the head's layer or one of its summary numbers",
    ).tag(sync=True, view_state=True, settable=True)
    labels = t.Bool(
        True,
        help="token labels beside points (collision-avoided), for text captures once zoomed "
        "in enough to read them",
    ).tag(sync=True, view_state=True, settable=True)
    hide_special = t.Bool(
        False,
        help="drop attention to [CLS]/[SEP]/first tokens and renormalize the rest (lines, "
        "sentence and image views, per-head statistics, attention received)",
    ).tag(sync=True, view_state=True, settable=True)
    lines = t.Enum(
        ["query", "sentence"],
        "query",
        help="attention lines on a click: the clicked query's top_k keys, or for every query "
        "of its sentence the top 2 keys with weight >= 0.05",
    ).tag(sync=True, view_state=True, settable=True)
    pos_mod_k = t.Int(5, min=1, help="k of color_by='pos_mod' (position modulo k)").tag(
        sync=True, view_state=True, settable=True
    )
    hide_queries = t.Bool(False, help="hide the query points").tag(
        sync=True, view_state=True, settable=True
    )
    hide_keys = t.Bool(False, help="hide the key points").tag(
        sync=True, view_state=True, settable=True
    )
    camera = t.Dict(help="the single-head camera, as the view last left it").tag(
        sync=True, view_state=True
    )
    theme = t.Enum(["auto", "light", "dark"], "auto", help="auto follows JupyterLab").tag(
        sync=True, view_state=True, settable=True
    )
    model_name = t.Unicode("").tag(sync=True, view_state=True)
    weight_by_value = t.Bool(
        False,
        help="weight attention by the key's value-vector norm (alpha_ij * |v_j|, Kobayashi et "
        "al. 2020) in lines, the sentence view and the analysis pane",
    ).tag(sync=True, view_state=True, settable=True)
    analysis = t.Enum(
        ["none", "pattern", "offsets", "dims"],
        "none",
        help="the analysis pane beside the single-head plot: the attention pattern heatmap of "
        "the focused sequence, attention by offset over the corpus, or the per-dimension "
        "q*k products of the focused query with one key",
    ).tag(sync=True, view_state=True, settable=True)
    point_style = t.Enum(
        ["dot", "patch", "patch_plain"],
        "dot",
        help="vision captures: points as dots, as their image patches (queries outlined, keys "
        "on a filled square, as in the original AttentionViz), or patches without outline",
    ).tag(sync=True, view_state=True, settable=True)
    pair_key = t.Int(
        -1, help="key row of the per-dimension view (-1: the focused query's top key)"
    ).tag(sync=True, view_state=True, settable=True)
    error = t.Unicode("", help="a problem the view shows to the user").tag(sync=True)

    _tokens = t.Bytes(b"").tag(sync=True, **_binary)
    _queries = t.Bytes(b"").tag(sync=True, **_binary)
    _keys = t.Bytes(b"").tag(sync=True, **_binary)
    _qk_meta = t.Dict().tag(sync=True)
    #: |v_j| of the shown head, float32 [n_tokens] (empty when the capture has none)
    _value_norms = t.Bytes(b"").tag(sync=True, **_binary)
    #: kernel layout of the shown head: float32 [2 n_tokens, dims], described by _layout_meta
    _layout = t.Bytes(b"").tag(sync=True, **_binary)
    _layout_meta = t.Dict().tag(sync=True)
    _selected_rows = t.Bytes(b"").tag(sync=True, **_binary)
    _capture_id = t.Unicode("").tag(sync=True, view_state=True)
    #: this widget's own id: anywidget hands `initialize` and every `render` a different
    #: proxy object of one model, so the browser finds the model's services by this id
    _widget_id = t.Unicode("").tag(sync=True)
    #: the capture of the compare view's right panel when it is another model's
    #: (``compare_to=``): model_name, n_layers, n_heads, scale, mask, capture_id; {} if none
    _compare = t.Dict().tag(sync=True)
    _text_input = t.Dict(help="the ONNX model offered for typed text ({} when none)").tag(sync=True)
    scale = t.Float(1.0, help="attention scale of the capture (q.k * scale)").tag(
        sync=True, view_state=True
    )
    mask = t.Enum(["causal", "bidirectional"], "bidirectional", help="the mask kind").tag(
        sync=True, view_state=True
    )


def _tagged(tag: str) -> tuple[str, ...]:
    return tuple(sorted(ViewTraits.class_own_traits(**{tag: True})))


#: Traits that make up the view state (exported with the view, restored with it).
ViewTraits.VIEW_STATE = _tagged("view_state")
#: Traits ``AttentionViz(cap, **kwargs)`` accepts (the others follow from the capture).
SETTABLE = _tagged("settable")
