/**
 * The layout service: structured keys (one serialiser, equal exactly when the fields
 * are), cancellation by key fields and by named priority, and the main-thread fallback
 * keeping the pool's contract (priority order, one computation per key, cancellation,
 * cache). This spec imports no projector: the service must bring every method.
 */
import workerSource from 'attentionviz-layout-worker';
import fc from 'fast-check';
import { jointLayout } from '../../src/layout/joint';
import { keyParams, layoutKey, layoutKeyId, type LayoutKey } from '../../src/layout/key';
import { CancelledError } from '../../src/layout/pool';
import { isShownHeadPriority, isThumbnailPriority, LayoutService, Priority, thumbnailPriority } from '../../src/layout/service';
import type { LayoutParams } from '../../src/layout/types';
import { gaussian, mulberry32 } from './helpers';

const D_HEAD = 8;
const TIMEOUT = 60000;
const BLOCKED = 'throw new Error("blocked by the page")';

function head(layer: number, headIndex: number, nTokens: number, seed = 1): { layer: number; head: number; nTokens: number; dHead: number; queries: Float32Array; keys: Float32Array } {
  const normal = gaussian(mulberry32(seed));
  const make = (offset: number): Float32Array => Float32Array.from({ length: nTokens * D_HEAD }, () => normal() + offset);
  return { layer, head: headIndex, nTokens, dHead: D_HEAD, queries: make(0), keys: make(1) };
}

const keyArbitrary: fc.Arbitrary<LayoutKey> = fc.record(
  {
    capture: fc.string({ maxLength: 6 }),
    source: fc.constantFrom('capture' as const, 'compare' as const),
    layer: fc.nat(3),
    head: fc.nat(3),
    method: fc.constantFrom('pca' as const, 'umap' as const, 'tsne' as const),
    dims: fc.constantFrom(2 as const, 3 as const),
    normalize: fc.boolean(),
    seed: fc.nat(2),
    epochs: fc.option(fc.constantFrom(50, 200), { nil: undefined }),
    nTokens: fc.constantFrom(10, 300),
  },
  { requiredKeys: ['capture', 'source', 'layer', 'head', 'method', 'dims', 'normalize', 'seed', 'nTokens'] },
);

describe('LayoutKey', () => {
  it('serialises two keys alike exactly when every field is equal (whatever the capture id holds)', () => {
    const fields = (key: LayoutKey): unknown[] => [key.capture, key.source, key.layer, key.head, key.method, key.dims, key.normalize, key.seed, key.epochs, key.nTokens];
    fc.assert(
      fc.property(keyArbitrary, keyArbitrary, (a, b) => {
        const sameFields = JSON.stringify(fields(a)) === JSON.stringify(fields(b));
        expect(layoutKeyId(a) === layoutKeyId(b)).withContext(`${layoutKeyId(a)} vs ${layoutKeyId(b)}`).toBe(sameFields);
      }),
      { numRuns: 2000 },
    );
    // A capture id that looks like the rest of a key does not collide with it.
    const params: LayoutParams = { method: 'pca', dims: 2, normalize: true, seed: 1 };
    expect(layoutKeyId(layoutKey('a|1', 'capture', { layer: 2, head: 3, nTokens: 4 }, params))).not.toBe(layoutKeyId(layoutKey('a', 'capture', { layer: 1, head: 2, nTokens: 4 }, params)));
    expect(layoutKeyId(layoutKey('compare:x', 'capture', { layer: 0, head: 0, nTokens: 4 }, params))).not.toBe(layoutKeyId(layoutKey('x', 'compare', { layer: 0, head: 0, nTokens: 4 }, params)));
  });

  it('carries the parameters it was made from', () => {
    const params: LayoutParams = { method: 'umap', dims: 3, normalize: false, seed: 7, nEpochs: 120 };
    expect(keyParams(layoutKey('c', 'capture', { layer: 1, head: 2, nTokens: 5 }, params))).toEqual(params);
    const plain: LayoutParams = { method: 'tsne', dims: 2, normalize: true, seed: 42 };
    expect(keyParams(layoutKey('c', 'capture', { layer: 1, head: 2, nTokens: 5 }, plain))).toEqual(plain);
  });
});

describe('Priority', () => {
  it('runs every shown-head layout before any thumbnail, thumbnails in cell order', () => {
    expect(Priority.shownHeadFirst).toBeLessThan(Priority.shownHead);
    expect(isShownHeadPriority(Priority.shownHeadFirst) && isShownHeadPriority(Priority.shownHead)).toBeTrue();
    for (const index of [0, 1, 143, 999]) {
      expect(thumbnailPriority(index)).toBeGreaterThan(Priority.shownHead);
      expect(thumbnailPriority(index)).toBeLessThan(thumbnailPriority(index + 1));
      expect(isThumbnailPriority(thumbnailPriority(index))).toBeTrue();
      expect(isShownHeadPriority(thumbnailPriority(index))).toBeFalse();
    }
  });
});

describe('LayoutService on the main thread (workers blocked)', () => {
  let service: LayoutService;
  beforeEach(() => (service = new LayoutService(BLOCKED, 2)));
  afterEach(() => service.dispose());

  const key = (qk: { layer: number; head: number; nTokens: number }, params: LayoutParams): LayoutKey => layoutKey('cap', 'capture', qk, params);

  it('lays out UMAP and t-SNE in 2D and 3D, as a worker would, and caches them', async () => {
    for (const params of [
      { method: 'umap', dims: 2, normalize: true, seed: 3, nEpochs: 40 },
      { method: 'umap', dims: 3, normalize: false, seed: 3, nEpochs: 40 },
      { method: 'tsne', dims: 2, normalize: true, seed: 3 },
      { method: 'tsne', dims: 3, normalize: true, seed: 3 },
    ] as LayoutParams[]) {
      const qk = head(0, 1, 80);
      const layout = await service.layout(key(qk, params), qk, Priority.shownHead);
      expect(Array.from(layout)).withContext(`${params.method} ${params.dims}D`).toEqual(Array.from(jointLayout(qk.queries, qk.keys, 80, D_HEAD, params)));
      expect(service.cached(key(qk, params))).toBe(layout);
    }
    expect(service.usesWorkers).toBeFalse();
  }, TIMEOUT);

  it('runs waiting layouts by priority, computes a key asked twice once, and cancels by key fields', async () => {
    const params: LayoutParams = { method: 'pca', dims: 2, normalize: true, seed: 1 };
    // The first task learns that workers are blocked; after that, tasks queue on this thread.
    const first = head(0, 0, 20);
    await service.layout(key(first, params), first, Priority.shownHead);
    const order: string[] = [];
    const ask = (layer: number, headIndex: number, priority: number): Promise<Float32Array> => {
      const qk = head(layer, headIndex, 20, 10 * layer + headIndex);
      return service.layout(key(qk, params), qk, priority, () => order.push(`L${layer}H${headIndex}`));
    };
    const thumbnails = [ask(1, 0, thumbnailPriority(0)), ask(1, 1, thumbnailPriority(1)), ask(1, 2, thumbnailPriority(2))];
    const shown = ask(2, 0, Priority.shownHead);
    const again = ask(2, 0, Priority.shownHeadFirst);
    expect(service.pending()).toBe(4);
    service.cancel((k, priority) => isThumbnailPriority(priority) && k.head === 1);
    await expectAsync(thumbnails[1]).toBeRejectedWithError(CancelledError);
    const [a, b] = await Promise.all([shown, again]);
    expect(b).toBe(a);
    await Promise.all([thumbnails[0], thumbnails[2]]);
    // Progress reaches both callers of L2H0 once it runs ('done' each), before any thumbnail.
    expect(order).toEqual(['L2H0', 'L2H0', 'L1H0', 'L1H2']);
    expect(service.pending()).toBe(0);
  }, TIMEOUT);

  it('a failing layout says why and the next one still runs', async () => {
    const bad = head(0, 0, 30);
    bad.keys[5] = NaN;
    const params: LayoutParams = { method: 'umap', dims: 2, normalize: false, seed: 1, nEpochs: 20 };
    await expectAsync(service.layout(key(bad, params), bad, Priority.shownHead)).toBeRejectedWithError(/non-finite/);
    const good = head(0, 1, 30);
    expect((await service.layout(key(good, params), good, Priority.shownHead)).length).toBe(60 * 2);
  }, TIMEOUT);
});

describe('LayoutService with workers', () => {
  it('cancels running and waiting layouts by the fields of their keys, leaving the others', async () => {
    const service = new LayoutService(workerSource, 1);
    try {
      const params: LayoutParams = { method: 'umap', dims: 2, normalize: true, seed: 2, nEpochs: 2000 };
      const long = head(3, 0, 1500);
      const waiting = head(3, 1, 100);
      const kept = head(4, 0, 100);
      const running = service.layout(layoutKey('cap', 'capture', long, params), long, thumbnailPriority(0));
      const dropped = service.layout(layoutKey('cap', 'capture', waiting, params), waiting, thumbnailPriority(1));
      const keptLayout = service.layout(layoutKey('cap', 'capture', kept, { ...params, nEpochs: 30 }), kept, Priority.shownHead);
      await new Promise((resolve) => setTimeout(resolve, 200));
      service.cancel((key) => key.layer === 3);
      await expectAsync(running).toBeRejectedWithError(CancelledError);
      await expectAsync(dropped).toBeRejectedWithError(CancelledError);
      expect((await keptLayout).length).toBe(200 * 2);
      expect(service.usesWorkers).toBeTrue();
    } finally {
      service.dispose();
    }
  }, TIMEOUT);
});
