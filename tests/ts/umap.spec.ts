import { exactKnn } from '../../src/layout/knn';
import { findABParams, umap } from '../../src/layout/umap';
import { gradientCoefficients } from '../../src/layout/umap_sgd';
import { trustworthiness, trustworthinessSampled } from '../../src/layout/trustworthiness';
import { gaussian, mulberry32 } from './helpers';

/** n points in `clusters` Gaussian blobs (centres ~N(0, spread^2), unit noise), with labels. */
function labelledBlobs(n: number, d: number, clusters: number, spread: number, seed: number): { data: Float32Array; labels: Int32Array } {
  const normal = gaussian(mulberry32(seed));
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => spread * normal()));
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % clusters;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[labels[i]][t] + normal();
  }
  return { data, labels };
}

/** Fraction of the k nearest embedded neighbours that share the point's label. */
function labelAgreement(low: Float32Array, n: number, dim: number, labels: Int32Array, k = 10): number {
  const { indices } = exactKnn(low, n, dim, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (labels[indices[i * k + t]] === labels[i]) same++;
  return same / (n * k);
}

/** sklearn.manifold.trustworthiness written out naively: full rank matrix, argsort. */
function bruteTrustworthiness(high: Float32Array, low: Float32Array, n: number, dh: number, dl: number, k: number): number {
  const dist = (x: Float32Array, dim: number, i: number, j: number): number => {
    let s = 0;
    for (let t = 0; t < dim; t++) s += (x[i * dim + t] - x[j * dim + t]) ** 2;
    return s;
  };
  let total = 0;
  for (let i = 0; i < n; i++) {
    const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    const highOrder = [...others].sort((p, q) => dist(high, dh, i, p) - dist(high, dh, i, q));
    const rank = new Map(highOrder.map((j, r) => [j, r + 1]));
    const lowOrder = [...others].sort((p, q) => dist(low, dl, i, p) - dist(low, dl, i, q)).slice(0, k);
    for (const j of lowOrder) total += Math.max(0, (rank.get(j) as number) - k);
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * total;
}

describe('trustworthiness', () => {
  const { data } = labelledBlobs(200, 8, 4, 4, 3);

  it('is 1 for the identity embedding and for an isometry', () => {
    expect(trustworthiness(data, data, 200, 8, 8, 10)).toBe(1);
    const rotated = new Float32Array(data.length);
    for (let i = 0; i < 200; i++) {
      for (let t = 0; t < 8; t++) rotated[i * 8 + t] = 3 * data[i * 8 + ((t + 3) % 8)] + 7; // permute axes, scale, shift
    }
    expect(trustworthiness(data, rotated, 200, 8, 8, 10)).toBe(1);
  });

  it('matches a brute-force sklearn-style implementation', () => {
    const normal = gaussian(mulberry32(9));
    const n = 120;
    const high = data.subarray(0, n * 8);
    const noisy = Float32Array.from({ length: n * 2 }, (_, i) => high[Math.floor(i / 2) * 8 + (i % 2)] + 2 * normal());
    for (const k of [1, 5, 10]) {
      expect(trustworthiness(high, noisy, n, 8, 2, k)).toBeCloseTo(bruteTrustworthiness(high, noisy, n, 8, 2, k), 10);
    }
  });

  it('hand-worked case: swapping the two ends of a line', () => {
    // High: points on a line at 0, 1, 3, 6, 10, 15; low: the same with points 0 and 5 swapped.
    const high = Float32Array.from([0, 1, 3, 6, 10, 15]);
    const low = Float32Array.from([15, 1, 3, 6, 10, 0]);
    // k = 1. Embedded nearest neighbour and its rank in the original space:
    // 0 -> 4 (rank 4), 1 -> 5 (rank 5), 2 -> 1 (1), 3 -> 2 (1), 4 -> 3 (1), 5 -> 1 (rank 4).
    // Sum of max(0, rank - 1) = 3 + 4 + 3 = 10; T = 1 - 2 / (6 * 1 * (12 - 3 - 1)) * 10 = 7 / 12.
    expect(trustworthiness(high, low, 6, 1, 1, 1)).toBeCloseTo(7 / 12, 12);
  });

  it('a random embedding of clustered data scores clearly lower', () => {
    const random = mulberry32(4);
    const low = Float32Array.from({ length: 400 }, () => random());
    const t = trustworthiness(data, low, 200, 8, 2, 10);
    expect(t).toBeLessThan(0.7);
    expect(t).toBeGreaterThan(0.3); // ~0.5 is chance level
  });

  it('the sampled estimate over all points equals the exact value', () => {
    const low = data.filter((_, i) => i % 8 < 2);
    const all = Int32Array.from({ length: 200 }, (_, i) => i);
    expect(trustworthinessSampled(data, low, 200, 8, 2, 10, all)).toBeCloseTo(trustworthiness(data, low, 200, 8, 2, 10), 12);
  });
});

describe('umap', () => {
  it('tabulated gradient coefficients follow the exact formulas (relative error < 2e-4)', () => {
    const { a, b } = findABParams(1, 0.1);
    const { attraction, repulsion } = gradientCoefficients(a, b);
    let worst = 0;
    // 2^-30 .. 2^16 in steps of 2^(1/37): off-node points in every octave, and both ends of the tables.
    for (let e = -30 * 37; e <= 16 * 37; e++) {
      const q = 2 ** (e / 37);
      const pb = Math.pow(q, b);
      const att = (-2 * a * b * pb) / (q * (a * pb + 1));
      const rep = (2 * b) / ((0.001 + q) * (a * pb + 1));
      worst = Math.max(worst, Math.abs(attraction(q) / att - 1), Math.abs(repulsion(q) / rep - 1));
    }
    expect(worst).toBeLessThan(2e-4);
    expect(worst).toBeGreaterThan(0); // the tables are in use, not the formula everywhere
  });

  it('fits a, b of umap-learn for minDist 0.1, spread 1 (a = 1.577, b = 0.895)', () => {
    const { a, b } = findABParams(1, 0.1);
    expect(a).toBeCloseTo(1.577, 2);
    expect(b).toBeCloseTo(0.895, 2);
  });

  const n = 2000, d = 32;
  const { data, labels } = labelledBlobs(n, d, 10, 2.5, 1);

  for (const dim of [2, 3] as const) {
    it(`${dim}D: trustworthiness >= 0.9 and clusters stay separated (Gaussian blobs, n = ${n}, d = ${d})`, () => {
      const fractions: number[] = [];
      const y = umap(data, n, d, { nComponents: dim, seed: 7 }, (f) => fractions.push(f));
      expect(y.length).toBe(n * dim);
      expect(y.every(Number.isFinite)).toBeTrue();
      expect(trustworthiness(data, y, n, d, dim, 10)).toBeGreaterThanOrEqual(0.9);
      expect(labelAgreement(y, n, dim, labels)).toBeGreaterThanOrEqual(0.95);
      expect(fractions[fractions.length - 1]).toBe(1);
      for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    });
  }

  it('is deterministic for a seed and depends on it; approximate kNN path too', () => {
    const small = labelledBlobs(2500, 16, 5, 3, 2);
    const run = (seed: number): Float32Array => umap(small.data, 2500, 16, { nComponents: 2, seed, nEpochs: 60, knn: 'approximate' });
    const first = run(3);
    expect(run(3)).toEqual(first);
    expect(run(4)).not.toEqual(first);
  });

  it('uses a given init and the cosine metric', () => {
    const small = labelledBlobs(300, 8, 3, 4, 5);
    const init = new Float32Array(600).map((_, i) => (i * 0.618) % 1);
    const y = umap(small.data, 300, 8, { nComponents: 2, init, metric: 'cosine', nEpochs: 100 });
    expect(y.every(Number.isFinite)).toBeTrue();
    expect(labelAgreement(y, 300, 2, small.labels)).toBeGreaterThanOrEqual(0.9);
    expect(() => umap(small.data, 300, 8, { nComponents: 2, init: new Float32Array(5) })).toThrowError(/init/);
  });

  it('handles tiny inputs (n < nNeighbors + 1) and rejects bad ones clearly', () => {
    for (const tiny of [0, 1, 2, 3, 5, 15]) {
      const x = Float32Array.from({ length: tiny * 4 }, (_, i) => Math.sin(i));
      const y = umap(x, tiny, 4, { nComponents: 3 });
      expect(y.length).toBe(tiny * 3);
      expect(y.every(Number.isFinite)).toBeTrue();
    }
    expect(() => umap(new Float32Array(7), 2, 4, { nComponents: 2 })).toThrowError(/expected n=2 x d=4/);
    expect(() => umap(Float32Array.from([1, NaN, 0, 0, 1, 1]), 3, 2, { nComponents: 2 })).toThrowError(/non-finite/);
  });
});
