import { pca, symmetricEigen } from '../../src/layout/pca';
import { gaussian, mulberry32 } from './helpers';

/** Column j of a row-major d x d matrix whose columns are eigenvectors. */
function column(vectors: Float64Array, d: number, j: number): number[] {
  return Array.from({ length: d }, (_, i) => vectors[i * d + j]);
}

function matVec(a: ArrayLike<number>, d: number, v: number[]): number[] {
  return Array.from({ length: d }, (_, i) => v.reduce((s, vj, j) => s + a[i * d + j] * vj, 0));
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]): number => Math.sqrt(dot(a, a));

/** Gram-Schmidt: orthonormal rows from random vectors. */
function orthonormal(count: number, d: number, normal: () => number): number[][] {
  const basis: number[][] = [];
  while (basis.length < count) {
    let v = Array.from({ length: d }, normal);
    for (const b of basis) {
      const p = dot(v, b);
      v = v.map((x, i) => x - p * b[i]);
    }
    const n = norm(v);
    basis.push(v.map((x) => x / n));
  }
  return basis;
}

describe('symmetricEigen', () => {
  it('finds the hand-known eigenvalues 5, 3, 1 of [[2,1,0],[1,2,0],[0,0,5]], descending', () => {
    const a = new Float64Array([2, 1, 0, 1, 2, 0, 0, 0, 5]);
    const { values, vectors } = symmetricEigen(a, 3);
    expect(values[0]).toBeCloseTo(5, 10);
    expect(values[1]).toBeCloseTo(3, 10);
    expect(values[2]).toBeCloseTo(1, 10);
    // Hand-known eigenvectors up to sign: e3, (1,1,0)/sqrt2, (1,-1,0)/sqrt2.
    const expected = [[0, 0, 1], [Math.SQRT1_2, Math.SQRT1_2, 0], [Math.SQRT1_2, -Math.SQRT1_2, 0]];
    for (let j = 0; j < 3; j++) {
      const v = column(vectors, 3, j);
      expect(Math.abs(dot(v, expected[j]))).withContext(`vector ${j}`).toBeCloseTo(1, 10);
      const av = matVec(a, 3, v);
      for (let i = 0; i < 3; i++) expect(av[i]).toBeCloseTo(values[j] * v[i], 10);
    }
  });

  it('fixes each eigenvector\'s sign so its largest component is positive (reproducible layouts)', () => {
    const d = 12;
    const random = mulberry32(7);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = random() * 2 - 1;
    }
    const { vectors } = symmetricEigen(a, d);
    for (let j = 0; j < d; j++) {
      const v = column(vectors, d, j);
      const largest = v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
      expect(largest).withContext(`vector ${j}`).toBeGreaterThan(0);
    }
  });

  it('does not modify its input', () => {
    const a = new Float64Array([2, 1, 0, 1, 2, 0, 0, 0, 5]);
    symmetricEigen(a, 3);
    expect(Array.from(a)).toEqual([2, 1, 0, 1, 2, 0, 0, 0, 5]);
  });

  it('diagonalises a random symmetric 12 x 12 matrix: A v = lambda v, orthonormal vectors, trace kept', () => {
    const d = 12;
    const random = mulberry32(99);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = random() * 2 - 1;
    }
    const { values, vectors } = symmetricEigen(a, d);
    let trace = 0;
    for (let i = 0; i < d; i++) trace += a[i * d + i];
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 9);
    for (let j = 0; j < d; j++) {
      if (j > 0) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
      const v = column(vectors, d, j);
      expect(norm(v)).toBeCloseTo(1, 10);
      for (let k = 0; k < j; k++) expect(Math.abs(dot(v, column(vectors, d, k)))).toBeLessThan(1e-9);
      const av = matVec(a, d, v);
      for (let i = 0; i < d; i++) expect(Math.abs(av[i] - values[j] * v[i])).toBeLessThan(1e-9);
    }
  });
});

describe('pca', () => {
  const ROWS = 2000;
  const COLS = 5;
  const normal = gaussian(mulberry32(4242));
  const [u, v] = orthonormal(2, COLS, normal);
  const offset = [10, -3, 7, 0.5, 2];
  /** x = offset + 3 a u + 1 b v + tiny noise: variance 9 along u, 1 along v, ~0 elsewhere. */
  const data = new Float32Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    const a = normal();
    const b = normal();
    for (let c = 0; c < COLS; c++) data[r * COLS + c] = offset[c] + 3 * a * u[c] + b * v[c] + 1e-3 * normal();
  }

  /**
   * The unit direction in data space that component j projects onto, recovered from the
   * coordinates: for centred data X and p = X w with w an eigenvector of X^T X,
   * X^T p = X^T X w = (n - 1) lambda w, so w is X^T p normalised.
   */
  function axisOf(coordinates: Float32Array, components: number, j: number): number[] {
    const mean = Array.from({ length: COLS }, (_, c) => {
      let s = 0;
      for (let r = 0; r < ROWS; r++) s += data[r * COLS + c];
      return s / ROWS;
    });
    const w = new Array<number>(COLS).fill(0);
    for (let r = 0; r < ROWS; r++) {
      const p = coordinates[r * components + j];
      for (let c = 0; c < COLS; c++) w[c] += (data[r * COLS + c] - mean[c]) * p;
    }
    const n = norm(w);
    return w.map((x) => x / n);
  }

  it('finds the high-variance direction first and the second one next', () => {
    const result = pca(data, ROWS, COLS, 2);
    expect(result.coordinates.length).toBe(ROWS * 2);
    expect(Math.abs(dot(axisOf(result.coordinates, 2, 0), u))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(axisOf(result.coordinates, 2, 1), v))).toBeGreaterThan(0.999);
  });

  it('reports variances close to the generating ones (9 and 1) and ordered explained ratios', () => {
    const { variance, explainedRatio } = pca(data, ROWS, COLS, 3);
    expect(variance.length).toBe(3);
    expect(Math.abs(variance[0] - 9)).toBeLessThan(0.9);
    expect(Math.abs(variance[1] - 1)).toBeLessThan(0.1);
    expect(variance[2]).toBeLessThan(1e-4);
    expect(explainedRatio[0]).toBeGreaterThanOrEqual(explainedRatio[1]);
    expect(explainedRatio[1]).toBeGreaterThanOrEqual(explainedRatio[2]);
    expect(explainedRatio[0]).toBeCloseTo(variance[0] / (variance[0] + variance[1]), 3);
    const sum = explainedRatio.reduce((s, x) => s + x, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-9);
    expect(sum).toBeGreaterThan(0.999);
  });

  it('returns centred coordinates whose sample variance is the reported variance', () => {
    const { coordinates, variance } = pca(data, ROWS, COLS, 2);
    for (let j = 0; j < 2; j++) {
      let mean = 0;
      for (let r = 0; r < ROWS; r++) mean += coordinates[r * 2 + j] / ROWS;
      let ss = 0;
      for (let r = 0; r < ROWS; r++) ss += (coordinates[r * 2 + j] - mean) ** 2;
      expect(Math.abs(mean)).withContext(`component ${j} mean`).toBeLessThan(1e-4);
      expect(ss / (ROWS - 1)).withContext(`component ${j} variance`).toBeCloseTo(variance[j], 3);
    }
  });

  it('keeps distances within the top plane (data lies in span(u, v))', () => {
    const { coordinates } = pca(data, ROWS, COLS, 2);
    for (const [r, s] of [[0, 1], [10, 500], [1999, 3]]) {
      let d2 = 0;
      for (let c = 0; c < COLS; c++) d2 += (data[r * COLS + c] - data[s * COLS + c]) ** 2;
      const p2 = (coordinates[r * 2] - coordinates[s * 2]) ** 2 + (coordinates[r * 2 + 1] - coordinates[s * 2 + 1]) ** 2;
      expect(Math.sqrt(p2)).toBeCloseTo(Math.sqrt(d2), 2);
    }
  });

  it('is deterministic, including the sign of each axis, even when rows are reordered', () => {
    const first = pca(data, ROWS, COLS, 2);
    const second = pca(data, ROWS, COLS, 2);
    expect(Array.from(second.coordinates)).toEqual(Array.from(first.coordinates));
    // Reversing the row order changes the floating-point summation order but must not flip an axis.
    const reversed = new Float32Array(ROWS * COLS);
    for (let r = 0; r < ROWS; r++) reversed.set(data.subarray(r * COLS, (r + 1) * COLS), (ROWS - 1 - r) * COLS);
    const flipped = pca(reversed, ROWS, COLS, 2);
    for (const r of [0, 17, 1234, ROWS - 1]) {
      for (let j = 0; j < 2; j++) {
        expect(flipped.coordinates[(ROWS - 1 - r) * 2 + j]).toBeCloseTo(first.coordinates[r * 2 + j], 3);
      }
    }
  });

  it('throws when the data length does not match rows x cols', () => {
    expect(() => pca(new Float32Array(11), 3, 4, 2)).toThrowError(/11/);
    expect(() => pca(new Float32Array(13), 3, 4, 2)).toThrowError(/3\s*[x×,]\s*4/);
  });
});
