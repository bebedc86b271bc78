/**
 * The layout worker pool with real workers: a layout from a worker is the one this
 * thread computes, bit for bit; the same layout asked twice runs once; cancelling or a
 * failing layout frees the worker for the next one.
 */
import workerSource from 'attentionviz-layout-worker';
import { jointLayout } from '../../src/layout/joint';
import { CancelledError, LayoutPool, WorkersUnavailableError, type LayoutTask } from '../../src/layout/pool';
import { LayoutService, Priority } from '../../src/layout/service';
import type { LayoutParams } from '../../src/layout/types';
import { MemoryModel } from '../../src/model/memory_model';
import type { QKSource } from '../../src/model/qk_source';
import { DEFAULT_TRAITS, type ViewTraits } from '../../src/model/traits';
import { LIGHT } from '../../src/ui/theme';
import { ViewContext } from '../../src/views/context';
import { gaussian, mulberry32 } from './helpers';

const D_HEAD = 16;
const TIMEOUT = 60000;

/** A task for `nTokens` tokens whose queries and keys fall in a few clusters (keys offset). */
function task(key: string, nTokens: number, params: LayoutParams, seed = 1): LayoutTask {
  const normal = gaussian(mulberry32(seed));
  const centres = Array.from({ length: 6 }, () => Array.from({ length: D_HEAD }, () => 3 * normal()));
  const make = (offset: number): Float32Array =>
    Float32Array.from({ length: nTokens * D_HEAD }, (_, i) => centres[Math.floor(i / D_HEAD) % 6][i % D_HEAD] + normal() + offset);
  return { key, queries: make(0), keys: make(2), nTokens, dHead: D_HEAD, params, priority: 1 };
}

describe('LayoutPool', () => {
  let pool: LayoutPool;
  beforeEach(() => (pool = new LayoutPool(workerSource, 2)));
  afterEach(() => pool.dispose());

  for (const dims of [2, 3] as const) {
    it(`${dims}D UMAP from a worker equals this thread's layout bit for bit`, async () => {
      const params: LayoutParams = { method: 'umap', dims, normalize: true, seed: 5, nEpochs: 120 };
      const job = task('umap', 2200, params); // above 2,000 points: the NN-descent path
      const stages = new Set<string>();
      const fromWorker = await pool.run({ ...job, onProgress: (_f, stage) => stages.add(stage) });
      const here = jointLayout(job.queries, job.keys, 2200, D_HEAD, params);
      expect(fromWorker.length).toBe(4400 * dims);
      expect(fromWorker.every(Number.isFinite)).toBeTrue();
      expect(Array.from(fromWorker)).toEqual(Array.from(here));
      expect([...stages]).toContain('optimize');
      expect(pool.cached('umap')).toBe(fromWorker);
    }, TIMEOUT);
  }

  it('computes a layout asked for twice once, and both callers hear its progress', async () => {
    const params: LayoutParams = { method: 'umap', dims: 2, normalize: false, seed: 2, nEpochs: 200 };
    const heard = [0, 0];
    const first = pool.run({ ...task('twice', 800, params), onProgress: () => heard[0]++ });
    const second = pool.run({ ...task('twice', 800, params), priority: 0, onProgress: () => heard[1]++ });
    expect(pool.pending()).toBe(1);
    const [a, b] = await Promise.all([first, second]);
    expect(b).toBe(a);
    expect(heard[0]).toBeGreaterThan(0);
    expect(heard[1]).toBeGreaterThan(0);
  }, TIMEOUT);

  it('cancelling a running layout rejects it and frees its worker for the next', async () => {
    const params: LayoutParams = { method: 'umap', dims: 2, normalize: true, seed: 3, nEpochs: 3000 };
    const running = pool.run(task('long', 3000, params));
    await new Promise((resolve) => setTimeout(resolve, 300));
    pool.cancel((key) => key === 'long');
    await expectAsync(running).toBeRejectedWithError(CancelledError);
    expect(pool.pending()).toBe(0);
    expect(pool.cached('long')).toBeUndefined();
    const next = await pool.run(task('after', 400, { ...params, nEpochs: 50 }));
    expect(next.length).toBe(800 * 2);
  }, TIMEOUT);

  it('a layout that fails says why and leaves the pool working', async () => {
    const bad = task('bad', 600, { method: 'umap', dims: 2, normalize: false, seed: 1 });
    bad.keys[3 * D_HEAD + 1] = NaN; // key row 3 = joint row 600 + 3
    await expectAsync(pool.run(bad)).toBeRejectedWithError(/non-finite value at row 603/);
    expect(pool.pending()).toBe(0);
    const unknown = task('unknown', 50, { method: 'isomap' as LayoutParams['method'], dims: 2, normalize: false, seed: 1 });
    await expectAsync(pool.run(unknown)).toBeRejectedWithError(/unknown layout method "isomap"/);
    const ok = await pool.run(task('ok', 300, { method: 'pca', dims: 2, normalize: true, seed: 1 }));
    expect(ok.length).toBe(600 * 2);
  }, TIMEOUT);

  it('where workers cannot start, every task says so, and the view lays out UMAP and t-SNE on its own thread instead', async () => {
    // A worker that dies before posting anything, as a page whose CSP blocks blob: workers.
    const blockedSource = 'throw new Error("blocked by the page")';
    const blocked = new LayoutPool(blockedSource, 2);
    const layouts = new LayoutService(blockedSource, 2);
    const params: LayoutParams = { method: 'umap', dims: 2, normalize: true, seed: 4, nEpochs: 30 };
    const job = task('blocked', 300, params);
    try {
      await expectAsync(blocked.run(job)).toBeRejectedWithError(WorkersUnavailableError, /blocked by the page/);
      await expectAsync(blocked.run(task('again', 50, params))).toBeRejectedWithError(WorkersUnavailableError);
      const model = new MemoryModel<ViewTraits>({ ...DEFAULT_TRAITS, n_layers: 1, n_heads: 1, _tokens: null, _queries: null, _keys: null, _qk_meta: null });
      const noop = (): void => {};
      const ctx = new ViewContext(model, document.createElement('div'), layouts, null as unknown as QKSource, LIGHT, noop, noop, noop);
      const qk = { layer: 0, head: 0, nTokens: 300, dHead: D_HEAD, queries: job.queries, keys: job.keys };
      // This spec imports no projector itself: the service must bring every method.
      const layout = await ctx.layout(qk, params, Priority.shownHead);
      expect(layouts.usesWorkers).toBeFalse();
      expect(Array.from(layout)).toEqual(Array.from(jointLayout(job.queries, job.keys, 300, D_HEAD, params)));
      const tsneParams: LayoutParams = { method: 'tsne', dims: 2, normalize: true, seed: 4 };
      const small = task('blocked-tsne', 120, tsneParams);
      const smallQK = { layer: 0, head: 0, nTokens: 120, dHead: D_HEAD, queries: small.queries, keys: small.keys };
      const tsneLayout = await ctx.layout(smallQK, tsneParams, Priority.shownHead);
      expect(Array.from(tsneLayout)).toEqual(Array.from(jointLayout(small.queries, small.keys, 120, D_HEAD, tsneParams)));
      expect(ctx.cachedLayout(smallQK, tsneParams)).toBe(tsneLayout);
    } finally {
      blocked.dispose();
      layouts.dispose();
    }
  }, TIMEOUT);
});
