/** Text typed into the view (`AttentionViz(cap, onnx=...)`) placed into a head's layout. */
import type { LayoutMethod } from '../../layout/types';
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import type { ViewContext } from '../context';

export interface Placed {
  qk: HeadQK;
  positions: Float32Array;
  /** Per point, 1 for typed-in tokens (drawn ringed); null when none were placed. */
  marked: Float32Array | null;
}

/**
 * The head with the typed-in tokens (if any) appended and placed into its layout. Typed-in
 * text runs through the shown capture's model: it is not placed in another model's heads
 * (`source` 'compare'). When it cannot be placed, the head alone, and a notice saying why.
 */
export function placeTypedText(ctx: ViewContext, source: QKSourceName, qk: HeadQK, positions: Float32Array, dims: 2 | 3, method: string): Placed {
  if (!ctx.added || source !== 'capture') return { qk, positions, marked: null };
  try {
    const params = { method: method as LayoutMethod, dims, normalize: ctx.model.get('normalize') };
    return ctx.added.augment(qk, positions, params);
  } catch (error) {
    ctx.notify(`the typed text could not be placed in this head: ${error instanceof Error ? error.message : String(error)}`);
    return { qk, positions, marked: null };
  }
}
