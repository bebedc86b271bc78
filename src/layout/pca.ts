/**
 * Principal component analysis on typed arrays.
 *
 * The covariance C = X_c^T X_c / (n - 1) of the centred data is d x d (d = d_head,
 * at most a few hundred), so we diagonalise it exactly and project onto the top
 * eigenvectors. Cost O(n d^2 + d^3): a few milliseconds for a head.
 *
 * The eigen-solver is Householder tridiagonalisation followed by the implicit QL
 * algorithm with Wilkinson-style shifts (EISPACK tred2 / tql2, as in JAMA's
 * EigenvalueDecomposition), about 4/3 d^3 + 9 d^3 flops at most: several times fewer
 * than the sweeps of cyclic Jacobi, which `jacobiEigen` keeps as the reference.
 */

/** Eigenpairs of a symmetric matrix: values descending, vectors as columns. */
export interface Eigen {
  values: Float64Array;
  /** [d, d] row-major, eigenvectors as columns: vectors[i * d + j] is component i of vector j. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric d x d matrix (row-major; only the lower triangle
 * is read). Values descending; each vector's largest component is positive.
 * Householder reduction to tridiagonal form, then implicit QL (tred2 + tql2).
 */
export function symmetricEigen(matrix: Float64Array, d: number): Eigen {
  if (matrix.length !== d * d) throw new Error(`symmetricEigen: matrix has ${matrix.length} values, expected ${d} x ${d}`);
  // v starts as the matrix and ends as the eigenvectors (columns); e = off-diagonal.
  const v = new Float64Array(matrix);
  const values = new Float64Array(d);
  const e = new Float64Array(d);
  tridiagonalize(v, values, e, d);
  diagonalizeTridiagonal(v, values, e, d);
  return sortedEigen(values, (i, j) => v[i * d + j], d);
}

/**
 * Householder reduction of the symmetric matrix in `v` (row-major) to tridiagonal form
 * (EISPACK tred2): on return `diagonal` and `off` (off[i] couples i - 1 and i) hold the
 * tridiagonal matrix and `v` the orthogonal transformation that produced it.
 */
function tridiagonalize(v: Float64Array, diagonal: Float64Array, off: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) diagonal[j] = v[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    // Scale to avoid under/overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(diagonal[k]);
    if (scale === 0) {
      off[i] = diagonal[i - 1];
      for (let j = 0; j < i; j++) {
        diagonal[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      // Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        diagonal[k] /= scale;
        h += diagonal[k] * diagonal[k];
      }
      let f = diagonal[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      off[i] = scale * g;
      h -= f * g;
      diagonal[i - 1] = f - g;
      for (let j = 0; j < i; j++) off[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = diagonal[j];
        v[j * n + i] = f;
        g = off[j] + v[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j] * diagonal[k];
          off[k] += v[k * n + j] * f;
        }
        off[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        off[j] /= h;
        f += off[j] * diagonal[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) off[j] -= hh * diagonal[j];
      for (let j = 0; j < i; j++) {
        f = diagonal[j];
        g = off[j];
        for (let k = j; k <= i - 1; k++) v[k * n + j] -= f * off[k] + g * diagonal[k];
        diagonal[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
      }
    }
    diagonal[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i];
    v[i * n + i] = 1;
    const h = diagonal[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) diagonal[k] = v[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j];
        for (let k = 0; k <= i; k++) v[k * n + j] -= g * diagonal[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    diagonal[j] = v[(n - 1) * n + j];
    v[(n - 1) * n + j] = 0;
  }
  if (n > 0) v[(n - 1) * n + n - 1] = 1;
  off[0] = 0;
}

/**
 * Implicit QL with shifts on the tridiagonal matrix (`diagonal`, `off`) (EISPACK tql2),
 * applying each rotation to `v`: on return `diagonal` holds the eigenvalues and the
 * columns of `v` the eigenvectors of the original matrix (unordered).
 */
function diagonalizeTridiagonal(v: Float64Array, diagonal: Float64Array, off: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) off[i - 1] = off[i];
  if (n > 0) off[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element.
    tst1 = Math.max(tst1, Math.abs(diagonal[l]) + Math.abs(off[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(off[m]) <= eps * tst1) break;
      m++;
    }
    // If m === l, diagonal[l] is already an eigenvalue; otherwise iterate.
    if (m > l) {
      for (let iteration = 0; ; iteration++) {
        if (iteration > 60 * n) throw new Error('symmetricEigen: QL iteration did not converge (non-finite matrix?)');
        // Compute the implicit shift.
        let g = diagonal[l];
        let p = (diagonal[l + 1] - g) / (2 * off[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        diagonal[l] = off[l] / (p + r);
        diagonal[l + 1] = off[l] * (p + r);
        const dl1 = diagonal[l + 1];
        let h = g - diagonal[l];
        for (let i = l + 2; i < n; i++) diagonal[i] -= h;
        f += h;
        // Implicit QL transformation.
        p = diagonal[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = off[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * off[i];
          h = c * p;
          r = Math.hypot(p, off[i]);
          off[i + 1] = s * r;
          s = off[i] / r;
          c = p / r;
          p = c * diagonal[i] - s * g;
          diagonal[i + 1] = h + s * (c * g + s * diagonal[i]);
          // Accumulate the transformation.
          for (let k = 0; k < n; k++) {
            const row = k * n;
            h = v[row + i + 1];
            v[row + i + 1] = s * v[row + i] + c * h;
            v[row + i] = c * v[row + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * off[l]) / dl1;
        off[l] = s * p;
        diagonal[l] = c * p;
        // Check for convergence.
        if (!(Math.abs(off[l]) > eps * tst1)) break;
      }
    }
    diagonal[l] += f;
    off[l] = 0;
  }
}

/** Values descending, vectors (column j = `component(i, j)`) reordered alike with the largest component positive. */
function sortedEigen(unordered: Float64Array, component: (i: number, j: number) => number, d: number): Eigen {
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => unordered[j] - unordered[i]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((source, target) => {
    values[target] = unordered[source];
    // Fix the sign so the largest component is positive: layouts are reproducible.
    let largest = 0;
    for (let i = 0; i < d; i++) if (Math.abs(component(i, source)) > Math.abs(largest)) largest = component(i, source);
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) vectors[i * d + target] = sign * component(i, source);
  });
  return { values, vectors };
}

/**
 * The same decomposition by cyclic Jacobi rotations: simple and very accurate, but
 * several times slower at d = 32..128. Kept as the reference `symmetricEigen` is
 * tested and benchmarked against.
 */
export function jacobiEigen(matrix: Float64Array, d: number): Eigen {
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
  const diagonal = new Float64Array(d);
  for (let i = 0; i < d; i++) diagonal[i] = a[i * d + i];
  return sortedEigen(diagonal, (i, j) => v[i * d + j], d);
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

/** Column means of row-major data [rows, cols], in float64. */
function columnMeans(data: Float32Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) mean[c] += data[offset + c];
  }
  for (let c = 0; c < cols; c++) mean[c] /= Math.max(rows, 1);
  return mean;
}

/** Rows per block of `covariance`: its scratch copy stays small (512 x 128 float64 = 512 KB at most for d <= 128). */
const COVARIANCE_BLOCK = 512;

/**
 * Covariance C = X_c^T X_c / (n - 1) of row-major data [rows, cols] with column means
 * `mean`, as a full symmetric [cols, cols] row-major matrix. Works through blocks of
 * rows: each block's centred data is copied column by column (float64), so an entry's
 * share is a dot product of two contiguous columns, computed in 2 x 2 blocks of
 * entries (four sums per pass over the rows: half the memory reads of one at a time).
 */
export function covariance(data: Float32Array, rows: number, cols: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(cols * cols);
  const columns = new Float64Array(Math.min(rows, COVARIANCE_BLOCK) * cols);
  const even = cols - (cols % 2);
  for (let start = 0; start < rows; start += COVARIANCE_BLOCK) {
    const n = Math.min(COVARIANCE_BLOCK, rows - start);
    for (let r = 0; r < n; r++) {
      const offset = (start + r) * cols;
      for (let c = 0; c < cols; c++) columns[c * n + r] = data[offset + c] - mean[c];
    }
    for (let i = 0; i < even; i += 2) {
      const a0 = i * n;
      const a1 = a0 + n;
      for (let j = i; j < even; j += 2) {
        const b0 = j * n;
        const b1 = b0 + n;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (let r = 0; r < n; r++) {
          const x0 = columns[a0 + r], x1 = columns[a1 + r], y0 = columns[b0 + r], y1 = columns[b1 + r];
          s00 += x0 * y0;
          s01 += x0 * y1;
          s10 += x1 * y0;
          s11 += x1 * y1;
        }
        cov[i * cols + j] += s00;
        cov[i * cols + j + 1] += s01;
        cov[(i + 1) * cols + j] += s10;
        cov[(i + 1) * cols + j + 1] += s11;
      }
    }
    // The last column when cols is odd.
    for (let i = 0; i < cols; i++) {
      for (let j = Math.max(i, even); j < cols; j++) {
        let sum = 0;
        for (let r = 0; r < n; r++) sum += columns[i * n + r] * columns[j * n + r];
        cov[i * cols + j] += sum;
      }
    }
  }
  const denominator = Math.max(rows - 1, 1);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      cov[i * cols + j] /= denominator;
      cov[j * cols + i] = cov[i * cols + j];
    }
  }
  return cov;
}

/** Fit the principal axes: mean and covariance C = X_c^T X_c / (n - 1), diagonalised. */
export function pcaBasis(data: Float32Array, rows: number, cols: number): PCABasis {
  if (data.length !== rows * cols) throw new Error(`pca: data has ${data.length} values, expected ${rows} x ${cols}`);
  const mean = columnMeans(data, rows, cols);
  const cov = covariance(data, rows, cols, mean);
  const { values, vectors } = symmetricEigen(cov, cols);
  return { mean, values, vectors, cols };
}

/** Coordinates [rows, components] of row-major data on the first `components` axes of `basis`. */
export function pcaProject(basis: PCABasis, data: Float32Array, rows: number, components: number): Float32Array {
  const { mean, vectors, cols } = basis;
  if (data.length !== rows * cols) throw new Error(`pca: data has ${data.length} values, expected ${rows} x ${cols}`);
  const k = Math.min(components, cols);
  const coordinates = new Float32Array(rows * components);
  // The k axes as contiguous rows, and each data row centred once.
  const axes = new Float64Array(k * cols);
  for (let j = 0; j < k; j++) for (let c = 0; c < cols; c++) axes[j * cols + c] = vectors[c * cols + j];
  const centred = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) centred[c] = data[offset + c] - mean[c];
    for (let j = 0; j < k; j++) {
      const axis = j * cols;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += centred[c] * axes[axis + c];
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
