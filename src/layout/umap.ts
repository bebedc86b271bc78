/**
 * UMAP (McInnes, Healy & Melville 2018) on typed arrays, following umap-learn 0.5.
 *
 * 1. kNN graph: k = nNeighbors - 1 nearest other points (umap-learn counts the point
 *    itself among its n_neighbors); exact for small n, NN-descent otherwise (knn.ts).
 * 2. Fuzzy simplicial set: per point i, rho_i = distance to its nearest non-identical
 *    neighbour and sigma_i solving sum_j exp(-(d_ij - rho_i) / sigma_i) = log2(nNeighbors)
 *    (binary search, 64 steps); w_ij = exp(-max(0, d_ij - rho_i) / sigma_i). The graph is
 *    symmetrised by the fuzzy union w = w_ij + w_ji - w_ij w_ji and stored flat (CSR-like
 *    edge lists); edges below max(w) / nEpochs are dropped.
 * 3. Layout: minimise the fuzzy cross-entropy between the graph and the low-dimensional
 *    similarities q(y) = 1 / (1 + a |y_i - y_j|^(2b)), (a, b) fitted so that q matches
 *    1 for distances below minDist and exp(-(x - minDist) / spread) beyond, by
 *    stochastic gradient descent (umap_sgd.ts).
 *
 * Initialisation: `options.init`, or PCA of the data plus 1e-4 jitter; either is then
 * rescaled to [0, 10] per axis as umap-learn does. metric 'cosine' normalises rows and
 * uses d_cos = 1 - cos = |u - v|^2 / 2 on unit vectors.
 */
import { approximateKnn, exactKnn, type KnnResult } from './knn';
import { pca } from './pca';
import { Random } from '../compute/random';
import { optimizeLayout, type SgdProblem } from './umap_sgd';

export interface UMAPOptions {
  nComponents: 2 | 3;
  /** Neighbourhood size, counting the point itself as umap-learn does (default 15). */
  nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.1). */
  minDist?: number;
  /** Scale of the embedded clusters (default 1). */
  spread?: number;
  /** SGD epochs (default: defaultEpochs(n), umap-js's schedule). */
  nEpochs?: number;
  /** PRNG seed (default 42). */
  seed?: number;
  /** Optional [n, nComponents] starting layout (e.g. PCA); rescaled to [0, 10]. */
  init?: Float32Array;
  metric?: 'euclidean' | 'cosine';
  /** kNN method: 'auto' (exact up to 2,000 points), 'exact' or 'approximate'. */
  knn?: 'auto' | 'exact' | 'approximate';
  /** Random points repelled per attractive sample (default 5). */
  negativeSampleRate?: number;
}

/**
 * Default SGD epochs for n points: umap-js's schedule (500 up to 2,500 points, then
 * 400, 300, and 200 beyond 7,500). umap-learn runs 500 up to 10,000 points; on real
 * joint Q/K at 10,000 points 200 epochs reach the same trustworthiness (0.9880 vs
 * 0.9887, bench/layout) in 40% of the time, and the single-head view waits for this.
 */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

export type UMAPStage = 'knn' | 'graph' | 'optimize';

/**
 * Fit (a, b) of 1 / (1 + a x^(2b)) to the target curve (1 below minDist, exponential
 * decay beyond) on 300 points of [0, 3 spread] by Levenberg-Marquardt least squares.
 */
export function findABParams(spread: number, minDist: number): { a: number; b: number } {
  const m = 300;
  const xs = new Float64Array(m);
  const ys = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    xs[i] = (3 * spread * i) / (m - 1);
    ys[i] = xs[i] < minDist ? 1 : Math.exp(-(xs[i] - minDist) / spread);
  }
  const residual = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < m; i++) s += (1 / (1 + a * xs[i] ** (2 * b)) - ys[i]) ** 2;
    return s;
  };
  let a = 1;
  let b = 1;
  let lambda = 1e-3;
  let cost = residual(a, b);
  for (let iter = 0; iter < 200; iter++) {
    // Normal equations J^T J + lambda diag, J^T r.
    let jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (let i = 0; i < m; i++) {
      const x = xs[i];
      if (x <= 0) continue;
      const p = x ** (2 * b);
      const f = 1 / (1 + a * p);
      const r = f - ys[i];
      const da = -p * f * f;
      const db = -a * p * 2 * Math.log(x) * f * f;
      jaa += da * da; jab += da * db; jbb += db * db; ga += da * r; gb += db * r;
    }
    let improved = false;
    for (let tries = 0; tries < 20 && !improved; tries++) {
      const A = jaa * (1 + lambda), B = jbb * (1 + lambda);
      const det = A * B - jab * jab;
      const stepA = -(B * ga - jab * gb) / det;
      const stepB = -(A * gb - jab * ga) / det;
      const na = a + stepA, nb = b + stepB;
      const c = na > 0 && nb > 0 ? residual(na, nb) : Infinity;
      if (c < cost) {
        improved = Math.abs(cost - c) > 1e-14;
        a = na; b = nb; cost = c; lambda /= 3;
        if (!improved) return { a, b };
      } else lambda *= 4;
    }
    if (!improved) break;
  }
  return { a, b };
}

/** rho_i and sigma_i of every point (umap-learn's smooth_knn_dist, local connectivity 1). */
function smoothKnnDist(dist: Float32Array, n: number, k: number, nNeighbors: number): { rho: Float64Array; sigma: Float64Array } {
  const target = Math.log2(nNeighbors);
  const rho = new Float64Array(n);
  const sigma = new Float64Array(n);
  let meanAll = 0;
  for (let t = 0; t < dist.length; t++) meanAll += dist[t];
  meanAll /= Math.max(dist.length, 1);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let rowSum = 0;
    for (let t = 0; t < k; t++) {
      rowSum += dist[base + t];
      if (rho[i] === 0 && dist[base + t] > 0) rho[i] = dist[base + t];
    }
    let lo = 0, hi = Infinity, mid = 1;
    for (let iter = 0; iter < 64; iter++) {
      let psum = 0;
      for (let t = 0; t < k; t++) {
        const dd = dist[base + t] - rho[i];
        psum += dd > 0 ? Math.exp(-dd / mid) : 1;
      }
      if (Math.abs(psum - target) < 1e-5) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    // The row mean includes the point itself at distance 0, as in umap-learn.
    const floor = 1e-3 * (rho[i] > 0 ? rowSum / (k + 1) : meanAll);
    sigma[i] = Math.max(mid, floor);
  }
  return { rho, sigma };
}

/** Directed edge lists (both directions) of the fuzzy union of the membership graph. */
export function fuzzyGraph(knn: KnnResult, n: number, k: number, nNeighbors: number): { head: Int32Array; tail: Int32Array; weight: Float32Array } {
  const { rho, sigma } = smoothKnnDist(knn.distances, n, k, nNeighbors);
  const forward = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const dd = knn.distances[i * k + t] - rho[i];
      forward[i * k + t] = dd <= 0 || sigma[i] === 0 ? 1 : Math.exp(-dd / sigma[i]);
    }
  }
  // Reverse adjacency by counting sort: revStart[j].. lists (i, w_ij) for edges i -> j.
  const revStart = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) revStart[knn.indices[e] + 1]++;
  for (let j = 0; j < n; j++) revStart[j + 1] += revStart[j];
  const fill = revStart.slice(0, n);
  const revFrom = new Int32Array(n * k);
  const revW = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = knn.indices[i * k + t];
      revFrom[fill[j]] = i;
      revW[fill[j]++] = forward[i * k + t];
    }
  }
  const head = new Int32Array(2 * n * k);
  const tail = new Int32Array(2 * n * k);
  const weight = new Float32Array(2 * n * k);
  const slot = new Int32Array(n).fill(-1);
  const stamp = new Int32Array(n).fill(-1);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = knn.indices[i * k + t];
      stamp[j] = i;
      slot[j] = m;
      head[m] = i;
      tail[m] = j;
      weight[m++] = forward[i * k + t];
    }
    for (let r = revStart[i]; r < revStart[i + 1]; r++) {
      const j = revFrom[r];
      const w = revW[r];
      if (stamp[j] === i) {
        const a = weight[slot[j]];
        weight[slot[j]] = a + w - a * w;
      } else {
        head[m] = i;
        tail[m] = j;
        weight[m++] = w;
      }
    }
  }
  return { head: head.slice(0, m), tail: tail.slice(0, m), weight: weight.slice(0, m) };
}

function initialLayout(data: Float32Array, n: number, d: number, dim: number, options: UMAPOptions, rng: Random): Float32Array {
  let y: Float32Array;
  if (options.init) {
    if (options.init.length !== n * dim) throw new Error(`umap: init has ${options.init.length} values, expected ${n} x ${dim}`);
    y = new Float32Array(options.init);
  } else {
    y = pca(data, n, d, dim).coordinates;
  }
  // Rescale each axis to [0, 10]; jitter separates coincident points.
  for (let c = 0; c < dim; c++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, y[i * dim + c]);
      hi = Math.max(hi, y[i * dim + c]);
    }
    const scale = hi > lo ? 10 / (hi - lo) : 0;
    for (let i = 0; i < n; i++) y[i * dim + c] = (y[i * dim + c] - lo) * scale + (options.init ? 0 : 1e-4 * rng.normal()) + (scale === 0 ? rng.float() * 10 : 0);
  }
  return y;
}

/** UMAP layout [n, nComponents] of row-major data [n, d]. Pure and deterministic for a seed. */
export function umap(data: Float32Array, n: number, d: number, options: UMAPOptions, onProgress?: (fraction: number, stage: UMAPStage) => void): Float32Array {
  const problem = umapProblem(data, n, d, options, onProgress);
  if (problem instanceof Float32Array) return problem;
  return optimizeLayout(problem, (f) => onProgress?.(0.25 + 0.75 * f, 'optimize'));
}

/**
 * Steps 1 and 2 and the start layout: what the SGD (umap_sgd.ts) needs, or the layout
 * itself when there is nothing to optimise (n <= 2). Reports progress up to 0.25.
 */
function umapProblem(data: Float32Array, n: number, d: number, options: UMAPOptions, onProgress?: (fraction: number, stage: UMAPStage) => void): SgdProblem | Float32Array {
  const dim = options.nComponents;
  if (dim !== 2 && dim !== 3) throw new Error(`umap: nComponents must be 2 or 3, got ${dim}`);
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1 || data.length !== n * d) {
    throw new Error(`umap: data has ${data.length} values, expected n=${n} x d=${d}`);
  }
  for (let t = 0; t < data.length; t++) if (!Number.isFinite(data[t])) throw new Error(`umap: data has a non-finite value at row ${Math.floor(t / d)}`);
  const nNeighbors = options.nNeighbors ?? 15;
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) throw new Error(`umap: nNeighbors must be an integer >= 2, got ${nNeighbors}`);
  const rng = new Random(options.seed ?? 42);
  if (n <= 2) {
    // Nothing to optimise: 0, 1 or 2 points on a line.
    const out = new Float32Array(n * dim);
    if (n === 2) out[dim] = 1;
    onProgress?.(1, 'optimize');
    return out;
  }
  const nEpochs = options.nEpochs ?? defaultEpochs(n);
  const k = Math.min(nNeighbors, n) - 1;

  onProgress?.(0, 'knn');
  let x = data;
  if (options.metric === 'cosine') {
    x = new Float32Array(data);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < d; t++) x[i * d + t] *= inv;
    }
  }
  const method = options.knn ?? 'auto';
  const knn = method === 'exact' || (method === 'auto' && n <= 2000) ? exactKnn(x, n, d, k) : approximateKnn(x, n, d, k, rng.seed());
  if (options.metric === 'cosine') for (let t = 0; t < knn.distances.length; t++) knn.distances[t] = (knn.distances[t] * knn.distances[t]) / 2;
  onProgress?.(0.2, 'graph');

  const graph = fuzzyGraph(knn, n, k, nNeighbors);
  const { a, b } = findABParams(options.spread ?? 1, options.minDist ?? 0.1);
  const init = initialLayout(x, n, d, dim, options, rng);
  onProgress?.(0.25, 'optimize');
  return { init, n, dim, graph, a, b, nEpochs, negativeRate: options.negativeSampleRate ?? 5, seed: rng.seed() };
}
