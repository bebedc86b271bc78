/**
 * Per-head summary numbers for the matrix view, computed from Q/K per sequence:
 * - entropy: mean over queries of -sum_j w_j ln w_j (nats); low = sharp attention.
 * - distance: |mean(Q) - mean(K)| / mean(|q|, |k|), how far apart the two clouds sit
 *   before normalization (the paper's observation that they often separate).
 * - offset: mean over queries of sum_j w_j |pos_i - pos_j|, in tokens; low = local.
 */
import { allowedKeys, attentionRow } from './attention';
import { centroid, meanRowNorm } from './normalize';

export interface HeadStats {
  entropy: number;
  distance: number;
  offset: number;
}

export function headStats(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  sequences: Iterable<number[]>,
  scale: number,
  causal: boolean,
): HeadStats {
  let entropy = 0;
  let offset = 0;
  let count = 0;
  for (const rows of sequences) {
    for (let i = 0; i < rows.length; i++) {
      const keyRows = allowedKeys(rows, i, causal);
      const weights = attentionRow(queries, keys, dHead, rows[i], keyRows, scale);
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j];
        if (w > 0) entropy -= w * Math.log(w);
        offset += w * Math.abs(i - j);
      }
      count++;
    }
  }
  const qMean = centroid(queries, nTokens, dHead);
  const kMean = centroid(keys, nTokens, dHead);
  let gap = 0;
  for (let c = 0; c < dHead; c++) gap += (qMean[c] - kMean[c]) ** 2;
  const norm = (meanRowNorm(queries, nTokens, dHead) + meanRowNorm(keys, nTokens, dHead)) / 2;
  return {
    entropy: count ? entropy / count : 0,
    distance: norm > 0 ? Math.sqrt(gap) / norm : 0,
    offset: count ? offset / count : 0,
  };
}
