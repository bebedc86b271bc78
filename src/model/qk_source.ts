/**
 * Q/K of any head, on demand. The view asks for heads it does not hold (matrix view
 * thumbnails) with a custom message `{type: "qk", request, layer, head}` (plus
 * `source: "compare"` for a head of the compare view's other capture); the host (the
 * Python widget, or a standalone host) answers `{type: "qk", request, ...meta}` with two
 * buffers, Q then K, or `{type: "qk-error", request, message}`.
 */
import { decodeMatrix } from './decode';
import type { QKMeta, ViewModel } from './traits';

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

interface Pending {
  resolve: (value: HeadQK) => void;
  reject: (reason: Error) => void;
}

export class QKSource {
  private nextRequest = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly model: ViewModel) {
    model.on('msg:custom', this.onMessage);
  }

  /** Why the host can no longer answer (set by `disconnect`), or null. */
  private lost: string | null = null;

  /**
   * Q/K of (layer, head), from the host; `rows` asks for the first rows only, `source`
   * "compare" for a head of the compare view's other capture (`_compare`).
   */
  fetch(layer: number, head: number, rows?: number, source: QKSourceName = 'capture'): Promise<HeadQK> {
    if (this.lost !== null) return Promise.reject(new Error(this.lost));
    const request = this.nextRequest++;
    return new Promise<HeadQK>((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      this.model.send({ type: 'qk', request, layer, head, ...(rows ? { rows } : {}), ...(source === 'compare' ? { source } : {}) });
    });
  }

  /** The host is gone (e.g. the kernel restarted): fail waiting and later requests with `reason`. */
  disconnect(reason: string): void {
    this.lost = reason;
    for (const { reject } of this.pending.values()) reject(new Error(reason));
    this.pending.clear();
  }

  dispose(): void {
    this.model.off('msg:custom', this.onMessage);
    for (const { reject } of this.pending.values()) reject(new Error('view closed'));
    this.pending.clear();
  }

  private readonly onMessage = (message: unknown, buffers: DataView[] = []): void => {
    const content = message as { type?: string; request?: number; message?: string } & QKMeta;
    if (typeof content?.request !== 'number') return;
    const waiting = this.pending.get(content.request);
    if (!waiting) return;
    this.pending.delete(content.request);
    if (content.type === 'qk-error') {
      waiting.reject(new Error(content.message ?? 'the kernel could not send this head'));
      return;
    }
    try {
      if (buffers.length < 2) throw new Error('Q/K reply without its two buffers');
      waiting.resolve(decodeHead(content, buffers[0], buffers[1]));
    } catch (error) {
      waiting.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
