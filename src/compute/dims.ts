/**
 * One query-key pair dimension by dimension (bertviz's neuron view): the elementwise
 * products q_c * k_c, whose sum is q . k, then the scale and the softmax over the
 * query's allowed keys that make it an attention weight.
 */
import { attentionRow } from './attention';

export interface PairDims {
  /** dimension index of each product, largest |product| first */
  dims: Int32Array;
  /** q_c * k_c in that order */
  products: Float64Array;
  /** q . k (the sum of every product) */
  dot: number;
  /** q . k * scale: the logit */
  logit: number;
  /** softmax weight of this key among the allowed keys */
  weight: number;
}

/** Products of query row `queryRow` with key row `keyRow`, sorted by |product|. */
export function pairDims(
  queries: Float32Array,
  keys: Float32Array,
  dHead: number,
  queryRow: number,
  keyRow: number,
  allowedKeyRows: ArrayLike<number>,
  scale: number,
): PairDims {
  const raw = new Float64Array(dHead);
  let dot = 0;
  for (let c = 0; c < dHead; c++) {
    raw[c] = queries[queryRow * dHead + c] * keys[keyRow * dHead + c];
    dot += raw[c];
  }
  const dims = Int32Array.from({ length: dHead }, (_, c) => c).sort((a, b) => Math.abs(raw[b]) - Math.abs(raw[a]) || a - b);
  const products = Float64Array.from(dims, (c) => raw[c]);
  const column = Array.prototype.indexOf.call(allowedKeyRows, keyRow) as number;
  if (column < 0) throw new Error(`key row ${keyRow} is not among the query's allowed keys`);
  const weights = attentionRow(queries, keys, dHead, queryRow, allowedKeyRows, scale);
  return { dims, products, dot, logit: dot * scale, weight: weights[column] };
}

/** Cumulative share of q . k covered by the first n products (sorted): how few dims decide. */
export function cumulativeShare(products: Float64Array): Float64Array {
  let total = 0;
  for (const p of products) total += Math.abs(p);
  let run = 0;
  return products.map((p) => {
    run += Math.abs(p);
    return total ? run / total : 0;
  });
}
