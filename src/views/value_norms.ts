/**
 * Value-weighted attention (Kobayashi et al. 2020): with `weight_by_value`, weights become
 * alpha_ij * |v_j| renormalized over the query's keys. The norms of the shown head come
 * from the kernel (`_value_norms`, float32 [n_tokens], described by `_qk_meta.value_norms`).
 */
import { valueWeighted } from '../compute/aggregate';
import type { HeadQK } from '../model/qk_source';
import type { ViewContext } from './context';

/**
 * |v_j| per token row of `qk` (length qk.nTokens), when the model holds them for this head;
 * typed-in tokens (rows past the capture's) get the mean norm: the browser computes no values.
 */
export function valueNormsOf(ctx: ViewContext, qk: HeadQK): Float32Array | null {
  const meta = ctx.model.get('_qk_meta');
  const buffer = ctx.model.get('_value_norms');
  if (!meta?.value_norms || !buffer || meta.layer !== qk.layer || meta.head !== qk.head) return null;
  const n = Math.min(meta.n_tokens, Math.floor(buffer.byteLength / 4));
  const norms = new Float32Array(qk.nTokens);
  let sum = 0;
  for (let r = 0; r < Math.min(n, qk.nTokens); r++) {
    norms[r] = buffer.getFloat32(r * 4, true);
    sum += norms[r];
  }
  norms.fill(n ? sum / n : 1, Math.min(n, qk.nTokens));
  return norms;
}

/** Whether `weight_by_value` is on and applies to `qk` (its norms are at hand). */
export function valueWeighting(ctx: ViewContext, qk: HeadQK): Float32Array | null {
  return ctx.model.get('weight_by_value') ? valueNormsOf(ctx, qk) : null;
}

/** `weights` (over `keyRows`) value-weighted in place when `weight_by_value` applies. */
export function maybeValueWeighted(ctx: ViewContext, qk: HeadQK, weights: Float32Array, keyRows: ArrayLike<number>): Float32Array {
  const norms = valueWeighting(ctx, qk);
  return norms ? valueWeighted(weights, keyRows, norms) : weights;
}
