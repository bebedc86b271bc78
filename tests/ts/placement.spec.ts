import { jointLayout } from '../../src/layout/joint';
import { pca } from '../../src/layout/pca';
import { mergeLayouts, membershipWeights, nearestReference, placeAddedTokens, placeByNeighbours, placeByPCA } from '../../src/layout/placement';
import { umap } from '../../src/layout/umap';
import { gaussian, mulberry32 } from './helpers';

const D = 16;
const CLUSTERS = 5;

/** n points in Gaussian blobs (centres ~N(0, spread^2), unit noise), with labels. */
function blobs(n: number, seed: number, spread = 6): { data: Float32Array; labels: Int32Array } {
  const normal = gaussian(mulberry32(seed));
  const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: D }, () => spread * normal()));
  const data = new Float32Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % CLUSTERS;
    for (let t = 0; t < D; t++) data[i * D + t] = centres[labels[i]][t] + normal();
  }
  return { data, labels };
}

/** Split off the last `held` rows. */
function split(data: Float32Array, labels: Int32Array, held: number): { train: Float32Array; test: Float32Array; trainLabels: Int32Array; testLabels: Int32Array; n: number } {
  const n = labels.length - held;
  return { train: data.slice(0, n * D), test: data.slice(n * D), trainLabels: labels.slice(0, n), testLabels: labels.slice(n), n };
}

/** Fraction of placed points nearer their own cluster's 2D centroid than any other centroid. */
function regionAgreement(layout: Float32Array, labels: Int32Array, placed: Float32Array, placedLabels: Int32Array, dims: number): number {
  const centroids = new Float64Array(CLUSTERS * dims);
  const counts = new Float64Array(CLUSTERS);
  for (let i = 0; i < labels.length; i++) {
    counts[labels[i]]++;
    for (let c = 0; c < dims; c++) centroids[labels[i] * dims + c] += layout[i * dims + c];
  }
  for (let l = 0; l < CLUSTERS; l++) for (let c = 0; c < dims; c++) centroids[l * dims + c] /= counts[l];
  let good = 0;
  for (let i = 0; i < placedLabels.length; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let l = 0; l < CLUSTERS; l++) {
      let s = 0;
      for (let c = 0; c < dims; c++) s += (placed[i * dims + c] - centroids[l * dims + c]) ** 2;
      if (s < bestDist) [best, bestDist] = [l, s];
    }
    if (best === placedLabels[i]) good++;
  }
  return good / placedLabels.length;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

describe('out-of-sample placement', () => {
  const { data, labels } = blobs(450, 11);
  const { train, test, trainLabels, testLabels, n } = split(data, labels, 50);

  it('PCA: held-out points land in their cluster region', () => {
    const layout = pca(train, n, D, 2).coordinates;
    const placed = placeByPCA(train, n, D, test, 50, 2);
    expect(regionAgreement(layout, trainLabels, placed, testLabels, 2)).toBeGreaterThanOrEqual(0.9);
  });

  it('PCA placement is the exact projection: the training rows land on their layout positions', () => {
    const layout = pca(train, n, D, 3).coordinates;
    const placed = placeByPCA(train, n, D, train, n, 3);
    const scale = maxAbs(layout);
    for (let i = 0; i < layout.length; i++) expect(Math.abs(placed[i] - layout[i])).toBeLessThan(1e-5 * scale);
  });

  it('PCA placement is affine: a midpoint of two rows lands on the midpoint of their positions', () => {
    const layout = pca(train, n, D, 2).coordinates;
    const pairs = [[0, 1], [5, 200], [17, 399], [123, 321]];
    const mids = new Float32Array(pairs.length * D);
    pairs.forEach(([a, b], i) => {
      for (let t = 0; t < D; t++) mids[i * D + t] = (train[a * D + t] + train[b * D + t]) / 2;
    });
    const placed = placeByPCA(train, n, D, mids, pairs.length, 2);
    const scale = maxAbs(layout);
    pairs.forEach(([a, b], i) => {
      for (let c = 0; c < 2; c++) {
        expect(Math.abs(placed[i * 2 + c] - (layout[a * 2 + c] + layout[b * 2 + c]) / 2)).toBeLessThan(1e-5 * scale);
      }
    });
  });

  it('UMAP (seeded): held-out points land in their cluster region (>= 90%)', () => {
    const layout = umap(train, n, D, { nComponents: 2, seed: 42 });
    const placed = placeByNeighbours(train, n, D, layout, 2, test, 50);
    expect(regionAgreement(layout, trainLabels, placed, testLabels, 2)).toBeGreaterThanOrEqual(0.9);
    for (const v of placed) expect(Number.isFinite(v)).toBeTrue();
  });

  it('a point equal to a reference row takes exactly its position', () => {
    const layout = umap(train, n, D, { nComponents: 2, seed: 7 });
    const placed = placeByNeighbours(train, n, D, layout, 2, train.slice(10 * D, 11 * D), 1);
    expect(placed[0]).toBeCloseTo(layout[20], 6);
    expect(placed[1]).toBeCloseTo(layout[21], 6);
  });

  it('nearestReference equals a brute-force sort; weights sum to log2(k)', () => {
    const { indices, distances } = nearestReference(train, n, D, test, 50, 15);
    for (const i of [0, 13, 49]) {
      const order = Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let t = 0; t < D; t++) s += (test[i * D + t] - train[j * D + t]) ** 2;
        return [Math.sqrt(s), j] as const;
      }).sort((a, b) => a[0] - b[0]);
      expect(Array.from(indices.subarray(i * 15, i * 15 + 15))).toEqual(order.slice(0, 15).map(([, j]) => j));
      expect(distances[i * 15]).toBeCloseTo(order[0][0], 4);
      const weights = membershipWeights(distances.subarray(i * 15, i * 15 + 15));
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(Math.log2(15), 3);
    }
  });
});

describe('placeAddedTokens (normalized Q/K of a head)', () => {
  // Q and K of 120 tokens with keys offset from queries (the translation matters) and a
  // different scale (the norm equalisation matters).
  const nTokens = 120;
  const normal = gaussian(mulberry32(5));
  const queries = Float32Array.from({ length: nTokens * D }, () => 3 * normal() + 2);
  const keys = Float32Array.from({ length: nTokens * D }, () => 0.5 * normal() - 4);
  const original = { queries, keys, nTokens };
  const rows = [3, 40, 77, 119];
  const pick = (m: Float32Array): Float32Array => {
    const out = new Float32Array(rows.length * D);
    rows.forEach((r, i) => out.set(m.subarray(r * D, (r + 1) * D), i * D));
    return out;
  };
  const added = { queries: pick(queries), keys: pick(keys), nTokens: rows.length };

  for (const normalize of [true, false]) {
    it(`PCA (normalize=${normalize}): the capture's own tokens re-added land on their layout positions`, () => {
      const params = { method: 'pca' as const, dims: 2 as const, normalize, seed: 42 };
      const layout = jointLayout(queries, keys, nTokens, D, params);
      const placed = placeAddedTokens(original, added, D, layout, params);
      const scale = maxAbs(layout);
      rows.forEach((r, i) => {
        for (let c = 0; c < 2; c++) {
          expect(Math.abs(placed[i * 2 + c] - layout[r * 2 + c])).toBeLessThan(1e-5 * scale); // query
          expect(Math.abs(placed[(rows.length + i) * 2 + c] - layout[(nTokens + r) * 2 + c])).toBeLessThan(1e-5 * scale); // key
        }
      });
    });
  }

  it('UMAP: re-added tokens take their own positions (constants from the capture, not refitted)', () => {
    const params = { method: 'umap' as const, dims: 2 as const, normalize: true, seed: 42 };
    const layout = jointLayout(queries, keys, nTokens, D, params);
    const placed = placeAddedTokens(original, added, D, layout, params);
    rows.forEach((r, i) => {
      expect(placed[i * 2]).toBeCloseTo(layout[r * 2], 5);
      expect(placed[(rows.length + i) * 2 + 1]).toBeCloseTo(layout[(nTokens + r) * 2 + 1], 5);
    });
  });

  it('mergeLayouts orders queries then keys, capture rows before added rows', () => {
    const layout = Float32Array.from([1, 1, 2, 2, 3, 3, 4, 4]); // N=2: q0 q1 k0 k1
    const placed = Float32Array.from([5, 5, 6, 6]); // M=1: q2 k2
    expect(Array.from(mergeLayouts(layout, placed, 2, 1, 2))).toEqual([1, 1, 2, 2, 5, 5, 3, 3, 4, 4, 6, 6]);
  });

  it('bad shapes are named', () => {
    expect(() => placeAddedTokens(original, { ...added, nTokens: 5 }, D, new Float32Array(4 * nTokens), { method: 'pca', dims: 2, normalize: true })).toThrowError(/added queries/);
    expect(() => placeByNeighbours(new Float32Array(0), 0, D, new Float32Array(0), 2, new Float32Array(D), 1)).toThrowError(/no points/);
  });
});
