/**
 * The message kinds of wire protocol v1 (see channel.ts), typed: what each request
 * carries, what its ok reply carries besides its buffers, and how long the view waits.
 * The Python router (python_shim) mirrors this table.
 */
import type { AddedTokens } from '../model/added_tokens';
import type { HeadMapResult } from '../model/head_map';
import type { QKMeta } from '../model/traits';

/** One request kind: its parameters and the fields of its ok reply (buffers travel beside). */
export interface KindSpec {
  params: object;
  result: object;
}

/** A table from kind name to its spec (an interface, so no index signature is needed). */
export type KindTable<T> = { [K in keyof T]: KindSpec };

/** Requests the view sends to its host (the Python widget, or host.ts for kernel-free pages). */
export interface ViewRequests {
  /** Q/K of a head; the reply's buffers are [Q, K]. `rows`: the first rows only. */
  qk: { params: { layer: number; head: number; rows?: number; source?: 'compare' }; result: QKMeta };
  /** The PNG of image `seq` (vision captures); buffers [png]. */
  image: { params: { seq: number }; result: { seq: number } };
  /** The ONNX model files for typed text, by name with their sizes in bytes. */
  'onnx-files': { params: Record<string, never>; result: { files: Record<string, number> } };
  /** Up to 16 MiB of `file` from `offset`; buffers [bytes]; `size` is the whole file's. */
  'onnx-chunk': { params: { file: string; offset: number }; result: { file: string; offset: number; size: number } };
  /** A standalone HTML page of this view; buffers [page bytes]. */
  html: { params: Record<string, never>; result: Record<string, never> };
  /**
   * 2D PCA of many heads at once, computed by the host (matrix view of a large model):
   * buffers [float32 [heads, 2 n_tokens, 2]], queries first per head (model/thumbnails.ts).
   */
  thumbnails: {
    params: { heads: Array<[number, number]>; rows: number; normalize: boolean; source?: 'compare' };
    result: { heads: Array<[number, number]>; n_tokens: number };
  };
  /** Every head as one point placed by attention similarity; buffers [coords f32 [n, 2], numbers f32 [n, stats]]. */
  'head-map': { params: Record<string, never>; result: HeadMapResult };
}

/** Requests the host sends to the view (Python's viz.save); the view answers. */
export interface HostRequests {
  /** The shown figure; buffers [image bytes]. */
  export: { params: { format: 'png' | 'svg'; scale: number }; result: { format: 'png' | 'svg' } };
}

/** Notifications (no reply) the view sends to the host. */
export interface ViewNotifications {
  /** Every token typed into the view so far (Python's viz.added_tokens). */
  'added-tokens': { tokens: AddedTokens };
}

/** How long the view waits for each reply before it gives up (ms). */
export const VIEW_REQUEST_TIMEOUTS: { [K in keyof ViewRequests]: number } = {
  qk: 120_000,
  image: 30_000,
  'onnx-files': 30_000,
  'onnx-chunk': 120_000,
  html: 300_000,
  thumbnails: 120_000,
  // computed once in the kernel: 512 heads read once each (seconds), more for big files
  'head-map': 300_000,
};

/** How long a standalone host waits for the view's export (Python's own default is its own). */
export const HOST_REQUEST_TIMEOUTS: { [K in keyof HostRequests]: number } = {
  export: 60_000,
};

/** The view's end: sends ViewRequests and notifications, answers HostRequests. */
export interface ViewSide {
  requests: ViewRequests;
  answers: HostRequests;
  notifies: ViewNotifications;
  hears: Record<never, never>;
}

/** A kernel-free host's end (host.ts, tests standing in for the kernel). */
export interface HostSide {
  requests: HostRequests;
  answers: ViewRequests;
  notifies: Record<never, never>;
  hears: ViewNotifications;
}
