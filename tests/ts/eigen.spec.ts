/**
 * The PCA eigen-solver (Householder + implicit QL) and covariance against their
 * definitions and against the cyclic Jacobi reference they replaced.
 */
import { covariance, jacobiEigen, pcaBasis, symmetricEigen } from '../../src/layout/pca';
import { gaussian, mulberry32 } from './helpers';

function randomSymmetric(d: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = random() * 2 - 1;
  return a;
}

/** max_j |A v_j - lambda_j v_j|_inf and max |V^T V - I|. */
function residuals(a: Float64Array, d: number, values: Float64Array, vectors: Float64Array): { eigen: number; orthonormal: number } {
  let eigen = 0;
  let orthonormal = 0;
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < d; i++) {
      let av = 0;
      for (let k = 0; k < d; k++) av += a[i * d + k] * vectors[k * d + j];
      eigen = Math.max(eigen, Math.abs(av - values[j] * vectors[i * d + j]));
    }
    for (let m = 0; m <= j; m++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += vectors[k * d + j] * vectors[k * d + m];
      orthonormal = Math.max(orthonormal, Math.abs(dot - (m === j ? 1 : 0)));
    }
  }
  return { eigen, orthonormal };
}

describe('symmetricEigen (tred2 + tql2)', () => {
  for (const d of [1, 2, 5, 32, 64, 128]) {
    it(`satisfies A v = lambda v to 1e-9 and matches the Jacobi values for a random ${d} x ${d} matrix`, () => {
      const a = randomSymmetric(d, 1000 + d);
      const { values, vectors } = symmetricEigen(a, d);
      const { eigen, orthonormal } = residuals(a, d, values, vectors);
      expect(eigen).toBeLessThan(1e-9);
      expect(orthonormal).toBeLessThan(1e-9);
      const reference = jacobiEigen(a, d);
      for (let j = 0; j < d; j++) {
        expect(Math.abs(values[j] - reference.values[j])).withContext(`value ${j}`).toBeLessThan(1e-9);
        if (j > 0) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
        // Distinct eigenvalues: the same vectors, with the same sign convention.
        let largest = 0;
        for (let i = 0; i < d; i++) {
          expect(Math.abs(vectors[i * d + j] - reference.vectors[i * d + j])).withContext(`vector ${j}[${i}]`).toBeLessThan(1e-6);
          if (Math.abs(vectors[i * d + j]) > Math.abs(largest)) largest = vectors[i * d + j];
        }
        expect(largest).toBeGreaterThan(0);
      }
    });
  }

  it('handles a diagonal matrix, a repeated eigenvalue and the zero matrix', () => {
    const diagonal = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 7]);
    expect(Array.from(symmetricEigen(diagonal, 3).values)).toEqual([7, 3, -1]);
    // 2 I + u u^T (u = (1, 1, 1, 1) / 2): eigenvalues 3, 2, 2, 2.
    const d = 4;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = (i === j ? 2 : 0) + 0.25;
    const { values, vectors } = symmetricEigen(a, d);
    expect(values[0]).toBeCloseTo(3, 12);
    for (let j = 1; j < d; j++) expect(values[j]).toBeCloseTo(2, 12);
    const { eigen, orthonormal } = residuals(a, d, values, vectors);
    expect(eigen).toBeLessThan(1e-12);
    expect(orthonormal).toBeLessThan(1e-12);
    const zero = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(residuals(new Float64Array(9), 3, zero.values, zero.vectors).orthonormal).toBe(0);
  });

  it('diagonalises a real-looking covariance (eigenvalues spanning 8 orders of magnitude)', () => {
    const d = 32;
    const normal = gaussian(mulberry32(5));
    const rows = 400;
    const data = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) data[r * d + c] = normal() * 10 ** (-c / 8) + 0.3 * (c % 3);
    const { values, vectors } = pcaBasis(data, rows, d);
    const cov = covariance(data, rows, d, pcaBasis(data, rows, d).mean);
    expect(residuals(cov, d, values, vectors).eigen).toBeLessThan(1e-12);
    const reference = jacobiEigen(cov, d);
    for (let j = 0; j < d; j++) expect(Math.abs(values[j] - reference.values[j])).toBeLessThan(1e-12 * values[0]);
  });

  it('does not modify its input and rejects a matrix of the wrong size', () => {
    const a = randomSymmetric(6, 3);
    const copy = Array.from(a);
    symmetricEigen(a, 6);
    expect(Array.from(a)).toEqual(copy);
    expect(() => symmetricEigen(new Float64Array(10), 3)).toThrowError(/10 values, expected 3 x 3/);
  });
});

describe('covariance', () => {
  /** The definition, row by row: sum_r (x_ri - mean_i)(x_rj - mean_j) / (n - 1). */
  function byRows(data: Float32Array, rows: number, cols: number, mean: Float64Array): Float64Array {
    const cov = new Float64Array(cols * cols);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < cols; j++) cov[i * cols + j] += (data[r * cols + i] - mean[i]) * (data[r * cols + j] - mean[j]);
      }
    }
    return cov.map((v) => v / Math.max(rows - 1, 1));
  }

  // Odd and even column counts; row counts below, at and across the 512-row blocks.
  for (const [rows, cols] of [[1, 3], [7, 5], [512, 8], [1300, 33], [3000, 32]]) {
    it(`equals the row-by-row definition for ${rows} x ${cols} data`, () => {
      const normal = gaussian(mulberry32(rows * 31 + cols));
      const data = Float32Array.from({ length: rows * cols }, (_, t) => 5 * (t % cols) + normal());
      const mean = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c] / rows;
      const got = covariance(data, rows, cols, mean);
      const want = byRows(data, rows, cols, mean);
      for (let t = 0; t < cols * cols; t++) expect(Math.abs(got[t] - want[t])).withContext(`entry ${t}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(want[t])));
      for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) expect(got[i * cols + j]).toBe(got[j * cols + i]);
    });
  }
});
