/**
 * One head's joint Q/K layout: normalize, stack queries over keys, project.
 * Pure and synchronous; runs inside layout workers (worker.ts) or, where they cannot
 * start, on the main thread (service.ts).
 */
import { fitNormalization, type Normalization } from '../compute/normalize';
import { availableMethods, projectorFor } from './projectors';
import type { LayoutParams, ProgressCallback } from './types';

/**
 * Positions of the 2N points of one head ([2N, dims] row-major; queries first):
 * the joint embedding of its (optionally normalized) queries and keys.
 */
export function jointLayout(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  params: LayoutParams,
  onProgress: ProgressCallback = () => {},
): Float32Array {
  const projector = projectorFor(params.method);
  if (!projector) throw new Error(`unknown layout method "${params.method}" (have: ${availableMethods().join(', ')})`);
  const normalization = fitNormalization(queries, keys, nTokens, dHead, {
    translate: params.normalize,
    scale: params.normalize,
  });
  const layout = projector(normalizedJointRows(queries, keys, dHead, normalization), 2 * nTokens, dHead, params, onProgress);
  onProgress(1, 'done');
  return layout;
}

/**
 * jointRows(applyNormalization(queries, keys, dHead, normalization)) in one pass and one
 * array: queries times c, then keys plus shift divided by c, rounded to float32 at the
 * same steps (so the values are identical), without the two intermediate copies.
 */
export function normalizedJointRows(queries: Float32Array, keys: Float32Array, dHead: number, { shift, c }: Normalization): Float32Array {
  const joint = new Float32Array(queries.length + keys.length);
  if (c === 1) joint.set(queries, 0);
  else for (let i = 0; i < queries.length; i++) joint[i] = queries[i] * c;
  const rows = keys.length / dHead;
  for (let r = 0; r < rows; r++) {
    const offset = r * dHead;
    const out = queries.length + offset;
    for (let t = 0; t < dHead; t++) {
      const shifted = Math.fround(keys[offset + t] + shift[t]);
      joint[out + t] = c === 1 ? shifted : shifted / c;
    }
  }
  return joint;
}
