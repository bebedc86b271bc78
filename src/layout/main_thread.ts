/**
 * Layouts on this thread, for pages where layout workers cannot start. The same
 * contract as the pool (priority order, the same key asked twice computed once,
 * cancellation of what has not started, a result cache) so a view cannot tell them
 * apart, except that the page waits while a layout runs. One layout per macrotask:
 * the page paints and handles input between two layouts.
 */
import { jointLayout } from './joint';
import { CancelledError, type LayoutTask } from './pool';
import type { ProgressCallback } from './types';

interface Waiting<K> {
  task: LayoutTask<K>;
  cacheId: string;
  order: number;
  listeners: ProgressCallback[];
  promise: Promise<Float32Array>;
  resolve: (layout: Float32Array) => void;
  reject: (error: Error) => void;
}

export class MainThreadLayouts<K> {
  private readonly queue: Waiting<K>[] = [];
  private readonly cache = new Map<string, Float32Array>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextOrder = 1;
  private disposed = false;

  constructor(
    private readonly keyId: (key: K) => string,
    private readonly cacheLimit = 512,
  ) {}

  cached(key: K): Float32Array | undefined {
    return this.cache.get(this.keyId(key));
  }

  /** The layout for `task`: cached, else computed here after the current task (so the page can paint first). */
  run(task: LayoutTask<K>): Promise<Float32Array> {
    const cacheId = this.keyId(task.key);
    const hit = this.cache.get(cacheId);
    if (hit) return Promise.resolve(hit);
    if (this.disposed) return Promise.reject(new Error('layouts are closed'));
    const same = this.queue.find((waiting) => waiting.cacheId === cacheId);
    if (same) {
      if (task.onProgress) same.listeners.push(task.onProgress);
      same.task.priority = Math.min(same.task.priority, task.priority);
      this.sort();
      return same.promise;
    }
    let resolve!: (layout: Float32Array) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<Float32Array>((ok, fail) => ((resolve = ok), (reject = fail)));
    const listeners = task.onProgress ? [task.onProgress] : [];
    this.queue.push({ task, cacheId, order: this.nextOrder++, listeners, promise, resolve, reject });
    this.sort();
    this.schedule();
    return promise;
  }

  /** Drop waiting layouts that match (a running one is synchronous: it has finished before this runs). */
  cancel(match: (key: K, priority: number) => boolean): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (!match(this.queue[i].task.key, this.queue[i].task.priority)) continue;
      const [removed] = this.queue.splice(i, 1);
      removed.reject(new CancelledError(removed.cacheId));
    }
  }

  pending(): number {
    return this.queue.length;
  }

  dispose(): void {
    this.cancel(() => true);
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.cache.clear();
  }

  private sort(): void {
    this.queue.sort((a, b) => a.task.priority - b.task.priority || a.order - b.order);
  }

  private schedule(): void {
    if (this.timer !== null || !this.queue.length || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runNext();
      this.schedule();
    }, 0);
  }

  private runNext(): void {
    const next = this.queue.shift();
    if (!next) return;
    const { queries, keys, nTokens, dHead, params } = next.task;
    try {
      const layout = jointLayout(queries, keys, nTokens, dHead, params, (fraction, stage) => {
        for (const listener of next.listeners) listener(fraction, stage);
      });
      this.cache.set(next.cacheId, layout);
      if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
      next.resolve(layout);
    } catch (error) {
      next.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
