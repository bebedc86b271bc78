import { jointRows, normalizeQK, type NormalizeOptions } from '../../src/compute/normalize';
import { gaussian, mulberry32 } from './helpers';

const N = 50;
const D = 16;

/**
 * Q and K of one head with what real heads have and normalization exists for: keys far
 * from the queries (different offsets) and a very different scale (keys several times longer).
 */
function makeQK(seed: number): { queries: Float32Array; keys: Float32Array } {
  const normal = gaussian(mulberry32(seed));
  const queryOffset = Array.from({ length: D }, () => 1.5 * normal());
  const keyOffset = Array.from({ length: D }, () => -5 * normal());
  const queries = new Float32Array(N * D);
  const keys = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < D; c++) {
      queries[i * D + c] = queryOffset[c] + 0.5 * normal();
      keys[i * D + c] = keyOffset[c] + 0.35 * normal();
    }
  }
  return { queries, keys };
}

/** softmax_j(q_i . k_j) for every i, in float64, as an [N, N] row-major matrix. */
function attention(queries: Float32Array, keys: Float32Array): Float64Array {
  const weights = new Float64Array(N * N);
  const logits = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let max = -Infinity;
    for (let j = 0; j < N; j++) {
      let dot = 0;
      for (let c = 0; c < D; c++) dot += queries[i * D + c] * keys[j * D + c];
      logits[j] = dot;
      max = Math.max(max, dot);
    }
    let sum = 0;
    for (let j = 0; j < N; j++) sum += (logits[j] = Math.exp(logits[j] - max));
    for (let j = 0; j < N; j++) weights[i * N + j] = logits[j] / sum;
  }
  return weights;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function columnMeans(m: Float32Array): number[] {
  const mean = new Array<number>(D).fill(0);
  for (let r = 0; r < N; r++) for (let c = 0; c < D; c++) mean[c] += m[r * D + c] / N;
  return mean;
}

function meanNorm(m: Float32Array): number {
  let total = 0;
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += m[r * D + c] ** 2;
    total += Math.sqrt(s);
  }
  return total / N;
}

function distance(a: number[], b: number[]): number {
  return Math.hypot(...a.map((v, i) => v - b[i]));
}

describe('normalizeQK', () => {
  const { queries, keys } = makeQK(20230717);
  const reference = attention(queries, keys);

  it('uses test data where normalization matters', () => {
    // The attention is not uniform and not one-hot: there is a pattern to preserve.
    let maxWeight = 0;
    for (const w of reference) maxWeight = Math.max(maxWeight, w);
    expect(maxWeight).toBeGreaterThan(3 / N);
    expect(maxWeight).toBeLessThan(0.999);
    // Centroids far apart, norms very different.
    expect(distance(columnMeans(queries), columnMeans(keys))).toBeGreaterThan(10);
    expect(meanNorm(keys) / meanNorm(queries)).toBeGreaterThan(2);
    // And a wrong transform (moving the queries instead of the keys) would be caught.
    const shiftedQueries = new Float32Array(queries);
    const shift = columnMeans(keys).map((k, c) => k - columnMeans(queries)[c]);
    for (let r = 0; r < N; r++) for (let c = 0; c < D; c++) shiftedQueries[r * D + c] += shift[c];
    expect(maxAbsDiff(attention(shiftedQueries, keys), reference)).toBeGreaterThan(0.01);
  });

  const variants: Array<[string, NormalizeOptions]> = [
    ['translate + scale', { translate: true, scale: true }],
    ['translate only', { translate: true, scale: false }],
    ['scale only', { translate: false, scale: true }],
    ['neither', { translate: false, scale: false }],
  ];
  for (const [name, options] of variants) {
    it(`keeps every attention weight softmax_j(q_i . k_j) with ${name}`, () => {
      const out = normalizeQK(queries, keys, N, D, options);
      expect(out.queries.length).toBe(N * D);
      expect(out.keys.length).toBe(N * D);
      expect(maxAbsDiff(attention(out.queries, out.keys), reference)).toBeLessThan(1e-5);
    });
  }

  it('after translate, the key centroid equals the query centroid (queries untouched)', () => {
    const out = normalizeQK(queries, keys, N, D, { translate: true, scale: false });
    expect(maxAbsDiff(columnMeans(out.keys), columnMeans(out.queries))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.queries, queries)).toBe(0);
    // Keys only move rigidly: differences between keys are unchanged.
    const before = keys[5 * D + 3] - keys[17 * D + 3];
    const after = out.keys[5 * D + 3] - out.keys[17 * D + 3];
    expect(Math.abs(after - before)).toBeLessThan(1e-5);
  });

  it('after scale, the mean query norm equals the mean key norm', () => {
    for (const translate of [false, true]) {
      const out = normalizeQK(queries, keys, N, D, { translate, scale: true });
      const q = meanNorm(out.queries);
      const k = meanNorm(out.keys);
      expect(Math.abs(q - k) / k).withContext(`translate ${translate}`).toBeLessThan(1e-5);
    }
  });

  it('scale only multiplies Q by c and K by 1/c (no translation)', () => {
    const out = normalizeQK(queries, keys, N, D, { translate: false, scale: true });
    const c = out.queries[0] / queries[0];
    expect(c).toBeGreaterThan(1); // keys were longer, so queries grow
    for (let i = 0; i < N * D; i += 37) {
      expect(out.queries[i]).toBeCloseTo(queries[i] * c, 4);
      expect(out.keys[i]).toBeCloseTo(keys[i] / c, 4);
    }
  });

  it('does not modify its inputs', () => {
    const q = new Float32Array(queries);
    const k = new Float32Array(keys);
    const out = normalizeQK(q, k, N, D, { translate: true, scale: true });
    expect(maxAbsDiff(q, queries)).toBe(0);
    expect(maxAbsDiff(k, keys)).toBe(0);
    expect(out.queries).not.toBe(q);
    expect(out.keys).not.toBe(k);
  });

  it('leaves an all-zero head as zeros (no NaN from dividing by a zero norm)', () => {
    const zeros = new Float32Array(N * D);
    const out = normalizeQK(zeros, zeros, N, D, { translate: true, scale: true });
    expect(out.queries.every((v) => v === 0)).toBe(true);
    expect(out.keys.every((v) => v === 0)).toBe(true);
  });

  it('handles zero tokens', () => {
    const out = normalizeQK(new Float32Array(0), new Float32Array(0), 0, D, { translate: true, scale: true });
    expect(out.queries.length).toBe(0);
    expect(out.keys.length).toBe(0);
  });
});

describe('jointRows', () => {
  it('puts the N query rows first, then the N key rows', () => {
    const { queries, keys } = makeQK(7);
    const joint = jointRows(queries, keys);
    expect(joint.length).toBe(2 * N * D);
    for (const row of [0, 1, N - 1]) {
      expect(Array.from(joint.subarray(row * D, (row + 1) * D))).toEqual(Array.from(queries.subarray(row * D, (row + 1) * D)));
      expect(Array.from(joint.subarray((N + row) * D, (N + row + 1) * D))).toEqual(Array.from(keys.subarray(row * D, (row + 1) * D)));
    }
  });

  it('works on a hand-written example', () => {
    const joint = jointRows(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]));
    expect(Array.from(joint)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
