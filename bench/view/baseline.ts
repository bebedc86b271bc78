/**
 * Frozen copies of the matrix view's per-head work as it was before the speed-ups of
 * bench/view/micro.mjs (2026-11-25): the baseline that script times the current code
 * against, in the same run. Not used by the widget.
 */
import { allowedKeys, attentionRow } from '../../src/compute/attention';
import { jacobiEigen, pcaProject, type PCABasis } from '../../src/layout/pca';
import { centroidDistance, type HeadStats } from '../../src/compute/stats';

/** pcaBasis before: covariance accumulated row by row, then cyclic Jacobi. */
export function pcaBasisBefore(data: Float32Array, rows: number, cols: number): PCABasis {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= Math.max(rows, 1);
  const cov = new Float64Array(cols * cols);
  const centred = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) centred[c] = data[r * cols + c] - mean[c];
    for (let i = 0; i < cols; i++) {
      const ci = centred[i];
      if (ci === 0) continue;
      for (let j = i; j < cols; j++) cov[i * cols + j] += ci * centred[j];
    }
  }
  const denominator = Math.max(rows - 1, 1);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      cov[i * cols + j] /= denominator;
      cov[j * cols + i] = cov[i * cols + j];
    }
  }
  const { values, vectors } = jacobiEigen(cov, cols);
  return { mean, values, vectors, cols };
}

/** pca(...).coordinates before (pcaProject is unchanged). */
export function pcaBefore(data: Float32Array, rows: number, cols: number, components: number): Float32Array {
  return pcaProject(pcaBasisBefore(data, rows, cols), data, rows, components);
}

/** headStats before: a new Float32Array of weights per query (attentionRow) and a sliced key list when causal. */
export function headStatsBefore(
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
  return {
    entropy: count ? entropy / count : 0,
    distance: centroidDistance(queries, keys, nTokens, dHead), // unchanged by the rewrite
    offset: count ? offset / count : 0,
  };
}
