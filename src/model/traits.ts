import type { AnyModel } from '@anywidget/types';

import { HOST_DEFAULTS } from './view_state';

/** Dtype of a Q/K buffer as sent by the kernel. */
export type MatrixDtype = 'float16' | 'float32';

/** Describes the `_queries` / `_keys` buffers currently on the model. */
export interface QKMeta {
  layer: number;
  head: number;
  n_tokens: number;
  d_head: number;
  dtype: MatrixDtype;
  /** `_value_norms` holds this head's |v_j| (absent/false: the capture has none). */
  value_norms?: boolean;
}

/** The ONNX model the kernel offers for text typed into the view (`AttentionViz(cap, onnx=...)`). */
export interface TextInputInfo {
  model_name: string;
  n_layers: number;
  n_heads: number;
  d_head: number;
  /** Tokens per text; longer text is cut (with a notice). */
  max_length: number;
  dtype: string;
  /** Bytes the view downloads from the kernel on first use (model, tokenizer, WASM runtime). */
  bytes: number;
}

/**
 * The capture of the compare view's right panel when it is another model's
 * (`AttentionViz(cap, compare_to=other)`): same token rows, its own heads and attention.
 */
export interface CompareCapture {
  model_name: string;
  n_layers: number;
  n_heads: number;
  scale: number;
  mask: 'causal' | 'bidirectional';
  capture_id: string;
}

/** Describes the `_layout` buffer: a kernel-computed layout (layout_backend "kernel"). */
export interface KernelLayoutMeta {
  layer: number;
  head: number;
  method: 'umap' | 'tsne';
  dims: 2 | 3;
  normalize: boolean;
  /** 2 * n_tokens (queries, then keys). */
  n_points: number;
}

/**
 * Every synced trait of the Python `AttentionViz` widget, by its Python name.
 * Binary traits arrive as DataView (anywidget's buffer convention) or null.
 */
export interface ViewTraits {
  /** [layer, head] being shown. */
  head: [number, number];
  /** [layer, head] of the compare view's right panel (`head` is the left one; absent or out of range: the next head of its layer). */
  compare_head?: [number, number];
  n_layers: number;
  n_heads: number;
  /** Key translation + Q/K scaling of the paper (sec. 4). */
  normalize: boolean;
  /** Point colouring: "qk", "pos_norm", "seq", "category" or any token-table column. */
  color_by: string;
  /** Which view fills the widget. */
  view: 'matrix' | 'head' | 'compare' | 'headmap';
  projection: 'pca' | 'umap' | 'tsne';
  dims: 2 | 3;
  /** Point size: uniform, or by the (normalized) Q/K vector norm (absent: uniform). */
  size_by?: 'none' | 'norm';
  /** Where UMAP / t-SNE run; "kernel": the host sends `_layout` (PCA stays in the browser). */
  layout_backend?: 'browser' | 'kernel';
  /** Kernel layout of the shown head: float32 little-endian [n_points, dims]. */
  _layout?: DataView | null;
  _layout_meta?: KernelLayoutMeta | Record<string, never> | null;
  /** Tokens whose text matches are highlighted. */
  search: string;
  /** Attention lines drawn from a clicked query. */
  top_k: number;
  /** Matrix cells by layer x head, or ascending by a per-head summary number (offset: mean attended distance in tokens). */
  matrix_order: 'index' | 'entropy' | 'distance' | 'offset';
  /** Whose heads the matrix view shows: this capture's, or (with `_compare`) the other model's. */
  matrix_source?: 'capture' | 'compare';
  /** Colour of the head map's points: the head's layer or one of its summary numbers (absent: layer). */
  headmap_color?: 'layer' | 'entropy' | 'distance' | 'offset';
  /** Token labels beside points (text captures, once zoomed in enough to read them). */
  labels: boolean;
  /** Drop attention to [CLS]/[SEP]/first tokens and renormalize the rest. */
  hide_special: boolean;
  /** Lines on a click: the query's top_k keys, or the top 2 of every query of its sentence. */
  lines: 'query' | 'sentence';
  /** k of color_by "pos_mod". */
  pos_mod_k: number;
  hide_queries: boolean;
  hide_keys: boolean;
  /** Camera of the single-head view: {x, y, z, zoom, tx, ty, tz}. */
  camera: Record<string, number>;
  /** Attention scale of the capture: logits = q.k * scale. */
  scale: number;
  mask: 'causal' | 'bidirectional';
  /** Identifies the capture's contents (layout cache key). */
  _capture_id: string;
  /**
   * This widget's own id (Python sets a uuid): anywidget gives `initialize` and every
   * `render` a different proxy object of one model, so views find its services by this id.
   * Empty in hand-built hosts, which pass the same model object to every view.
   */
  _widget_id?: string;
  /** "auto" follows JupyterLab's theme. */
  theme: 'auto' | 'light' | 'dark';
  /** Human-readable model name, for the title. */
  model_name: string;
  /** Token table as an Arrow IPC stream. */
  _tokens: DataView | null;
  /** Q of the shown head, [n_tokens, d_head] row-major, dtype per `_qk_meta`. */
  _queries: DataView | null;
  /** K of the shown head, same layout as `_queries`. */
  _keys: DataView | null;
  _qk_meta: QKMeta | null;
  /** Selected token rows, uint32 little-endian. */
  _selected_rows: DataView | null;
  /** Last error the view wants the user to see (set by either side). */
  error: string;
  /** The model for typed text; `{}` (or absent: standalone hosts) when there is none. */
  _text_input?: TextInputInfo | Record<string, never>;
  /** The right panel's capture when it is another model's; `{}` (or absent) when it is this one. */
  _compare?: CompareCapture | Record<string, never>;
  /** Weight attention by the key's value-vector norm, alpha_ij * |v_j| (lines, sentence view, analysis). */
  weight_by_value?: boolean;
  /** The analysis pane beside the plot: none, the attention pattern, attention by offset, or one pair's q*k products. */
  analysis?: 'none' | 'pattern' | 'offsets' | 'dims';
  /** Vision captures: points as dots, as image patches (queries outlined, keys filled), or patches without outline. */
  point_style?: 'dot' | 'patch' | 'patch_plain';
  /** Key row of the per-dimension view (-1: the focused query's top key). */
  pair_key?: number;
  /** |v_j| of the shown head, float32 little-endian [n_tokens] (empty: none). */
  _value_norms?: DataView | null;
}

export type ViewModel = AnyModel<ViewTraits>;

/**
 * Defaults of the view-state traits for hosts that build a model by hand (the standalone
 * page, the Lab file viewer): the Python widget's own, generated from its traits into
 * `view_state.ts`, so every host starts where the notebook does.
 */
export const DEFAULT_TRAITS: Omit<ViewTraits, '_tokens' | '_queries' | '_keys' | '_qk_meta' | 'n_layers' | 'n_heads'> = HOST_DEFAULTS;
