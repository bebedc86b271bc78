/**
 * Host for a view without a kernel (standalone HTML export): an in-memory model
 * holding every head's Q/K, which answers head changes the way the Python widget does.
 */
import { DEFAULT_TRAITS, type QKMeta, type ViewTraits } from './model/traits';
import { MemoryModel } from './model/memory_model';
import { mountView } from './view';

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
}

function base64ToView(text: string): DataView {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new DataView(bytes.buffer);
}

export function mountStandalone(el: HTMLElement, state: StandaloneState): () => void {
  const qkFor = (layer: number, head: number): Pick<ViewTraits, '_queries' | '_keys' | '_qk_meta'> => {
    const pair = state.heads[`${layer},${head}`];
    if (!pair) {
      throw new Error(`this file holds no Q/K for layer ${layer} head ${head}`);
    }
    return {
      _queries: base64ToView(pair[0]),
      _keys: base64ToView(pair[1]),
      _qk_meta: { layer, head, n_tokens: state.n_tokens, d_head: state.d_head, dtype: state.dtype },
    };
  };
  const [layer, head] = state.traits.head;
  // Answers the view's requests for other heads (matrix view) from the embedded data.
  const answer = (content: unknown): void => {
    const request = content as { type?: string; request?: number; layer?: number; head?: number; rows?: number };
    if (request?.type === 'html-request') {
      model.deliver({ type: 'html', request: request.request }, [pageWithoutView(el)]);
      return;
    }
    if (request?.type !== 'qk') return;
    try {
      const found = qkFor(Number(request.layer), Number(request.head));
      const meta = found._qk_meta!;
      const rows = request.rows && request.rows < meta.n_tokens ? request.rows : meta.n_tokens;
      const bytes = rows * meta.d_head * (meta.dtype === 'float16' ? 2 : 4);
      const first = (view: DataView): DataView => new DataView(view.buffer, view.byteOffset, bytes);
      model.deliver({ type: 'qk', request: request.request, ...meta, n_tokens: rows }, [first(found._queries!), first(found._keys!)]);
    } catch (error) {
      model.deliver({ type: 'qk-error', request: request.request, message: String(error) });
    }
  };
  const model = new MemoryModel<ViewTraits>({
    ...DEFAULT_TRAITS,
    ...state.traits,
    ...qkFor(layer, head),
    _tokens: base64ToView(state.tokens),
    _selected_rows: state.selected_rows ? base64ToView(state.selected_rows) : null,
    error: '',
  }, answer);
  const onHead = (): void => {
    const [l, h] = model.get('head');
    try {
      const next = qkFor(l, h);
      model.set('_queries', next._queries);
      model.set('_keys', next._keys);
      model.set('_qk_meta', next._qk_meta);
      model.set('error', '');
    } catch (error) {
      model.set('error', String(error instanceof Error ? error.message : error));
    }
  };
  model.on('change:head', onHead);
  const unmount = mountView(model, el);
  return () => {
    model.off('change:head', onHead);
    unmount();
  };
}

/** This page's own HTML with the rendered view removed: the file it was opened from. */
function pageWithoutView(el: HTMLElement): DataView {
  const copy = document.documentElement.cloneNode(true) as HTMLElement;
  const root = el.id ? copy.querySelector(`#${CSS.escape(el.id)}`) : null;
  root?.replaceChildren();
  const bytes = new TextEncoder().encode(`<!doctype html>\n${copy.outerHTML}`);
  return new DataView(bytes.buffer);
}
