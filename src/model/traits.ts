import type { AnyModel } from '@anywidget/types';

/** Dtype of a Q/K buffer as sent by the kernel. */
export type MatrixDtype = 'float16' | 'float32';

/** Describes the `_queries` / `_keys` buffers currently on the model. */
export interface QKMeta {
  layer: number;
  head: number;
  n_tokens: number;
  d_head: number;
  dtype: MatrixDtype;
}

/**
 * Every synced trait of the Python `AttentionViz` widget, by its Python name.
 * Binary traits arrive as DataView (anywidget's buffer convention) or null.
 */
export interface ViewTraits {
  /** [layer, head] being shown. */
  head: [number, number];
  n_layers: number;
  n_heads: number;
  /** Key translation + Q/K scaling of the paper (sec. 4). */
  normalize: boolean;
  /** Point colouring: "qk" (query vs key), "pos_norm", "seq". */
  color_by: string;
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
}

export type ViewModel = AnyModel<ViewTraits>;
