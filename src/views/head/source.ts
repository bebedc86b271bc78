/**
 * Where a head plot's head comes from: the model's Q/K traits (`head`, sent by the host
 * as it changes) or a fetch from the host (`compare_head`, the compare view's right panel).
 */
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import { decodeHead } from '../../model/qk_source';
import type { ViewContext } from '../context';

export interface HeadSource {
  /** The head trait shown. */
  readonly trait: 'head' | 'compare_head';
  /** Whether the kernel's layout (`_layout`, computed for `head`) can be this plot's. */
  readonly kernelLayouts: boolean;
  /** The capture the head's Q/K come from (the right panel may show another model's). */
  capture(): QKSourceName;
  /**
   * Hands the head to show to `found`: at once when its Q/K are at hand, else once
   * fetched; `failed` gets a message when it cannot be loaded. Nothing while there is none.
   */
  load(found: (qk: HeadQK) => void, failed: (message: string) => void): void;
}

/** `head`: its Q/K are the model's `_qk_meta`, `_queries` and `_keys`. */
export class ModelHead implements HeadSource {
  readonly trait = 'head';
  readonly kernelLayouts = true;

  constructor(private readonly ctx: ViewContext) {}

  capture(): QKSourceName {
    return this.ctx.sourceOf(this.trait);
  }

  load(found: (qk: HeadQK) => void): void {
    const meta = this.ctx.model.get('_qk_meta');
    const queries = this.ctx.model.get('_queries');
    const keys = this.ctx.model.get('_keys');
    if (!meta || !queries || !keys) return;
    found(decodeHead(meta, queries, keys));
  }
}

/** `compare_head`: fetched from the host, and kept while only the layout settings change. */
export class FetchedHead implements HeadSource {
  readonly trait = 'compare_head';
  readonly kernelLayouts = false;
  private fetched: HeadQK | null = null;

  constructor(private readonly ctx: ViewContext) {}

  capture(): QKSourceName {
    return this.ctx.sourceOf(this.trait);
  }

  load(found: (qk: HeadQK) => void, failed: (message: string) => void): void {
    const [layer, head] = this.ctx.compareHead();
    const kept = this.fetched;
    const loading = kept && kept.layer === layer && kept.head === head ? Promise.resolve(kept) : this.ctx.qk.fetch(layer, head, undefined, this.capture());
    loading.then(
      (qk) => {
        this.fetched = qk;
        found(qk);
      },
      (error: unknown) => failed(`L${layer} H${head} could not be loaded: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}
