/**
 * Layout scheduling for one head plot: PCA first (or the cached layout of the chosen
 * method), then the chosen method from the worker pool, or from the kernel when
 * `layout_backend` is 'kernel'. Each refresh is a numbered request; a layout that
 * finishes for an older request is not shown.
 */
import { CancelledError } from '../../layout/pool';
import { isShownHeadPriority, Priority } from '../../layout/service';
import type { LayoutParams } from '../../layout/types';
import type { HeadQK } from '../../model/qk_source';
import type { ViewContext } from '../context';
import type { HeadSource } from './source';
import { describeHead, methodName } from './status';

export interface LayoutTarget {
  show(qk: HeadQK, positions: Float32Array, dims: 2 | 3, method: string): void;
  setStatus(text: string): void;
  /** Shows the kernel's layout of the shown head when it is there; false while it is not. */
  showKernelLayout(): boolean;
}

export class LayoutScheduler {
  private request = 0;

  constructor(
    private readonly ctx: ViewContext,
    private readonly heads: HeadSource,
    private readonly target: LayoutTarget,
  ) {}

  /** Starts a new request: layouts still running for earlier ones will not be shown. */
  begin(): number {
    return ++this.request;
  }

  isCurrent(request: number): boolean {
    return request === this.request;
  }

  /** PCA first (or the cached layout), then the chosen method, for request `request`. */
  layOut(qk: HeadQK, request: number): void {
    const wanted = this.ctx.layoutParams();
    const pcaParams = this.ctx.layoutParams('pca');
    this.cancelOffScreen(qk);
    const cached = this.ctx.cachedLayout(qk, wanted, this.heads.capture());
    const first = cached ? Promise.resolve(cached) : this.ctx.layout(qk, pcaParams, Priority.shownHeadFirst, undefined, this.heads.capture());
    first
      .then((positions) => {
        if (request !== this.request) return;
        this.target.show(qk, positions, wanted.dims, cached ? wanted.method : 'pca');
        if (cached || wanted.method === 'pca') return;
        return this.layOutMethod(qk, wanted, request);
      })
      .catch((error: unknown) => {
        if (error instanceof CancelledError || request !== this.request) return;
        // The PCA layout stays on screen; say why the chosen method is missing.
        this.ctx.notify(`${methodName(wanted.method)} failed for this head: ${error instanceof Error ? error.message : String(error)}`);
      });
  }

  /** Whatever was running for a head no longer on screen is no longer wanted. */
  private cancelOffScreen(qk: HeadQK): void {
    const onScreen = [[qk.layer, qk.head], ...this.ctx.shownHeads()];
    this.ctx.cancelLayouts((key, priority) => isShownHeadPriority(priority) && !onScreen.some(([l, h]) => key.layer === l && key.head === h));
  }

  /** The chosen method, after PCA is shown: from the kernel, or from the pool with progress. */
  private layOutMethod(qk: HeadQK, wanted: LayoutParams, request: number): Promise<void> | undefined {
    const method = methodName(wanted.method);
    if (this.ctx.model.get('layout_backend') === 'kernel' && this.heads.kernelLayouts) {
      // The kernel computes it and sends `_layout` (view.ts calls showKernelLayout).
      if (!this.target.showKernelLayout()) this.target.setStatus(`${describeHead(qk)} · PCA shown · computing ${method} in kernel…`);
      return;
    }
    this.target.setStatus(`${describeHead(qk)} · PCA shown · ${method} starting…`);
    const onProgress = (fraction: number, stage: string): void => {
      if (request === this.request) this.target.setStatus(`${describeHead(qk)} · PCA shown · ${method} ${stage} ${Math.round(fraction * 100)}%`);
    };
    return this.ctx.layout(qk, wanted, Priority.shownHead, onProgress, this.heads.capture()).then((positions) => {
      if (request === this.request) this.target.show(qk, positions, wanted.dims, wanted.method);
    });
  }
}
