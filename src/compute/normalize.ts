/**
 * Query/key normalization of AttentionViz (Yeh et al. 2023, sec. 4).
 *
 * Softmax over keys is invariant to adding one vector to every key for a fixed query
 * (q.(k + t) = q.k + q.t, constant across keys), so keys are translated to share the
 * query centroid. Scaling queries by c and keys by 1/c leaves every q.k unchanged, so
 * c is chosen to make the mean query norm equal the mean key norm. Both steps keep the
 * attention pattern exactly and make the joint embedding meaningful.
 */

export interface NormalizeOptions {
  /** Translate keys so their centroid equals the query centroid. */
  translate: boolean;
  /** Scale Q by c and K by 1/c so mean norms match. */
  scale: boolean;
}

/** Column means of a row-major [rows, cols] matrix. */
export function centroid(matrix: Float32Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) mean[c] += matrix[offset + c];
  }
  for (let c = 0; c < cols; c++) mean[c] /= Math.max(rows, 1);
  return mean;
}

/** Mean Euclidean norm of the rows. */
export function meanRowNorm(matrix: Float32Array, rows: number, cols: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const offset = r * cols;
    for (let c = 0; c < cols; c++) sum += matrix[offset + c] ** 2;
    total += Math.sqrt(sum);
  }
  return total / Math.max(rows, 1);
}

/**
 * The constants of one head's normalization: `shift` is added to every key
 * (query centroid - key centroid, zeros without translation) and queries are
 * multiplied by `c`, keys divided by it (1 without scaling). Fitted on the capture's
 * Q/K; tokens added later are transformed with the same constants (see layout/placement.ts).
 */
export interface Normalization {
  shift: Float64Array;
  c: number;
}

/** Fit the normalization of Q and K, both [n_tokens, d_head] row-major. */
export function fitNormalization(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  options: NormalizeOptions,
): Normalization {
  const shift = new Float64Array(dHead);
  let k = keys;
  if (options.translate && nTokens > 0) {
    const keyMean = centroid(keys, nTokens, dHead);
    shift.set(centroid(queries, nTokens, dHead));
    for (let c = 0; c < dHead; c++) shift[c] -= keyMean[c];
    k = new Float32Array(keys);
    for (let r = 0; r < nTokens; r++) {
      for (let c = 0; c < dHead; c++) k[r * dHead + c] += shift[c];
    }
  }
  let c = 1;
  if (options.scale && nTokens > 0) {
    const qNorm = meanRowNorm(queries, nTokens, dHead);
    const kNorm = meanRowNorm(k, nTokens, dHead);
    // c^2 = |k| / |q| gives c|q| = |k|/c; skip degenerate all-zero heads.
    if (qNorm > 0 && kNorm > 0) c = Math.sqrt(kNorm / qNorm);
  }
  return { shift, c };
}

/** Normalized copies of Q and K ([rows, d_head] each) under fitted constants. */
export function applyNormalization(
  queries: Float32Array,
  keys: Float32Array,
  dHead: number,
  { shift, c }: Normalization,
): { queries: Float32Array; keys: Float32Array } {
  const q = new Float32Array(queries);
  const k = new Float32Array(keys);
  for (let r = 0; r < k.length / dHead; r++) {
    for (let t = 0; t < dHead; t++) k[r * dHead + t] += shift[t];
  }
  if (c !== 1) {
    for (let i = 0; i < q.length; i++) q[i] *= c;
    for (let i = 0; i < k.length; i++) k[i] /= c;
  }
  return { queries: q, keys: k };
}

/**
 * Normalized copies of Q and K, both [n_tokens, d_head] row-major. The inputs are
 * not modified.
 */
export function normalizeQK(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  options: NormalizeOptions,
): { queries: Float32Array; keys: Float32Array } {
  return applyNormalization(queries, keys, dHead, fitNormalization(queries, keys, nTokens, dHead, options));
}

/**
 * Rows of Q then rows of K in one [2 * n_tokens, d_head] matrix: point i < n is the
 * query of token i, point n + i is the key of token i.
 */
export function jointRows(queries: Float32Array, keys: Float32Array): Float32Array {
  const joint = new Float32Array(queries.length + keys.length);
  joint.set(queries, 0);
  joint.set(keys, queries.length);
  return joint;
}
