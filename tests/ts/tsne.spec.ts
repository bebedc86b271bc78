import { jointProbabilities, tsne } from '../../src/layout/tsne';
import { trustworthiness } from '../../src/layout/trustworthiness';
import { exactKnn } from '../../src/layout/knn';
import { gaussian, mulberry32 } from './helpers';

// (Same generators as umap.spec.ts; importing a spec would register its suites twice.)
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

function labelAgreement(low: Float32Array, n: number, dim: number, labels: Int32Array, k = 10): number {
  const { indices } = exactKnn(low, n, dim, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (labels[indices[i * k + t]] === labels[i]) same++;
  return same / (n * k);
}

describe('tsne', () => {
  it('P is symmetric, non-negative and sums to 1', () => {
    const { data } = labelledBlobs(200, 6, 3, 3, 8);
    const P = jointProbabilities(data, 200, 6, 10, 1);
    let total = 0;
    const entry = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      for (let e = P.rowStart[i]; e < P.rowStart[i + 1]; e++) {
        expect(P.val[e]).toBeGreaterThanOrEqual(0);
        expect(P.col[e]).not.toBe(i);
        total += P.val[e];
        entry.set(`${i},${P.col[e]}`, P.val[e]);
      }
    }
    expect(total).toBeCloseTo(1, 10);
    for (const [key, v] of entry) {
      const [i, j] = key.split(',');
      expect(entry.get(`${j},${i}`)).withContext(key).toBeCloseTo(v, 14);
    }
  });

  it('2D: trustworthiness >= 0.9 and clusters stay separated (Gaussian blobs, n = 800, d = 32)', () => {
    const n = 800, d = 32;
    const { data, labels } = labelledBlobs(n, d, 8, 2.5, 1);
    const fractions: number[] = [];
    const y = tsne(data, n, d, { nComponents: 2, seed: 3 }, (f) => fractions.push(f));
    expect(y.every(Number.isFinite)).toBeTrue();
    expect(trustworthiness(data, y, n, d, 2, 10)).toBeGreaterThanOrEqual(0.9);
    expect(labelAgreement(y, n, 2, labels)).toBeGreaterThanOrEqual(0.95);
    expect(fractions[fractions.length - 1]).toBe(1);
  });

  it('3D: trustworthiness >= 0.9 (n = 400)', () => {
    const { data, labels } = labelledBlobs(400, 16, 4, 3, 2);
    const y = tsne(data, 400, 16, { nComponents: 3, nIterations: 400 });
    expect(y.length).toBe(1200);
    expect(trustworthiness(data, y, 400, 16, 3, 10)).toBeGreaterThanOrEqual(0.9);
    expect(labelAgreement(y, 400, 3, labels)).toBeGreaterThanOrEqual(0.95);
  });

  it('is deterministic for a seed, and handles tiny and bad inputs', () => {
    const { data } = labelledBlobs(150, 5, 3, 3, 4);
    const run = (seed: number): Float32Array => tsne(data, 150, 5, { nComponents: 2, seed, nIterations: 120 });
    const first = run(1);
    expect(run(1)).toEqual(first);
    expect(run(2)).not.toEqual(first);
    for (const tiny of [0, 1, 2, 3, 7]) {
      const y = tsne(data.subarray(0, tiny * 5), tiny, 5, { nComponents: 2, nIterations: 50 });
      expect(y.length).toBe(tiny * 2);
      expect(y.every(Number.isFinite)).toBeTrue();
    }
    expect(() => tsne(Float32Array.from([0, Infinity, 1, 2]), 2, 2, { nComponents: 2 })).toThrowError(/non-finite/);
  });
});
