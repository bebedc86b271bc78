/**
 * Attention of one head averaged over a corpus (the aggregate view):
 * - by relative offset d = j - i (key position minus query position): the mean of w_ij
 *   over every (query i, key j = i + d) pair the mask allows, in every sequence;
 * - by absolute position (short sequences): the mean of w_ij over the sequences that have
 *   both positions i and j.
 * Weights are softmax_j(q_i . k_j * scale) within a sequence (attention.ts); with value
 * norms they are alpha_ij * |v_j| renormalized over j (valueWeighted).
 */
import { attentionRow } from './attention';

export interface OffsetProfile {
  /** offsets[m] = m - (maxLength - 1): from -(maxLength - 1) to maxLength - 1 */
  offsets: Int32Array;
  /** mean weight at each offset (0 where no pair has it) */
  mean: Float64Array;
  /** number of (query, key) pairs at each offset */
  count: Float64Array;
}

export interface PositionProfile {
  /** positions 0 .. size - 1 on both axes */
  size: number;
  /** mean[i * size + j]: mean weight of query position i on key position j */
  mean: Float64Array;
  /** count[i * size + j]: sequences that had that allowed pair */
  count: Float64Array;
}

export interface AggregateInput {
  queries: Float32Array;
  keys: Float32Array;
  dHead: number;
  /** token rows of each sequence, in position order */
  sequences: Iterable<ArrayLike<number>>;
  scale: number;
  causal: boolean;
  /** |v_j| per token row: weight by value norm when given */
  valueNorms?: Float32Array | null;
}

/** alpha_j * |v_j| renormalized to sum 1 (Kobayashi et al. 2020), in place; all-zero stays. */
export function valueWeighted(weights: Float32Array, keyRows: ArrayLike<number>, norms: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let j = 0; j < weights.length; j++) {
    weights[j] *= norms[keyRows[j]];
    sum += weights[j];
  }
  if (sum > 0) for (let j = 0; j < weights.length; j++) weights[j] /= sum;
  return weights;
}

/** Each query row's weights over its allowed keys, with the callback (i, keyRows, w). */
function forEachRow(input: AggregateInput, visit: (rows: ArrayLike<number>, i: number, weights: Float32Array) => void): void {
  for (const rows of input.sequences) {
    for (let i = 0; i < rows.length; i++) {
      const keyRows = input.causal ? Array.prototype.slice.call(rows, 0, i + 1) as number[] : rows;
      const w = attentionRow(input.queries, input.keys, input.dHead, rows[i], keyRows, input.scale);
      if (input.valueNorms) valueWeighted(w, keyRows, input.valueNorms);
      visit(rows, i, w);
    }
  }
}

/** Mean attention by relative offset over every sequence. */
export function attentionByOffset(input: AggregateInput): OffsetProfile {
  const sequences = Array.from(input.sequences);
  let maxLength = 1;
  for (const rows of sequences) maxLength = Math.max(maxLength, rows.length);
  const width = 2 * maxLength - 1;
  const sum = new Float64Array(width);
  const count = new Float64Array(width);
  forEachRow({ ...input, sequences }, (_rows, i, w) => {
    for (let j = 0; j < w.length; j++) {
      const m = j - i + maxLength - 1;
      sum[m] += w[j];
      count[m] += 1;
    }
  });
  const mean = sum.map((s, m) => (count[m] ? s / count[m] : 0));
  const offsets = Int32Array.from({ length: width }, (_, m) => m - (maxLength - 1));
  return { offsets, mean, count };
}

/** Mean attention by absolute (query, key) position over the sequences, positions < size. */
export function attentionByPosition(input: AggregateInput, size: number): PositionProfile {
  const sum = new Float64Array(size * size);
  const count = new Float64Array(size * size);
  forEachRow(input, (_rows, i, w) => {
    if (i >= size) return;
    for (let j = 0; j < Math.min(w.length, size); j++) {
      sum[i * size + j] += w[j];
      count[i * size + j] += 1;
    }
  });
  return { size, mean: sum.map((s, c) => (count[c] ? s / count[c] : 0)), count };
}

/** Offset with the largest mean weight, and the weight-averaged |offset| of the profile. */
export function offsetSummary(profile: OffsetProfile): { peak: number; meanAbs: number } {
  let peak = 0;
  let best = -Infinity;
  let total = 0;
  let weighted = 0;
  for (let m = 0; m < profile.mean.length; m++) {
    if (profile.count[m] && profile.mean[m] > best) {
      best = profile.mean[m];
      peak = profile.offsets[m];
    }
    const mass = profile.mean[m] * profile.count[m]; // total weight at this offset
    total += mass;
    weighted += mass * Math.abs(profile.offsets[m]);
  }
  return { peak, meanAbs: total ? weighted / total : 0 };
}
