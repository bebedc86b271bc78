/** The kernel's layout (`layout_backend='kernel'`: `_layout_meta` and `_layout`, computed for `head`). */
import { decodeMatrix } from '../../model/decode';
import type { HeadQK } from '../../model/qk_source';
import type { KernelLayoutMeta } from '../../model/traits';
import type { ViewContext } from '../context';

export interface KernelLayout {
  meta: KernelLayoutMeta;
  buffer: DataView;
}

/**
 * The kernel's layout when it is the one wanted for `head` (same head, method, dims and
 * normalization); null when it is not there (yet) or is another's. One of another size
 * than the head is reported and ignored.
 */
export function wantedKernelLayout(ctx: ViewContext, head: HeadQK): KernelLayout | null {
  const meta = ctx.model.get('_layout_meta');
  const buffer = ctx.model.get('_layout');
  const wanted = ctx.layoutParams();
  if (ctx.model.get('layout_backend') !== 'kernel' || !meta || !('method' in meta) || !buffer) return null;
  if (meta.layer !== head.layer || meta.head !== head.head || meta.method !== wanted.method || meta.dims !== wanted.dims || meta.normalize !== wanted.normalize) return null;
  if (meta.n_points !== 2 * head.nTokens) {
    ctx.notify(`the kernel layout has ${meta.n_points} points, this head ${2 * head.nTokens}; ignored`);
    return null;
  }
  return { meta: meta as KernelLayoutMeta, buffer }; // `'method' in meta` told it from the empty {}
}

/** Its positions, [n_points, dims] row-major. */
export function kernelPositions({ meta, buffer }: KernelLayout): Float32Array {
  return decodeMatrix(buffer, 'float32', meta.n_points, meta.dims);
}
