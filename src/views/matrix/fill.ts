/**
 * Filling the matrix grid: a first picture of every head, then the chosen method and the
 * per-head numbers.
 *
 * Phase 1, the first picture: the host's 2D PCA of many heads per `thumbnails` request
 * (kilobytes per head instead of its Q/K sample, no PCA on this thread); where the host
 * does not offer it (standalone pages), each head's Q/K sample and a PCA here.
 * Phase 2, once every cell has a picture (earlier, workers would compete with phase 1 for
 * the cores): each head's Q/K sample (kept from phase 1 or fetched now, a few at a time),
 * its summary numbers, and its UMAP / t-SNE in the worker pool. A head's Q/K is kept
 * in its cell (typed-in text is placed into thumbnails with it) only while the grid's
 * total stays under KEEP_QK_BYTES: above it, a large model's grid streams them.
 */
import { jointLayout } from '../../layout/joint';
import { CancelledError } from '../../layout/pool';
import { thumbnailPriority } from '../../layout/service';
import { headStats, type HeadStats } from '../../compute/stats';
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import type { ViewContext } from '../context';

export interface Cell {
  layer: number;
  head: number;
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  caption: HTMLElement;
  strip: HTMLElement;
  stats: HeadStats | null;
  /** The head's Q/K over the thumbnail's token sample (null once streamed past), and its layout. */
  qk: HeadQK | null;
  positions: Float32Array | null;
  method: string;
}

/** Heads per `thumbnails` request, and requests in flight. */
export const THUMBNAIL_BATCH = 64;
const BATCHES_IN_FLIGHT = 2;
/** Q/K requests in flight at once: enough to keep workers busy, few enough to stay responsive. */
const FETCH_CONCURRENCY = 3;
/** Q/K samples the grid keeps in its cells at most (float32 bytes). */
export const KEEP_QK_BYTES = 160 * 1024 * 1024;

export interface FillJob {
  ctx: ViewContext;
  source: QKSourceName;
  cells: Cell[];
  /** Token rows of the sample (the first `rows`), and its sequences (for the numbers). */
  rows: number;
  sequences: number[][];
  /** UMAP epochs of a thumbnail (THUMBNAIL_EPOCHS of ../matrix.ts). */
  epochs: number;
  /** False once the view moved on (another start, stop, dispose): stop there. */
  live: () => boolean;
  set: (cell: Cell, positions: Float32Array, method: string) => void;
  statsReady: (cell: Cell) => void;
  failed: (cell: Cell, error: unknown) => void;
  /** Progress: phase-1 pictures, method layouts, numbers; `kernel` when the host drew phase 1. */
  progress: (counts: { pca: number; method: number; stats: number; kernel: boolean; streamed: boolean }) => void;
}

/** Run both phases; resolves when done or when the job stops being live. */
export async function fillGrid(job: FillJob): Promise<void> {
  const counts = { pca: 0, method: 0, stats: 0, kernel: false, streamed: false };
  const report = (): void => job.progress({ ...counts });
  report();
  const kernel = await kernelPictures(job, () => {
    counts.pca++;
    report();
  });
  counts.kernel = kernel;
  if (!job.live()) return;
  if (!kernel) {
    await eachConcurrently(job, job.cells, 2, async (cell) => {
      const qk = await job.ctx.qk.fetch(cell.layer, cell.head, job.rows || undefined, job.source);
      if (!job.live()) return;
      const pca = { ...job.ctx.layoutParams('pca'), dims: 2 as const };
      const positions = job.ctx.cachedLayout(qk, pca, job.source) ?? jointLayout(qk.queries, qk.keys, qk.nTokens, qk.dHead, pca);
      cell.qk = qk;
      job.set(cell, positions, 'pca');
      counts.pca++;
      report();
      await yieldToPage(); // let the page breathe between heads
    });
  }
  if (!job.live()) return;
  report();
  await methodsAndNumbers(job, counts, report);
}

/** Phase 1 by the host: batches of heads' PCA; false (nothing drawn) where the host has no `thumbnails`. */
async function kernelPictures(job: FillJob, drawn: () => void): Promise<boolean> {
  const normalize = job.ctx.model.get('normalize');
  const batches: Cell[][] = [];
  for (let i = 0; i < job.cells.length; i += THUMBNAIL_BATCH) batches.push(job.cells.slice(i, i + THUMBNAIL_BATCH));
  const ask = async (batch: Cell[]): Promise<void> => {
    const reply = await job.ctx.qk.thumbnails(batch.map((cell) => [cell.layer, cell.head]), job.rows, normalize, job.source);
    if (!job.live()) return;
    reply.positions.forEach((positions, i) => {
      job.set(batch[i], positions, 'pca');
      drawn();
    });
  };
  try {
    await ask(batches[0]); // the first answer says whether the host offers it at all
  } catch (error) {
    if (job.live()) console.info('attentionviz: host thumbnails unavailable, laying out in the browser:', error instanceof Error ? error.message : error);
    return false;
  }
  await eachConcurrently(job, batches.slice(1), BATCHES_IN_FLIGHT, ask, (batch, error) => batch.forEach((cell) => job.failed(cell, error)));
  return true;
}

async function methodsAndNumbers(job: FillJob, counts: { method: number; stats: number; streamed: boolean }, report: () => void): Promise<void> {
  const method = job.ctx.model.get('projection');
  const { causal, scale } = job.ctx.captureInfo(job.source);
  const params = { ...job.ctx.layoutParams(method), dims: 2 as const, ...(method === 'umap' ? { nEpochs: job.epochs } : {}) };
  let kept = 0;
  await eachConcurrently(job, job.cells, FETCH_CONCURRENCY, async (cell, index) => {
    const qk = cell.qk ?? (await job.ctx.qk.fetch(cell.layer, cell.head, job.rows || undefined, job.source));
    if (!job.live()) return;
    const bytes = qk.queries.byteLength + qk.keys.byteLength;
    const keep = cell.qk !== null || kept + bytes <= KEEP_QK_BYTES;
    if (keep && !cell.qk) kept += bytes;
    cell.qk = keep ? qk : null;
    counts.streamed ||= !keep;
    cell.stats = headStats(qk.queries, qk.keys, qk.nTokens, qk.dHead, job.sequences, scale, causal, job.ctx.hiddenKeys(job.ctx.tokens));
    counts.stats++;
    job.statsReady(cell);
    report();
    if (method !== 'pca') {
      try {
        const positions = await job.ctx.layout(qk, params, thumbnailPriority(index), undefined, job.source);
        if (!job.live()) return;
        job.set(cell, positions, method);
        counts.method++;
        report();
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
      }
    }
    await yieldToPage();
  });
}

/** `work` on every item, `concurrency` at a time, while the job is live; errors go to `failed`. */
async function eachConcurrently<T>(
  job: FillJob,
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
  failed: (item: T, error: unknown) => void = (item, error) => job.failed(item as Cell, error),
): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length && job.live()) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        if (job.live()) failed(items[index], error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, run));
}

/**
 * Let the browser run its other tasks (input, timers, paint) before the next head: a
 * MessageChannel task, queued behind whatever is already waiting, as React's scheduler
 * does. Not setTimeout(0), which browsers clamp to 4 ms once nested, nor
 * scheduler.yield(), whose continuation runs ahead of waiting timers.
 */
export function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
