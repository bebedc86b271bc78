import { approximateKnn, exactKnn } from '../../src/layout/knn';
import { gaussian, mulberry32 } from './helpers';

/** n points in `clusters` Gaussian blobs (centres ~N(0, spread^2), unit noise) in d dimensions. */
function blobs(n: number, d: number, clusters: number, spread: number, seed: number): Float32Array {
  const normal = gaussian(mulberry32(seed));
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => spread * normal()));
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) data[i * d + t] = centres[i % clusters][t] + normal();
  return data;
}

function bruteForce(data: Float32Array, n: number, d: number, i: number): { j: number; dist: number }[] {
  const out: { j: number; dist: number }[] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let t = 0; t < d; t++) s += (data[i * d + t] - data[j * d + t]) ** 2;
    out.push({ j, dist: Math.sqrt(s) });
  }
  return out.sort((a, b) => a.dist - b.dist);
}

describe('knn', () => {
  it('exactKnn matches a sort of all distances, self excluded, rows ascending', () => {
    const n = 300, d = 7, k = 9;
    const data = blobs(n, d, 3, 2, 11);
    const { indices, distances } = exactKnn(data, n, d, k);
    expect(indices.length).toBe(n * k);
    for (let i = 0; i < n; i++) {
      const truth = bruteForce(data, n, d, i).slice(0, k);
      for (let t = 0; t < k; t++) {
        expect(indices[i * k + t]).not.toBe(i);
        expect(distances[i * k + t]).toBeCloseTo(truth[t].dist, 4);
        if (t > 0) expect(distances[i * k + t]).toBeGreaterThanOrEqual(distances[i * k + t - 1]);
      }
    }
  });

  it('exactKnn on a line: neighbours are the adjacent points', () => {
    const data = Float32Array.from([0, 1, 3, 7, 12]); // gaps 1, 2, 4, 5
    const { indices, distances } = exactKnn(data, 5, 1, 2);
    expect(Array.from(indices.subarray(0, 2))).toEqual([1, 2]);
    expect(Array.from(distances.subarray(0, 2))).toEqual([1, 3]);
    expect(Array.from(indices.subarray(4, 6))).toEqual([1, 0]); // point 2 (at 3): 1 at 2, 0 at 3, 3 at 4
    expect(Array.from(distances.subarray(4, 6))).toEqual([2, 3]);
    expect(Array.from(indices.subarray(8, 10))).toEqual([3, 2]);
  });

  it('approximateKnn recall >= 0.9 at k = 15 on clustered data (n = 3000, d = 32)', () => {
    const n = 3000, d = 32, k = 15;
    const data = blobs(n, d, 12, 3, 5);
    const exact = exactKnn(data, n, d, k);
    const approx = approximateKnn(data, n, d, k, 42);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.indices.subarray(i * k, (i + 1) * k));
      const row = approx.indices.subarray(i * k, (i + 1) * k);
      expect(new Set(row).size).toBe(k); // no duplicates
      for (const j of row) {
        expect(j).not.toBe(i);
        if (truth.has(j)) hits++;
      }
      for (let t = 1; t < k; t++) expect(approx.distances[i * k + t]).toBeGreaterThanOrEqual(approx.distances[i * k + t - 1]);
    }
    const recall = hits / (n * k);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    // Same seed, same graph.
    expect(approximateKnn(data, n, d, k, 42).indices).toEqual(approx.indices);
  });

  it('rejects k >= n and mismatched shapes', () => {
    expect(() => exactKnn(new Float32Array(6), 3, 2, 3)).toThrowError(/at least 4 points/);
    expect(() => approximateKnn(new Float32Array(5), 3, 2, 1, 1)).toThrowError(/expected 3 x 2/);
  });
});
