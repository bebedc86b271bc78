/**
 * The standalone HTML export: every head's Q/K embedded in the page (base64), served to
 * the view by the kernel-free host (host.ts).
 */
import { mountHost, type HostedHead } from './host';
import type { HeadMapResult } from './model/head_map';
import type { QKMeta, ViewTraits } from './model/traits';

/** The JSON the Python exporter embeds (binary payloads base64-encoded). */
export interface StandaloneState {
  traits: Omit<ViewTraits, '_tokens' | '_queries' | '_keys' | '_qk_meta' | '_selected_rows' | 'error'>;
  tokens: string;
  dtype: QKMeta['dtype'];
  n_tokens: number;
  d_head: number;
  /** "layer,head" -> [queries, keys], base64 of little-endian matrices. */
  heads: Record<string, [string, string]>;
  selected_rows?: string;
  /** With `compare_to=`: the other capture's heads for the compare view's right panel (`traits._compare`). */
  compare?: { d_head: number; heads: Record<string, [string, string]> };
  /** The head map view's `head-map` reply, precomputed: its fields, coords and numbers (base64 float32). */
  head_map?: HeadMapResult & { coords: string; values: string };
}

/** `Uint8Array.fromBase64` (TC39 proposal-arraybuffer-base64; Chromium 140+, Firefox 133+, Safari 18.2+). */
type FromBase64 = (text: string) => Uint8Array;
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/**
 * Decodes base64; `limit` keeps only that many leading bytes and decodes only the text
 * they need (4 characters per 3 bytes), so a thumbnail never decodes a whole head.
 * Uses the browser's native `Uint8Array.fromBase64` when it has one (`native` = false
 * forces the atob path, for tests), else atob and a copy loop.
 */
export function base64ToView(text: string, limit?: number, native = nativeFromBase64 !== undefined): DataView {
  const chars = limit === undefined ? text.length : Math.min(text.length, Math.ceil(limit / 3) * 4);
  const prefix = chars === text.length ? text : text.slice(0, chars);
  let bytes: Uint8Array;
  if (native && nativeFromBase64) {
    bytes = nativeFromBase64.call(Uint8Array, prefix);
  } else {
    const binary = atob(prefix);
    bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  }
  const length = limit === undefined ? bytes.length : Math.min(limit, bytes.length);
  return new DataView(bytes.buffer, bytes.byteOffset, length);
}

/** Q/K of the embedded heads `heads` of a capture with `dHead` (first `rows` rows when asked). */
function embeddedHeads(state: StandaloneState, heads: Record<string, [string, string]>, dHead: number, which: string) {
  return (layer: number, head: number, rows?: number): HostedHead => {
    const pair = heads[`${layer},${head}`];
    if (!pair) {
      throw new Error(`this file holds no Q/K for ${which}layer ${layer} head ${head}`);
    }
    const n = rows && rows < state.n_tokens ? rows : state.n_tokens;
    const bytes = n * dHead * (state.dtype === 'float16' ? 2 : 4);
    return {
      queries: base64ToView(pair[0], bytes),
      keys: base64ToView(pair[1], bytes),
      meta: { layer, head, n_tokens: n, d_head: dHead, dtype: state.dtype },
    };
  };
}

export function mountStandalone(el: HTMLElement, state: StandaloneState): () => void {
  const qkFor = embeddedHeads(state, state.heads, state.d_head, '');
  const other = state.compare;
  const compareFor = other ? embeddedHeads(state, other.heads, other.d_head, `${state.traits._compare?.model_name ?? 'the compared model'} `) : undefined;
  const [layer, head] = state.traits.head;
  return mountHost(el, {
    traits: {
      ...state.traits,
      _tokens: base64ToView(state.tokens),
      _selected_rows: state.selected_rows ? base64ToView(state.selected_rows) : null,
      error: '',
    },
    first: qkFor(layer, head),
    qkFor,
    compareFor,
    html: () => pageWithoutView(el),
    headMap: embeddedHeadMap(state),
  });
}

/** The embedded head map as the `head-map` reply, or undefined (older pages: the view says so). */
function embeddedHeadMap(state: StandaloneState): (() => { result: HeadMapResult; buffers: DataView[] }) | undefined {
  const embedded = state.head_map;
  if (!embedded) return undefined;
  const { coords, values, ...result } = embedded;
  return () => ({ result, buffers: [base64ToView(coords), base64ToView(values)] });
}

/** This page's own HTML with the rendered view removed: the file it was opened from. */
function pageWithoutView(el: HTMLElement): DataView {
  const copy = document.documentElement.cloneNode(true) as HTMLElement;
  const root = el.id ? copy.querySelector(`#${CSS.escape(el.id)}`) : null;
  root?.replaceChildren();
  const bytes = new TextEncoder().encode(`<!doctype html>\n${copy.outerHTML}`);
  return new DataView(bytes.buffer);
}
