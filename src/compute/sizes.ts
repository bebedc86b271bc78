/**
 * Point sizes by vector norm: point i of a joint layout (queries 0..n-1, keys n..2n-1)
 * gets a size factor |v_i| / mean_j |v_j| over all 2n points, clamped to
 * [minFactor, maxFactor], so a typical point keeps the base size, long vectors
 * (large contributions to q.k) grow and short ones shrink. The caller passes the
 * Q/K the layout was made from (normalized when the layout is), so sizes describe
 * what is on screen.
 */

export interface SizeRange {
  /** Smallest size factor (default 0.4). */
  minFactor: number;
  /** Largest size factor (default 2.5). */
  maxFactor: number;
}

export const DEFAULT_SIZE_RANGE: SizeRange = { minFactor: 0.4, maxFactor: 2.5 };

/** Euclidean norm of each row of a row-major [rows, cols] matrix. */
export function rowNorms(matrix: Float32Array, rows: number, cols: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const offset = r * cols;
    for (let c = 0; c < cols; c++) sum += matrix[offset + c] ** 2;
    norms[r] = Math.sqrt(sum);
  }
  return norms;
}

/**
 * Size factors of the 2n points of one head, queries then keys ([2n]); all 1 when
 * every vector is zero. NaN norms (damaged data) get the smallest size.
 */
export function normSizes(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  range: SizeRange = DEFAULT_SIZE_RANGE,
): Float32Array {
  if (!(range.minFactor > 0 && range.maxFactor >= range.minFactor)) {
    throw new Error(`size range must have 0 < minFactor <= maxFactor, got ${range.minFactor}..${range.maxFactor}`);
  }
  const norms = new Float64Array(2 * nTokens);
  norms.set(rowNorms(queries, nTokens, dHead), 0);
  norms.set(rowNorms(keys, nTokens, dHead), nTokens);
  let total = 0;
  let count = 0;
  for (const norm of norms) {
    if (Number.isFinite(norm)) {
      total += norm;
      count++;
    }
  }
  const mean = count ? total / count : 0;
  const sizes = new Float32Array(2 * nTokens);
  for (let i = 0; i < sizes.length; i++) {
    const factor = mean > 0 ? norms[i] / mean : 1;
    sizes[i] = Number.isFinite(factor) ? Math.min(range.maxFactor, Math.max(range.minFactor, factor)) : range.minFactor;
  }
  return sizes;
}
