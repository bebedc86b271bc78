/**
 * Per-head summary numbers for the matrix view, computed from Q/K per sequence:
 * - entropy: mean over queries of -sum_j w_j ln w_j (nats); low = sharp attention.
 * - distance: |mean(Q) - mean(K)| / mean(|q|, |k|), how far apart the two clouds sit
 *   before normalization (the paper's observation that they often separate).
 * - offset: mean over queries of sum_j w_j |pos_i - pos_j|, in tokens; low = local.
 * The weights w_j = softmax_j(q . k_j * scale) are those of attention.ts (same mask),
 * but not materialised: with x_j = logit_j - max and S = sum_j e^x_j, w_j = e^x_j / S,
 * so -sum_j w_j ln w_j = ln S - sum_j e^x_j x_j / S: one exp per key and one log per
 * query instead of a log per key and a new weights array per query.
 * With `hiddenKeys` (attention sinks hidden, compute/renormalize.ts) those keys are left
 * out of the softmax, which is the same as dropping their weight and renormalizing; a
 * query whose keys are all hidden is not counted.
 */
import { centroid, meanRowNorm } from './normalize';

export interface HeadStats {
  entropy: number;
  distance: number;
  offset: number;
}

/**
 * Summary numbers of one head from its Q/K ([nTokens, dHead] row-major), attention
 * taken within each of `sequences` (token rows, in position order).
 */
export function headStats(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  sequences: Iterable<number[]>,
  scale: number,
  causal: boolean,
  hiddenKeys: Uint8Array | null = null,
): HeadStats {
  let entropy = 0;
  let offset = 0;
  let count = 0;
  // Reused buffers: the logits of one query (grown to the longest sequence) and the query in float64.
  let logits = new Float64Array(64);
  const query = new Float64Array(dHead);
  for (const rows of sequences) {
    if (logits.length < rows.length) logits = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      // Causal: keys up to the query (a prefix of the sequence); else the whole sequence.
      const keyCount = causal ? i + 1 : rows.length;
      const q = rows[i] * dHead;
      for (let c = 0; c < dHead; c++) query[c] = queries[q + c];
      let max = -Infinity;
      for (let j = 0; j < keyCount; j++) {
        if (hiddenKeys?.[rows[j]]) continue;
        const k = rows[j] * dHead;
        // Four partial sums: independent additions the CPU can overlap.
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let c = 0;
        for (; c + 3 < dHead; c += 4) {
          s0 += query[c] * keys[k + c];
          s1 += query[c + 1] * keys[k + c + 1];
          s2 += query[c + 2] * keys[k + c + 2];
          s3 += query[c + 3] * keys[k + c + 3];
        }
        for (; c < dHead; c++) s0 += query[c] * keys[k + c];
        const logit = (s0 + s1 + s2 + s3) * scale;
        logits[j] = logit;
        if (logit > max) max = logit;
      }
      let sum = 0;
      let weightedLogits = 0;
      let weightedOffsets = 0;
      if (max === -Infinity) continue; // every key hidden
      for (let j = 0; j < keyCount; j++) {
        if (hiddenKeys?.[rows[j]]) continue;
        const x = logits[j] - max; // shifted by the max: no overflow
        const e = Math.exp(x);
        sum += e;
        weightedLogits += e * x;
        weightedOffsets += e * Math.abs(i - j);
      }
      entropy += Math.log(sum) - weightedLogits / sum;
      offset += weightedOffsets / sum;
      count++;
    }
  }
  return {
    entropy: count ? entropy / count : 0,
    distance: centroidDistance(queries, keys, nTokens, dHead),
    offset: count ? offset / count : 0,
  };
}

/** |mean(Q) - mean(K)| / mean(|q|, |k|): how far apart the query and key clouds sit (0 if all zero). */
export function centroidDistance(queries: Float32Array, keys: Float32Array, nTokens: number, dHead: number): number {
  const qMean = centroid(queries, nTokens, dHead);
  const kMean = centroid(keys, nTokens, dHead);
  let gap = 0;
  for (let c = 0; c < dHead; c++) gap += (qMean[c] - kMean[c]) ** 2;
  const norm = (meanRowNorm(queries, nTokens, dHead) + meanRowNorm(keys, nTokens, dHead)) / 2;
  return norm > 0 ? Math.sqrt(gap) / norm : 0;
}
