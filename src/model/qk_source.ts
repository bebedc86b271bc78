/**
 * Q/K of any head, on demand. The view asks for heads it does not hold (matrix view
 * thumbnails, the compare panel) with a `qk` request (protocol/kinds.ts): `{layer, head}`,
 * optionally `rows` and `source: "compare"` (the compare view's other capture); the host
 * (the Python widget, or host.ts) answers with the head's meta and two buffers, Q then K.
 */
import type { ViewChannel } from '../protocol/transport';
import { decodeMatrix } from './decode';
import { decodeThumbnails, type ThumbnailBatch } from './thumbnails';
import type { QKMeta } from './traits';

/** Which capture a head belongs to: the shown one, or the compare view's other one. */
export type QKSourceName = 'capture' | 'compare';

export interface HeadQK {
  layer: number;
  head: number;
  nTokens: number;
  dHead: number;
  /** [n_tokens, d_head] row-major. */
  queries: Float32Array;
  keys: Float32Array;
}

export function decodeHead(meta: QKMeta, queries: DataView, keys: DataView): HeadQK {
  const { layer, head, n_tokens: nTokens, d_head: dHead, dtype } = meta;
  return {
    layer,
    head,
    nTokens,
    dHead,
    queries: decodeMatrix(queries, dtype, nTokens, dHead),
    keys: decodeMatrix(keys, dtype, nTokens, dHead),
  };
}

/** Q/K of heads the model's traits do not hold, asked of the host over the channel (one per model). */
export class QKSource {
  constructor(private readonly channel: ViewChannel) {}

  /**
   * Q/K of (layer, head), from the host; `rows` asks for the first rows only, `source`
   * "compare" for a head of the compare view's other capture (`_compare`).
   */
  async fetch(layer: number, head: number, rows?: number, source: QKSourceName = 'capture'): Promise<HeadQK> {
    const { result, buffers } = await this.channel.request('qk', { layer, head, ...(rows ? { rows } : {}), ...(source === 'compare' ? { source } : {}) });
    if (buffers.length < 2) throw new Error('Q/K reply without its two buffers');
    return decodeHead(result, buffers[0], buffers[1]);
  }

  /**
   * The host's 2D PCA of `heads` over their first `rows` tokens (protocol kind
   * `thumbnails`); rejects where the host does not offer it (the view then lays them out).
   */
  async thumbnails(heads: Array<[number, number]>, rows: number, normalize: boolean, source: QKSourceName = 'capture'): Promise<ThumbnailBatch> {
    const { result, buffers } = await this.channel.request('thumbnails', { heads, rows, normalize, ...(source === 'compare' ? { source } : {}) });
    return decodeThumbnails(result, buffers[0]);
  }
}
