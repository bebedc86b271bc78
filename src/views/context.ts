/** What every pane of the view shares: the model, decoded data, services and helpers. */
import { layoutKey, type LayoutKey } from '../layout/key';
import type { LayoutRunner } from '../layout/scope';
import type { LayoutParams, ProgressCallback } from '../layout/types';
import { decodeRows, encodeRows } from '../model/decode';
import type { ImageSource } from '../model/image_source';
import type { HeadQK, QKSource, QKSourceName } from '../model/qk_source';
import type { TokenTable } from '../model/tokens';
import type { CompareCapture, ViewModel } from '../model/traits';
import { sinkRows } from '../compute/renormalize';
import type { Theme } from '../ui/theme';
import type { AddedText } from './added';

export class ViewContext {
  tokens: TokenTable | null = null;
  /** Text typed into the view (`AttentionViz(cap, onnx=...)`); null without a model. */
  added: AddedText | null = null;
  /** The model's images (vision captures), shared by its views; null where the host has none. */
  images: ImageSource | null = null;

  constructor(
    readonly model: ViewModel,
    readonly root: HTMLElement,
    /** Layouts: workers, or this thread where they cannot start (layout/service.ts). */
    readonly layouts: LayoutRunner,
    readonly qk: QKSource,
    public theme: Theme,
    readonly setStatus: (text: string) => void,
    readonly showMessage: (text: string) => void,
    readonly notify: (text: string) => void,
  ) {}

  layoutParams(method = this.model.get('projection')): LayoutParams {
    return { method, dims: Number(this.model.get('dims')) === 3 ? 3 : 2, normalize: this.model.get('normalize'), seed: 42 };
  }

  /** Cache key of a layout of `qk` (which may be a prefix sample of the tokens) of capture `source`. */
  layoutKey(qk: Pick<HeadQK, 'layer' | 'head' | 'nTokens'>, params: LayoutParams, source: QKSourceName = 'capture'): LayoutKey {
    const capture = source === 'compare' ? (this.compareCapture()?.capture_id ?? '') : this.model.get('_capture_id') || 'capture';
    return layoutKey(capture, source, qk, params);
  }

  /**
   * A head's layout: cached, else from a worker, else (no workers, or the page does not
   * let them start) on this thread. `priority`: one of layout/service.ts's `Priority`.
   */
  layout(qk: HeadQK, params: LayoutParams, priority: number, onProgress?: ProgressCallback, source: QKSourceName = 'capture'): Promise<Float32Array> {
    return this.layouts.layout(this.layoutKey(qk, params, source), qk, priority, onProgress);
  }

  /** The layout of `qk` with `params` if it was computed already. */
  cachedLayout(qk: Pick<HeadQK, 'layer' | 'head' | 'nTokens'>, params: LayoutParams, source: QKSourceName = 'capture'): Float32Array | undefined {
    return this.layouts.cached(this.layoutKey(qk, params, source));
  }

  /** Drop waiting and running layouts that match (they reject with CancelledError). */
  cancelLayouts(match: (key: LayoutKey, priority: number) => boolean): void {
    this.layouts.cancel(match);
  }

  /** The compare view's other capture (`AttentionViz(cap, compare_to=other)`), or null: the right panel shows this one. */
  compareCapture(): CompareCapture | null {
    const info = this.model.get('_compare');
    return info && typeof info === 'object' && 'n_layers' in info ? (info as CompareCapture) : null;
  }

  /** Which capture a head trait's Q/K come from. */
  sourceOf(trait: 'head' | 'compare_head'): QKSourceName {
    return trait === 'compare_head' && this.compareCapture() ? 'compare' : 'capture';
  }

  /** Model name, shape and attention (scale, causal mask) of capture `source`. */
  captureInfo(source: QKSourceName): { modelName: string; nLayers: number; nHeads: number; scale: number; causal: boolean } {
    const other = source === 'compare' ? this.compareCapture() : null;
    if (other) return { modelName: other.model_name, nLayers: other.n_layers, nHeads: other.n_heads, scale: other.scale, causal: other.mask === 'causal' };
    const model = this.model;
    return { modelName: model.get('model_name'), nLayers: model.get('n_layers'), nHeads: model.get('n_heads'), scale: model.get('scale'), causal: model.get('mask') === 'causal' };
  }

  /**
   * The right-hand head of the compare view: `compare_head` when it names a head of its
   * capture, else `defaultCompareHead()`.
   */
  compareHead(): [number, number] {
    const { nLayers, nHeads } = this.captureInfo(this.sourceOf('compare_head'));
    const chosen = this.model.get('compare_head');
    const valid = (value: unknown): value is [number, number] =>
      Array.isArray(value) && value.length === 2 && value.every(Number.isInteger) && value[0] >= 0 && value[0] < nLayers && value[1] >= 0 && value[1] < nHeads;
    return valid(chosen) ? [chosen[0], chosen[1]] : this.defaultCompareHead();
  }

  /**
   * Where the right panel starts beside `head`: the next head of its layer (wrapping) or,
   * with another model's capture, that model's head at the same place, clamped to its
   * shape (as Python's `AttentionViz(compare_to=)` starts).
   */
  defaultCompareHead(): [number, number] {
    const [layer, head] = this.model.get('head');
    const other = this.compareCapture();
    if (other) return [Math.min(layer, other.n_layers - 1), Math.min(head, other.n_heads - 1)];
    return [layer, (head + 1) % Math.max(1, this.model.get('n_heads'))];
  }

  /** The heads on screen: `head`, and in the compare view also `compare_head`. */
  shownHeads(): Array<[number, number]> {
    const [layer, head] = this.model.get('head');
    return this.model.get('view') === 'compare' ? [[layer, head], this.compareHead()] : [[layer, head]];
  }

  /** The token table of the head view: the capture's rows, then any typed-in rows. */
  headTokens(): TokenTable | null {
    return this.added ? this.added.tokenTable(this.tokens) : this.tokens;
  }

  /** With `hide_special`: 1 for the rows whose keys are hidden ([CLS], [SEP], first tokens); else null. */
  hiddenKeys(tokens: TokenTable | null = this.headTokens()): Uint8Array | null {
    if (!this.model.get('hide_special') || !tokens) return null;
    return sinkRows(tokens.special, tokens.pos, tokens.length);
  }

  selectedRows(): Uint32Array {
    return decodeRows(this.model.get('_selected_rows'));
  }

  setSelection(rows: Iterable<number>): void {
    const unique = Uint32Array.from(new Set(rows)).sort();
    this.model.set('_selected_rows', encodeRows(unique));
    this.model.save_changes();
  }

  /** Rows whose text matches the search box: exact (case-insensitive), else substring. */
  searchMatches(): number[] {
    const query = this.model.get('search').trim().toLowerCase();
    const tokens = this.headTokens();
    if (!query || !tokens) return [];
    const texts = tokens.text.map((text) => text.trim().toLowerCase());
    const exact = texts.flatMap((text, row) => (text === query ? [row] : []));
    return exact.length ? exact : texts.flatMap((text, row) => (text.includes(query) ? [row] : []));
  }

  /** Set several traits and sync them once. */
  update(values: Partial<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(values)) this.model.set(name as never, value as never);
    this.model.save_changes();
  }
}
