/**
 * The one host for a view without a kernel (standalone HTML export, JupyterLab file viewer):
 * an in-memory model that answers the view's protocol v1 requests (protocol/) the way the
 * Python widget does. The caller only says where a head's Q/K come from (`qkFor`,
 * synchronous or not), where images come from (vision captures) and how to answer an
 * HTML export request.
 */
import type { HeadMapResult } from './model/head_map';
import { MemoryModel } from './model/memory_model';
import { DEFAULT_TRAITS, type QKMeta, type ViewTraits } from './model/traits';
import { hostChannel, type HostChannel } from './protocol/transport';
import { mountView } from './view';

/** One head's Q and K, `[meta.n_tokens, meta.d_head]` little-endian each. */
export interface HostedHead {
  queries: DataView;
  keys: DataView;
  meta: QKMeta;
}

/** Q/K of (layer, head); `rows` asks for the first rows only (the provider may send all). */
export type HeadProvider = (layer: number, head: number, rows?: number) => HostedHead | Promise<HostedHead>;

export interface HostOptions {
  /** Every trait but the shown head's Q/K (defaults fill what is left out). */
  traits: Partial<ViewTraits> & Pick<ViewTraits, 'n_layers' | 'n_heads' | '_tokens'>;
  /** Q/K of `traits.head` when already at hand; otherwise fetched after mounting. */
  first?: HostedHead | null;
  qkFor: HeadProvider;
  /** Q/K of the compare view's other capture (with `traits._compare`: two models side by side). */
  compareFor?: HeadProvider;
  /** PNG bytes of the image of sequence `seq` (vision captures), for the image view. */
  image?: (seq: number) => DataView | Promise<DataView>;
  /** The page to download for the view's HTML button; without it the request is refused with `htmlUnavailable`. */
  html?: () => DataView;
  htmlUnavailable?: string;
  /** The head map view's data (`head-map` reply: fields, [coords, numbers]), e.g. embedded by the HTML export. */
  headMap?: () => { result: HeadMapResult; buffers: DataView[] };
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The first `rows` rows of a head (a view on the same bytes). */
function firstRows(found: HostedHead, rows?: number): HostedHead {
  const { meta } = found;
  if (!rows || rows >= meta.n_tokens) return found;
  const bytes = rows * meta.d_head * (meta.dtype === 'float16' ? 2 : 4);
  const cut = (view: DataView): DataView => new DataView(view.buffer, view.byteOffset, bytes);
  return { queries: cut(found.queries), keys: cut(found.keys), meta: { ...meta, n_tokens: rows } };
}

/** The host's answers to the view's requests (protocol v1): Q/K, images, the HTML page. */
function answerRequests(channel: HostChannel, options: HostOptions): void {
  channel.handle('qk', async ({ layer, head, rows, source }) => {
    const wanted = typeof rows === 'number' && rows > 0 ? rows : undefined;
    const provider = source === 'compare' ? options.compareFor : options.qkFor;
    if (!provider) throw new Error('this view holds one capture: no heads of another model to compare');
    const found = firstRows(await provider(Number(layer), Number(head), wanted), wanted);
    return { result: found.meta, buffers: [found.queries, found.keys] };
  });
  channel.handle('image', async ({ seq }) => {
    if (!options.image) throw new Error('this view holds no images');
    return { result: { seq }, buffers: [await options.image(Number(seq))] };
  });
  channel.handle('head-map', () => {
    if (!options.headMap) throw new Error('the head map is computed by the kernel (or embedded in an HTML export); this page has none');
    return options.headMap();
  });
  channel.handle('html', () => {
    if (!options.html) throw new Error(options.htmlUnavailable ?? 'this view cannot export HTML');
    return { result: {}, buffers: [options.html()] };
  });
}

/**
 * The in-memory model fed by `options`: answers Q/K, image and HTML requests on its
 * protocol channel and follows `head` (fetched asynchronously; a slow answer for a head
 * no longer shown is dropped). `channel` is the kernel's end (it can send `export`).
 */
export function hostModel(options: HostOptions): { model: MemoryModel<ViewTraits>; channel: HostChannel; dispose(): void } {
  const { qkFor, first } = options;
  const model = new MemoryModel<ViewTraits>({
    ...DEFAULT_TRAITS,
    ...options.traits,
    _queries: first?.queries ?? null,
    _keys: first?.keys ?? null,
    _qk_meta: first?.meta ?? null,
  });
  const channel = hostChannel(model);
  answerRequests(channel, options);
  let latest = 0;
  const onHead = (): void => {
    const [layer, head] = model.get('head');
    const ticket = ++latest;
    Promise.resolve()
      .then(() => qkFor(layer, head))
      .then(
        (found) => {
          if (ticket !== latest) return;
          model.set('_queries', found.queries);
          model.set('_keys', found.keys);
          model.set('_qk_meta', found.meta);
          model.set('error', '');
        },
        (error: unknown) => {
          if (ticket === latest) model.set('error', message(error));
        },
      );
  };
  model.on('change:head', onHead);
  if (!first) onHead(); // answered after the caller has mounted the view (asynchronous)
  return {
    model,
    channel,
    dispose: () => {
      latest = -1;
      model.off('change:head', onHead);
      channel.dispose('the host was closed');
    },
  };
}

/** Mount the view on the in-memory model fed by `options`; returns the cleanup. */
export function mountHost(el: HTMLElement, options: HostOptions): () => void {
  const host = hostModel(options);
  const unmount = mountView(host.model, el);
  return () => {
    host.dispose();
    unmount();
  };
}
