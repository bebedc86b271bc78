/**
 * Principal component analysis on typed arrays.
 *
 * The covariance C = X_c^T X_c / (n - 1) of the centred data is d x d (d = d_head,
 * at most a few hundred), so we diagonalise it exactly with cyclic Jacobi rotations
 * and project onto the top eigenvectors. Cost O(n d^2 + d^3): instant for a head.
 */

/** Eigen-decomposition of a symmetric d x d matrix (row-major). Values descending. */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = new Float64Array(matrix);
  // vectors holds eigenvectors as columns: V[i * d + j] is component i of vector j.
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) offDiagonal += a[p * d + q] ** 2;
    if (offDiagonal < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j] - a[i * d + i]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((source, target) => {
    values[target] = a[source * d + source];
    // Fix the sign so the largest component is positive: layouts are reproducible.
    let largest = 0;
    for (let i = 0; i < d; i++) if (Math.abs(v[i * d + source]) > Math.abs(largest)) largest = v[i * d + source];
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) vectors[i * d + target] = sign * v[i * d + source];
  });
  return { values, vectors };
}

export interface PCAResult {
  /** [rows, components] row-major projection. */
  coordinates: Float32Array;
  /** Variance along each returned component. */
  variance: Float64Array;
  /** Fraction of the total variance each returned component explains. */
  explainedRatio: Float64Array;
}

/** The principal axes of row-major data [rows, cols]: column means and eigenpairs of the covariance. */
export interface PCABasis {
  mean: Float64Array;
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** [cols, cols], eigenvectors as columns: vectors[c * cols + j] is component c of axis j. */
  vectors: Float64Array;
  cols: number;
}

/** Fit the principal axes: mean and covariance C = X_c^T X_c / (n - 1), diagonalised. */
export function pcaBasis(data: Float32Array, rows: number, cols: number): PCABasis {
  if (data.length !== rows * cols) throw new Error(`pca: data has ${data.length} values, expected ${rows} x ${cols}`);
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
  const { values, vectors } = symmetricEigen(cov, cols);
  return { mean, values, vectors, cols };
}

/** Coordinates [rows, components] of row-major data on the first `components` axes of `basis`. */
export function pcaProject(basis: PCABasis, data: Float32Array, rows: number, components: number): Float32Array {
  const { mean, vectors, cols } = basis;
  if (data.length !== rows * cols) throw new Error(`pca: data has ${data.length} values, expected ${rows} x ${cols}`);
  const k = Math.min(components, cols);
  const coordinates = new Float32Array(rows * components);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += (data[r * cols + c] - mean[c]) * vectors[c * cols + j];
      coordinates[r * components + j] = sum;
    }
  }
  return coordinates;
}

/** Project row-major data [rows, cols] onto its top `components` principal axes. */
export function pca(data: Float32Array, rows: number, cols: number, components: number): PCAResult {
  const k = Math.min(components, cols);
  const basis = pcaBasis(data, rows, cols);
  const { values } = basis;
  const coordinates = pcaProject(basis, data, rows, components);
  let total = 0;
  for (let i = 0; i < cols; i++) total += Math.max(values[i], 0);
  const variance = values.slice(0, k);
  const explainedRatio = variance.map((v) => (total > 0 ? Math.max(v, 0) / total : 0));
  return { coordinates, variance, explainedRatio };
}
