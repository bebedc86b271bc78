/**
 * The one way views get layouts: the worker pool when the page lets workers start, else
 * this thread (main_thread.ts), with every method either way (the projector table is
 * imported by joint.ts, which both use). Keys are structured (key.ts); priorities are
 * named here rather than as bare numbers at the call sites.
 */
import defaultWorkerSource from './worker_source';
import { layoutKeyId, keyParams, type LayoutKey } from './key';
import { MainThreadLayouts } from './main_thread';
import { LayoutPool, WorkersUnavailableError } from './pool';
import type { ProgressCallback } from './types';

/** Lower runs first. Thumbnails wait behind everything for the head on screen. */
export const Priority = {
  /** The shown head's quick PCA, drawn while its chosen method runs. */
  shownHeadFirst: 0,
  /** The shown head's chosen method. */
  shownHead: 1,
  /** A matrix thumbnail; `thumbnailPriority(index)` keeps them in cell order. */
  thumbnail: 20,
} as const;

/** Thumbnail `index` (cell order) of up to a thousand: after every shown-head layout, before the next index. */
export function thumbnailPriority(index: number): number {
  return Priority.thumbnail + index / 1000;
}

export function isShownHeadPriority(priority: number): boolean {
  return priority <= Priority.shownHead;
}

export function isThumbnailPriority(priority: number): boolean {
  return priority >= Priority.thumbnail;
}

/** One head's Q/K ([nTokens, dHead] row-major each). */
export interface LayoutInput {
  queries: Float32Array;
  keys: Float32Array;
  nTokens: number;
  dHead: number;
}

export class LayoutService {
  private readonly pool: LayoutPool<LayoutKey> | null;
  private readonly here = new MainThreadLayouts<LayoutKey>(layoutKeyId);
  /** Set when the pool's workers could not start: layouts then run on this thread. */
  private workersFailed = false;

  /**
   * `workerSource`: the layout worker's script (default: the bundled one); null = no
   * workers, every layout on this thread. `poolSize`: workers at most (default: by cores).
   */
  constructor(workerSource: string | null = defaultWorkerSource, poolSize?: number) {
    this.pool = workerSource === null ? null : createPool(workerSource, poolSize);
  }

  /** Whether layouts run in workers (false once they could not start). */
  get usesWorkers(): boolean {
    return this.pool !== null && !this.workersFailed;
  }

  /** The layout of `key` for `input`: cached, else from a worker, else on this thread. */
  layout(key: LayoutKey, input: LayoutInput, priority: number, onProgress?: ProgressCallback): Promise<Float32Array> {
    const task = { key, ...pick(input), params: keyParams(key), priority, onProgress };
    if (!this.pool || this.workersFailed) return this.here.run(task);
    return this.pool.run(task).catch((error: unknown) => {
      if (!(error instanceof WorkersUnavailableError)) throw error;
      if (!this.workersFailed) console.warn(`attentionviz: ${error.message}; computing layouts on the main thread`);
      this.workersFailed = true;
      return this.here.run(task);
    });
  }

  cached(key: LayoutKey): Float32Array | undefined {
    return this.pool?.cached(key) ?? this.here.cached(key);
  }

  /** Drop waiting and running layouts that match; they reject with CancelledError. */
  cancel(match: (key: LayoutKey, priority: number) => boolean): void {
    this.pool?.cancel(match);
    this.here.cancel(match);
  }

  /** Layouts waiting or running. */
  pending(): number {
    return (this.pool?.pending() ?? 0) + this.here.pending();
  }

  dispose(): void {
    this.pool?.dispose();
    this.here.dispose();
  }
}

function createPool(workerSource: string, poolSize?: number): LayoutPool<LayoutKey> | null {
  try {
    return new LayoutPool<LayoutKey>(workerSource, poolSize, undefined, layoutKeyId);
  } catch (error) {
    // Layouts then run on the main thread; slower, but the view still works.
    console.warn('attentionviz: web workers unavailable, computing layouts on the main thread', error);
    return null;
  }
}

/** Only the arrays and shape (a HeadQK carries more fields that a worker need not receive). */
function pick({ queries, keys, nTokens, dHead }: LayoutInput): LayoutInput {
  return { queries, keys, nTokens, dHead };
}
