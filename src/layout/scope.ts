/**
 * One view's handle on the model's shared layout service. Views cancel what they no longer
 * show (a head left, the matrix closed); with two views of one model on one service, a
 * cancel must not take away a layout the other view still waits for. A scope cancels
 * only layouts that it alone asked for.
 */
import { layoutKeyId, type LayoutKey } from './key';
import type { LayoutInput, LayoutService } from './service';
import type { ProgressCallback } from './types';

/** What a view uses of the layout service (the service itself, or a scope on it). */
export type LayoutRunner = Pick<LayoutService, 'layout' | 'cancel' | 'cached'>;

/** Per service: for each key id in flight, how many calls each scope has waiting on it. */
export type LayoutOwners = Map<string, Map<LayoutScope, number>>;

export class LayoutScope implements LayoutRunner {
  constructor(
    private readonly service: LayoutService,
    private readonly owners: LayoutOwners,
  ) {}

  cached(key: LayoutKey): Float32Array | undefined {
    return this.service.cached(key);
  }

  layout(key: LayoutKey, input: LayoutInput, priority: number, onProgress?: ProgressCallback): Promise<Float32Array> {
    const id = layoutKeyId(key);
    const waiting = this.owners.get(id) ?? new Map<LayoutScope, number>();
    this.owners.set(id, waiting);
    waiting.set(this, (waiting.get(this) ?? 0) + 1);
    const done = (): void => {
      const count = (waiting.get(this) ?? 1) - 1;
      if (count > 0) waiting.set(this, count);
      else waiting.delete(this);
      if (waiting.size === 0 && this.owners.get(id) === waiting) this.owners.delete(id);
    };
    const layout = this.service.layout(key, input, priority, onProgress);
    layout.then(done, done);
    return layout;
  }

  /** Cancel the matching layouts no other view waits for. */
  cancel(match: (key: LayoutKey, priority: number) => boolean): void {
    this.service.cancel((key, priority) => {
      const waiting = this.owners.get(layoutKeyId(key));
      return waiting !== undefined && waiting.size === 1 && waiting.has(this) && match(key, priority);
    });
  }

  /** The view closed: drop what only it waited for. */
  dispose(): void {
    this.cancel(() => true);
  }
}
