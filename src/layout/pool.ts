/**
 * A pool of layout workers with a priority queue, cancellation and a result cache.
 * Workers are created from the worker bundle's source text (a blob: URL), so they
 * work wherever the widget's single ES module loads: notebook, standalone HTML, Lab.
 * Where a page may not start them (a Content-Security-Policy without blob: workers),
 * every task fails with WorkersUnavailableError, so the caller can lay out elsewhere.
 * Views do not use it directly: service.ts wraps it with the main-thread fallback.
 */
import type { LayoutParams, ProgressCallback } from './types';
import type { LayoutJob, WorkerReply } from './worker';

/** One layout to compute; `K` is the cache key's type (service.ts uses key.ts's LayoutKey). */
export interface LayoutTask<K = string> {
  /** Cache key: tasks whose keys serialise alike have the same layout. */
  key: K;
  queries: Float32Array;
  keys: Float32Array;
  nTokens: number;
  dHead: number;
  params: LayoutParams;
  /** Lower runs first: the head on screen before the thumbnails. */
  priority: number;
  onProgress?: ProgressCallback;
}

interface Queued<K> {
  task: LayoutTask<K>;
  /** The task's serialised key. */
  cacheId: string;
  id: number;
  promise: Promise<Float32Array>;
  /** Everyone waiting for this key hears its progress. */
  listeners: ProgressCallback[];
  resolve: (layout: Float32Array) => void;
  reject: (error: Error) => void;
}

interface Slot<K> {
  worker: Worker;
  job: Queued<K> | null;
  /** The worker has posted a message: it did start. */
  started: boolean;
}

export class CancelledError extends Error {
  constructor(key: string) {
    super(`layout ${key} was cancelled`);
    this.name = 'CancelledError';
  }
}

/** The page does not let layout workers start (e.g. its CSP blocks blob: workers). */
export class WorkersUnavailableError extends Error {
  constructor(reason: string) {
    super(`layout workers cannot start here: ${reason}`);
    this.name = 'WorkersUnavailableError';
  }
}

export class LayoutPool<K = string> {
  /** Set once a worker failed before posting anything: no task will run in this pool. */
  private unavailable: WorkersUnavailableError | null = null;
  private readonly url: string;
  private readonly slots: Slot<K>[] = [];
  private readonly queue: Queued<K>[] = [];
  private readonly cache = new Map<string, Float32Array>();
  private nextId = 1;
  private disposed = false;

  constructor(
    workerSource: string,
    private readonly size = Math.max(2, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)),
    private readonly cacheLimit = 512,
    /** Serialises a key for the cache and for finding the same task asked twice. */
    private readonly keyId: (key: K) => string = String,
  ) {
    this.url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  }

  cached(key: K): Float32Array | undefined {
    return this.cache.get(this.keyId(key));
  }

  /** The layout for `task`, from the cache or a worker. */
  run(task: LayoutTask<K>): Promise<Float32Array> {
    const cacheId = this.keyId(task.key);
    const hit = this.cache.get(cacheId);
    if (hit) return Promise.resolve(hit);
    if (this.disposed) return Promise.reject(new Error('layout pool is closed'));
    if (this.unavailable) return Promise.reject(this.unavailable);
    // The same layout asked for twice (matrix cell and head view) is computed once.
    const same = [...this.queue, ...this.slots.map((slot) => slot.job)].find((job) => job?.cacheId === cacheId);
    if (same) {
      if (task.onProgress) same.listeners.push(task.onProgress);
      same.task.priority = Math.min(same.task.priority, task.priority);
      this.queue.sort((a, b) => a.task.priority - b.task.priority || a.id - b.id);
      return same.promise;
    }
    let resolve!: (layout: Float32Array) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<Float32Array>((ok, fail) => ((resolve = ok), (reject = fail)));
    const listeners = task.onProgress ? [task.onProgress] : [];
    this.queue.push({ task, cacheId, id: this.nextId++, promise, listeners, resolve, reject });
    this.queue.sort((a, b) => a.task.priority - b.task.priority || a.id - b.id);
    this.pump();
    return promise;
  }

  /** Drop queued and running tasks that match; running ones lose their worker. */
  cancel(match: (key: K, priority: number) => boolean): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (!match(this.queue[i].task.key, this.queue[i].task.priority)) continue;
      const [removed] = this.queue.splice(i, 1);
      removed.reject(new CancelledError(removed.cacheId));
    }
    for (const slot of this.slots) {
      if (slot.job && match(slot.job.task.key, slot.job.task.priority)) {
        const job = slot.job;
        slot.worker.terminate(); // a synchronous layout cannot be interrupted any other way
        slot.worker = this.spawn(slot);
        slot.job = null;
        job.reject(new CancelledError(job.cacheId));
      }
    }
    this.pump();
  }

  /** Number of tasks waiting or running. */
  pending(): number {
    return this.queue.length + this.slots.filter((slot) => slot.job).length;
  }

  dispose(): void {
    this.disposed = true;
    this.cancel(() => true);
    for (const slot of this.slots) slot.worker.terminate();
    this.slots.length = 0;
    this.cache.clear();
    URL.revokeObjectURL(this.url);
  }

  private spawn(slot: Slot<K>): Worker {
    slot.started = false;
    const worker = new Worker(this.url);
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      slot.started = true;
      this.onReply(slot, event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault(); // handled here: not an uncaught error of the page
      if (!slot.started) return this.giveUp(event.message || 'the worker script did not load');
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`layout worker failed: ${event.message}`));
      this.pump();
    };
    return worker;
  }

  /** Workers cannot start on this page: fail every task, now and later, saying so. */
  private giveUp(reason: string): void {
    this.unavailable ??= new WorkersUnavailableError(reason);
    for (const slot of this.slots) {
      slot.job?.reject(this.unavailable);
      slot.job = null;
    }
    for (const queued of this.queue.splice(0)) queued.reject(this.unavailable);
  }

  private pump(): void {
    if (this.disposed) return;
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size) {
        slot = { worker: null as unknown as Worker, job: null, started: false };
        try {
          slot.worker = this.spawn(slot);
        } catch (error) {
          return this.giveUp(error instanceof Error ? error.message : String(error));
        }
        this.slots.push(slot);
      }
      if (!slot) return;
      const next = this.queue.shift()!;
      const hit = this.cache.get(next.cacheId);
      if (hit) {
        next.resolve(hit);
        continue;
      }
      slot.job = next;
      const { queries, keys, nTokens, dHead, params } = next.task;
      const job: LayoutJob = { id: next.id, queries, keys, nTokens, dHead, params };
      slot.worker.postMessage(job);
    }
  }

  private onReply(slot: Slot<K>, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    if (reply.type === 'progress') {
      for (const listener of job.listeners) listener(reply.fraction, reply.stage);
      return;
    }
    slot.job = null;
    if (reply.type === 'done') {
      this.cache.set(job.cacheId, reply.layout);
      if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
      job.resolve(reply.layout);
    } else {
      job.reject(new Error(reply.message));
    }
    this.pump();
  }
}
