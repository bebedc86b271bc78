/**
 * Two views of one model share its layout pool; each cancels what it no longer shows
 * through its own scope, which must never cancel a layout the other view waits for.
 */
import type { LayoutPool, LayoutTask } from '../../src/compute/pool';
import { PoolScope, type PoolOwners } from '../../src/views/pool_scope';

/** A pool that never finishes on its own: `finish(key)` resolves, `cancel` rejects what matches. */
function fakePool() {
  const running = new Map<string, { priority: number; promise: Promise<Float32Array>; resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();
  const cancelled: string[] = [];
  const pool = {
    cached: () => undefined,
    run(task: LayoutTask): Promise<Float32Array> {
      const same = running.get(task.key);
      if (same) return same.promise; // as LayoutPool: one job per key
      let resolve!: (v: Float32Array) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Float32Array>((ok, fail) => ((resolve = ok), (reject = fail)));
      promise.catch(() => {});
      running.set(task.key, { priority: task.priority, promise, resolve, reject });
      return promise;
    },
    cancel(match: (key: string, priority: number) => boolean): void {
      for (const [key, job] of [...running]) {
        if (!match(key, job.priority)) continue;
        running.delete(key);
        cancelled.push(key);
        job.reject(new Error(`layout ${key} was cancelled`));
      }
    },
  };
  const finish = (key: string): void => {
    running.get(key)?.resolve(new Float32Array(4));
    running.delete(key);
  };
  return { pool: pool as unknown as LayoutPool, cancelled, finish };
}

const task = (key: string, priority: number): LayoutTask => ({ key, priority, queries: new Float32Array(4), keys: new Float32Array(4), nTokens: 2, dHead: 1, params: { method: 'pca', dims: 2, normalize: false, seed: 42 } });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('pool scopes (one shared pool, one scope per view)', () => {
  it('a view cancels only layouts no other view waits for', async () => {
    const { pool, cancelled, finish } = fakePool();
    const owners: PoolOwners = new Map();
    const a = new PoolScope(pool, owners);
    const b = new PoolScope(pool, owners);
    void a.run(task('shared', 20)).catch(() => {});
    const bShared = b.run(task('shared', 20));
    void a.run(task('only-a', 20)).catch(() => {});
    const bOwn = b.run(task('only-b', 1));

    a.cancel(() => true); // e.g. view A leaves the matrix
    expect(cancelled).toEqual(['only-a']);
    finish('shared');
    await expectAsync(bShared).toBeResolved();
    await settle();
    expect(owners.has('shared')).toBeFalse(); // settled keys are forgotten

    a.dispose(); // A closes: B's own layout keeps running
    expect(cancelled).toEqual(['only-a']);
    b.cancel((_key, priority) => priority >= 10); // B's predicate still applies
    expect(cancelled).toEqual(['only-a']);
    b.dispose();
    expect(cancelled).toEqual(['only-a', 'only-b']);
    await expectAsync(bOwn).toBeRejectedWithError(/cancelled/);
  });
});
