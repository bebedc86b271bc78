/**
 * One view's handle on the model's shared layout pool. Views cancel what they no longer
 * show (a head left, the matrix closed); with two views of one model on one pool, a
 * cancel must not take away a layout the other view still waits for. A scope cancels
 * only tasks that it alone asked for.
 */
import type { LayoutPool, LayoutTask } from '../compute/pool';

/** What a view uses of a pool (a LayoutPool itself, or a scope on one). */
export type LayoutRunner = Pick<LayoutPool, 'run' | 'cancel' | 'cached'>;

/** Per pool: for each key in flight, how many calls each scope has waiting on it. */
export type PoolOwners = Map<string, Map<PoolScope, number>>;

export class PoolScope implements LayoutRunner {
  constructor(
    private readonly pool: LayoutPool,
    private readonly owners: PoolOwners,
  ) {}

  cached(key: string): Float32Array | undefined {
    return this.pool.cached(key);
  }

  run(task: LayoutTask): Promise<Float32Array> {
    const waiting = this.owners.get(task.key) ?? new Map<PoolScope, number>();
    this.owners.set(task.key, waiting);
    waiting.set(this, (waiting.get(this) ?? 0) + 1);
    const done = (): void => {
      const count = (waiting.get(this) ?? 1) - 1;
      if (count > 0) waiting.set(this, count);
      else waiting.delete(this);
      if (waiting.size === 0 && this.owners.get(task.key) === waiting) this.owners.delete(task.key);
    };
    const layout = this.pool.run(task);
    layout.then(done, done);
    return layout;
  }

  /** Cancel the matching tasks no other view waits for. */
  cancel(match: (key: string, priority: number) => boolean): void {
    this.pool.cancel((key, priority) => {
      const waiting = this.owners.get(key);
      return waiting !== undefined && waiting.size === 1 && waiting.has(this) && match(key, priority);
    });
  }

  /** The view closed: drop what only it waited for. */
  dispose(): void {
    this.cancel(() => true);
  }
}
