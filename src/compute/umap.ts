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
 *    1 for distances below minDist and exp(-(x - minDist) / spread) beyond. Stochastic
 *    gradient descent over nEpochs with learning rate alpha = 1 - epoch / nEpochs: edge e
 *    is sampled every max(w) / w_e epochs ("epochs per sample") and pulled together by
 *    the attractive gradient -2ab d^(2(b-1)) / (1 + a d^(2b)) (y_i - y_j); each sample
 *    draws 5 random points pushed away by 2b / ((0.001 + d^2)(1 + a d^(2b))) (y_i - y_k)
 *    (summed at one position of y_i, see optimizeLayout). Gradients are clipped to
 *    [-4, 4] per coordinate. The two gradient coefficients are read from interpolated
 *    log-spaced tables in d^2 (see coefficientTables); the layout is kept in float64
 *    during SGD and returned as float32.
 *
 * Initialisation: `options.init`, or PCA of the data plus 1e-4 jitter; either is then
 * rescaled to [0, 10] per axis as umap-learn does. metric 'cosine' normalises rows and
 * uses d_cos = 1 - cos = |u - v|^2 / 2 on unit vectors.
 */
import { approximateKnn, exactKnn, type KnnResult } from './knn';
import { pca } from './pca';
import { Random } from './random';

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
  const y = initialLayout(x, n, d, dim, options, rng);
  onProgress?.(0.25, 'optimize');
  optimizeLayout(y, n, dim, graph, a, b, nEpochs, options.negativeSampleRate ?? 5, rng.seed(), (f) => onProgress?.(0.25 + 0.75 * f, 'optimize'));
  return y;
}

/**
 * Gradient coefficients as functions of the squared distance q = |y_i - y_j|^2,
 * tabulated (Math.pow, sqrt and the division cost far more than a lookup in V8):
 * attraction 2ab q^(b-1) / (1 + a q^b), repulsion 2b / ((0.001 + q)(1 + a q^b)).
 * The tables are log-spaced, indexed by the float32 bit pattern of q (exponent and
 * the top TABLE_BITS mantissa bits), so a lookup is a store, a load, a shift and no
 * branch on the range of q; values are interpolated linearly in q between nodes.
 * Nodes are q (1 + i / 64) 2^e: relative spacing <= 1/64, so the relative
 * interpolation error (h / q)^2 |f'' q^2 / f| / 8 is below 2e-4 for both curves
 * (f'' q^2 / f <= 5.5 for q^-(1+b)). Outside [2^-24, 2^12) the exact formula is used.
 */
const TABLE_BITS = 6;
const TABLE_SHIFT = 23 - TABLE_BITS;
const TABLE_LOW = (127 - 24) << 23; // float32 bits of 2^-24
const TABLE_HIGH = (127 + 12) << 23; // float32 bits of 2^12
const TABLE_MIN_Q = 2 ** -24;
const TABLE_MAX_Q = 2 ** 12;
const TABLE_SIZE = ((TABLE_HIGH - TABLE_LOW) >> TABLE_SHIFT) + 2;
const TABLE_STEP = 1 / (1 << TABLE_SHIFT);
const TABLE_MASK = (1 << TABLE_SHIFT) - 1;
// Scratch views over one float32: how a float's bits are read in JavaScript.
const scratchFloat = new Float32Array(1);
const scratchBits = new Int32Array(scratchFloat.buffer);

function coefficientTables(a: number, b: number): { att: Float64Array; rep: Float64Array } {
  const make = (f: (q: number) => number): Float64Array => {
    const t = new Float64Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) {
      scratchBits[0] = TABLE_LOW + (i << TABLE_SHIFT);
      t[i] = f(scratchFloat[0]);
    }
    return t;
  };
  return {
    att: make((q) => (2 * a * b * Math.pow(q, b - 1)) / (1 + a * Math.pow(q, b))),
    rep: make((q) => (2 * b) / ((0.001 + q) * (1 + a * Math.pow(q, b)))),
  };
}

/** Table lookup (see coefficientTables) for TABLE_MIN_Q <= q < TABLE_MAX_Q. */
function lookup(t: Float64Array, q: number): number {
  scratchFloat[0] = q;
  const bits = scratchBits[0] - TABLE_LOW;
  const i = bits >> TABLE_SHIFT;
  const lo = t[i];
  return lo + (bits & TABLE_MASK) * TABLE_STEP * (t[i + 1] - lo);
}

/**
 * The SGD's gradient coefficients at squared distance q, as the inner loop computes
 * them (tables in range, exact formula outside): attraction (negative) and repulsion.
 */
export function gradientCoefficients(a: number, b: number): { attraction: (q: number) => number; repulsion: (q: number) => number } {
  const tables = coefficientTables(a, b);
  return { attraction: (q) => attraction(q, a, b, tables), repulsion: (q) => repulsion(q, a, b, tables) };
}

interface Schedule {
  head: Int32Array; tail: Int32Array; m: number;
  eps: Float64Array; nextSample: Float64Array; epsNeg: Float64Array; nextNeg: Float64Array;
}
type Tables = ReturnType<typeof coefficientTables>;

/** Coefficient of the attraction gradient at squared distance d2 > 0 (negative). */
function attraction(d2: number, a: number, b: number, t: Tables): number {
  if (d2 >= TABLE_MIN_Q && d2 < TABLE_MAX_Q) return -lookup(t.att, d2);
  const pb = Math.pow(d2, b);
  return (-2 * a * b * pb) / (d2 * (a * pb + 1));
}

/** Coefficient of the repulsion gradient at squared distance q2 > 0 (positive). */
function repulsion(q2: number, a: number, b: number, t: Tables): number {
  if (q2 >= TABLE_MIN_Q && q2 < TABLE_MAX_Q) return lookup(t.rep, q2);
  return (2 * b) / ((0.001 + q2) * (a * Math.pow(q2, b) + 1));
}

/**
 * One epoch of SGD on a 2D layout (x, y interleaved, Float64Array). The 2D and 3D
 * versions are written out so the coordinates of the moving point stay in registers.
 * Returns the xorshift32 state.
 */
function epoch2(y: Float64Array, n: number, sc: Schedule, epoch: number, alpha: number, a: number, b: number, t: Tables, seed: number): number {
  const { head, tail, m, eps, nextSample, epsNeg, nextNeg } = sc;
  let s = seed;
  for (let e = 0; e < m; e++) {
    if (nextSample[e] > epoch) continue;
    const j = head[e] * 2;
    const k = tail[e] * 2;
    let y0 = y[j], y1 = y[j + 1];
    const dx = y0 - y[k], dy = y1 - y[k + 1];
    const d2 = dx * dx + dy * dy;
    if (d2 > 0) {
      const coeff = attraction(d2, a, b, t);
      let g0 = coeff * dx, g1 = coeff * dy;
      g0 = (g0 > 4 ? 4 : g0 < -4 ? -4 : g0) * alpha;
      g1 = (g1 > 4 ? 4 : g1 < -4 ? -4 : g1) * alpha;
      y0 += g0; y1 += g1;
      y[k] -= g0; y[k + 1] -= g1;
    }
    nextSample[e] += eps[e];
    const nNeg = Math.floor((epoch - nextNeg[e]) / epsNeg[e]);
    nextNeg[e] += nNeg * epsNeg[e];
    let r0 = 0, r1 = 0; // repulsions summed, all taken at the same y_j (see optimizeLayout)
    for (let p = 0; p < nNeg; p++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const o = (((s >>> 0) * n * 2.3283064365386963e-10) | 0) * 2;
      if (o === j) continue;
      const ex = y0 - y[o], ey = y1 - y[o + 1];
      const q2 = ex * ex + ey * ey;
      if (q2 <= 0) continue;
      const coeff = repulsion(q2, a, b, t);
      const g0 = coeff * ex, g1 = coeff * ey;
      r0 += g0 > 4 ? 4 : g0 < -4 ? -4 : g0;
      r1 += g1 > 4 ? 4 : g1 < -4 ? -4 : g1;
    }
    y[j] = y0 + r0 * alpha; y[j + 1] = y1 + r1 * alpha;
  }
  return s;
}

/** epoch2 for 3D layouts. */
function epoch3(y: Float64Array, n: number, sc: Schedule, epoch: number, alpha: number, a: number, b: number, t: Tables, seed: number): number {
  const { head, tail, m, eps, nextSample, epsNeg, nextNeg } = sc;
  let s = seed;
  for (let e = 0; e < m; e++) {
    if (nextSample[e] > epoch) continue;
    const j = head[e] * 3;
    const k = tail[e] * 3;
    let y0 = y[j], y1 = y[j + 1], y2 = y[j + 2];
    const dx = y0 - y[k], dy = y1 - y[k + 1], dz = y2 - y[k + 2];
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 > 0) {
      const coeff = attraction(d2, a, b, t);
      let g0 = coeff * dx, g1 = coeff * dy, g2 = coeff * dz;
      g0 = (g0 > 4 ? 4 : g0 < -4 ? -4 : g0) * alpha;
      g1 = (g1 > 4 ? 4 : g1 < -4 ? -4 : g1) * alpha;
      g2 = (g2 > 4 ? 4 : g2 < -4 ? -4 : g2) * alpha;
      y0 += g0; y1 += g1; y2 += g2;
      y[k] -= g0; y[k + 1] -= g1; y[k + 2] -= g2;
    }
    nextSample[e] += eps[e];
    const nNeg = Math.floor((epoch - nextNeg[e]) / epsNeg[e]);
    nextNeg[e] += nNeg * epsNeg[e];
    let r0 = 0, r1 = 0, r2 = 0;
    for (let p = 0; p < nNeg; p++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const o = (((s >>> 0) * n * 2.3283064365386963e-10) | 0) * 3;
      if (o === j) continue;
      const ex = y0 - y[o], ey = y1 - y[o + 1], ez = y2 - y[o + 2];
      const q2 = ex * ex + ey * ey + ez * ez;
      if (q2 <= 0) continue;
      const coeff = repulsion(q2, a, b, t);
      const g0 = coeff * ex, g1 = coeff * ey, g2 = coeff * ez;
      r0 += g0 > 4 ? 4 : g0 < -4 ? -4 : g0;
      r1 += g1 > 4 ? 4 : g1 < -4 ? -4 : g1;
      r2 += g2 > 4 ? 4 : g2 < -4 ? -4 : g2;
    }
    y[j] = y0 + r0 * alpha; y[j + 1] = y1 + r1 * alpha; y[j + 2] = y2 + r2 * alpha;
  }
  return s;
}

/**
 * The SGD of step 3 (in place on y). One difference from umap-learn: the negative
 * samples of an edge are all evaluated at the same position of y_j and their clipped
 * gradients applied together, instead of moving y_j after each one. The sequential
 * form makes every sample wait for the previous one (a dependency chain through the
 * table lookup); the summed form lets the CPU overlap them, about 10% of SGD time.
 * Trustworthiness on real Q/K is unchanged (bench/layout).
 */
function optimizeLayout(
  y: Float32Array, n: number, dim: number,
  graph: { head: Int32Array; tail: Int32Array; weight: Float32Array },
  a: number, b: number, nEpochs: number, negativeRate: number, seed: number,
  onProgress: (fraction: number) => void,
): void {
  let wMax = 0;
  for (let e = 0; e < graph.weight.length; e++) wMax = Math.max(wMax, graph.weight[e]);
  // Drop edges that would be sampled less than once; epochs between samples = wMax / w.
  let m = 0;
  const head = new Int32Array(graph.head.length);
  const tail = new Int32Array(graph.head.length);
  const eps = new Float64Array(graph.head.length);
  for (let e = 0; e < graph.weight.length; e++) {
    if (graph.weight[e] < wMax / nEpochs) continue;
    head[m] = graph.head[e];
    tail[m] = graph.tail[e];
    eps[m++] = wMax / graph.weight[e];
  }
  const epsNeg = new Float64Array(m);
  for (let e = 0; e < m; e++) epsNeg[e] = eps[e] / negativeRate;
  const sc: Schedule = { head, tail, m, eps, nextSample: eps.slice(0, m), epsNeg, nextNeg: epsNeg.slice() };
  const tables = coefficientTables(a, b);
  const pos = Float64Array.from(y); // float64 working copy: no float32 rounding per update
  let s = seed | 0 || 1; // xorshift32 state for negative samples
  const progressEvery = Math.max(1, Math.floor(nEpochs / 100));
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    const alpha = 1 - epoch / nEpochs;
    s = dim === 2 ? epoch2(pos, n, sc, epoch, alpha, a, b, tables, s) : epoch3(pos, n, sc, epoch, alpha, a, b, tables, s);
    if ((epoch + 1) % progressEvery === 0 || epoch === nEpochs - 1) onProgress((epoch + 1) / nEpochs);
  }
  y.set(pos);
}
