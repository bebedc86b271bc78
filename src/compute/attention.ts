/**
 * Attention recomputed from a head's Q/K, exactly as the model does it within one
 * sequence: w_j = softmax_j(q . k_j * scale), over the keys the mask allows (for a
 * causal model, keys at positions <= the query's).
 */

/** Weights of query row `queryRow` over `keyRows` (same order). Sums to 1. */
export function attentionRow(
  queries: Float32Array,
  keys: Float32Array,
  dHead: number,
  queryRow: number,
  keyRows: ArrayLike<number>,
  scale: number,
): Float32Array {
  const weights = new Float32Array(keyRows.length);
  const q = queryRow * dHead;
  let max = -Infinity;
  for (let j = 0; j < keyRows.length; j++) {
    const k = keyRows[j] * dHead;
    let dot = 0;
    for (let c = 0; c < dHead; c++) dot += queries[q + c] * keys[k + c];
    weights[j] = dot * scale;
    if (weights[j] > max) max = weights[j];
  }
  let sum = 0;
  for (let j = 0; j < weights.length; j++) {
    weights[j] = Math.exp(weights[j] - max); // shifted by the max: no overflow
    sum += weights[j];
  }
  for (let j = 0; j < weights.length; j++) weights[j] /= sum;
  return weights;
}

/** Rows a query may attend to: its whole sequence, or the prefix up to it when causal. */
export function allowedKeys(sequenceRows: ArrayLike<number>, queryIndexInSequence: number, causal: boolean): ArrayLike<number> {
  if (!causal) return sequenceRows;
  return Array.prototype.slice.call(sequenceRows, 0, queryIndexInSequence + 1) as number[];
}

/** Indices (into `weights`) of the k largest weights, largest first. */
export function topK(weights: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: weights.length }, (_, i) => i);
  order.sort((a, b) => weights[b] - weights[a] || a - b);
  return order.slice(0, Math.max(0, k));
}
