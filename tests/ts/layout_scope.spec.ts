/**
 * Two views of one model share its layout service; each cancels what it no longer shows
 * through its own scope, which must never cancel a layout the other view waits for.
 */
import { layoutKeyId, type LayoutKey } from '../../src/layout/key';
import { LayoutScope, type LayoutOwners } from '../../src/layout/scope';
import type { LayoutService } from '../../src/layout/service';

/** A service that never finishes on its own: `finish(layer)` resolves, `cancel` rejects what matches. */
function fakeService() {
  const running = new Map<string, { key: LayoutKey; priority: number; promise: Promise<Float32Array>; resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();
  const cancelled: number[] = [];
  const service = {
    cached: () => undefined,
    layout(key: LayoutKey, _input: unknown, priority: number): Promise<Float32Array> {
      const id = layoutKeyId(key);
      const same = running.get(id);
      if (same) return same.promise; // as LayoutService: one job per key
      let resolve!: (v: Float32Array) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Float32Array>((ok, fail) => ((resolve = ok), (reject = fail)));
      promise.catch(() => {});
      running.set(id, { key, priority, promise, resolve, reject });
      return promise;
    },
    cancel(match: (key: LayoutKey, priority: number) => boolean): void {
      for (const [id, job] of [...running]) {
        if (!match(job.key, job.priority)) continue;
        running.delete(id);
        cancelled.push(job.key.layer);
        job.reject(new Error(`layout of layer ${job.key.layer} was cancelled`));
      }
    },
  };
  const finish = (layer: number): void => {
    for (const [id, job] of [...running]) {
      if (job.key.layer !== layer) continue;
      job.resolve(new Float32Array(4));
      running.delete(id);
    }
  };
  return { service: service as unknown as LayoutService, cancelled, finish };
}

// Layers name the layouts: 0 shared by both views, 1 only view A's, 2 only view B's.
const SHARED = 0;
const ONLY_A = 1;
const ONLY_B = 2;
const key = (layer: number): LayoutKey => ({ capture: 'c', source: 'capture', layer, head: 0, method: 'pca', dims: 2, normalize: false, seed: 42, nTokens: 2 });
const input = { queries: new Float32Array(2), keys: new Float32Array(2), nTokens: 2, dHead: 1 };
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('layout scopes (one shared layout service, one scope per view)', () => {
  it('a view cancels only layouts no other view waits for', async () => {
    const { service, cancelled, finish } = fakeService();
    const owners: LayoutOwners = new Map();
    const a = new LayoutScope(service, owners);
    const b = new LayoutScope(service, owners);
    void a.layout(key(SHARED), input, 20).catch(() => {});
    const bShared = b.layout(key(SHARED), input, 20);
    void a.layout(key(ONLY_A), input, 20).catch(() => {});
    const bOwn = b.layout(key(ONLY_B), input, 1);

    a.cancel(() => true); // e.g. view A leaves the matrix
    expect(cancelled).toEqual([ONLY_A]);
    finish(SHARED);
    await expectAsync(bShared).toBeResolved();
    await settle();
    expect(owners.has(layoutKeyId(key(SHARED)))).toBeFalse(); // settled keys are forgotten

    a.dispose(); // A closes: B's own layout keeps running
    expect(cancelled).toEqual([ONLY_A]);
    b.cancel((_key, priority) => priority >= 10); // B's predicate still applies
    expect(cancelled).toEqual([ONLY_A]);
    b.dispose();
    expect(cancelled).toEqual([ONLY_A, ONLY_B]);
    await expectAsync(bOwn).toBeRejectedWithError(/cancelled/);
  });
});
