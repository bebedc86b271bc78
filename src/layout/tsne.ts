/**
 * Barnes-Hut t-SNE (van der Maaten 2014) on typed arrays, with sklearn's defaults.
 *
 * Input affinities: for each point i, the k = min(n - 1, 3 perplexity + 1) nearest
 * neighbours (exact up to 2,000 points, NN-descent beyond), p_{j|i} = exp(-beta_i d_ij^2)
 * / sum, beta_i by binary search so that the entropy of p_{.|i} is log(perplexity);
 * then P = (p_{j|i} + p_{i|j}) / sum, sparse.
 * Output similarities: w_ij = 1 / (1 + |y_i - y_j|^2), q_ij = w_ij / Z, Z = sum_{k!=l} w_kl.
 * Gradient of KL(P || Q): dC/dy_i = 4 [ sum_j p_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z ],
 * the attractive sum over the sparse P, the repulsive sum (and Z) by Barnes-Hut on a
 * quadtree (2D) / octree (3D): a cell of side s at distance r from y_i whose s / r < theta
 * (0.5) counts as all its points at their centre of mass.
 * Optimisation as sklearn: PCA init scaled to std 1e-4, early exaggeration 12 for the
 * first 250 iterations with momentum 0.5, then momentum 0.8; learning rate 'auto' =
 * max(n / 12 / 4, 50); per-coordinate gains (+0.2 when the gradient changes sign, x0.8
 * otherwise, floor 0.01).
 */
import { approximateKnn, exactKnn } from './knn';
import { pca } from './pca';
import { Random } from '../compute/random';

export interface TSNEOptions {
  nComponents: 2 | 3;
  /** Effective number of neighbours (default 30; capped at (n - 1) / 3). */
  perplexity?: number;
  /** Gradient steps (default 750). */
  nIterations?: number;
  learningRate?: number | 'auto';
  seed?: number;
  /** Barnes-Hut accuracy, 0 = exact (default 0.5). */
  theta?: number;
}

/** Sparse symmetric P as CSR (rowStart [n + 1], col, val). */
export function jointProbabilities(data: Float32Array, n: number, d: number, perplexity: number, seed: number): { rowStart: Int32Array; col: Int32Array; val: Float64Array } {
  const k = Math.min(n - 1, Math.floor(3 * perplexity + 1));
  const knn = n <= 2000 ? exactKnn(data, n, d, k) : approximateKnn(data, n, d, k, seed);
  const cond = new Float64Array(n * k);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let beta = 1, lo = -Infinity, hi = Infinity;
    for (let iter = 0; iter < 100; iter++) {
      let sum = 0, sumDP = 0;
      for (let t = 0; t < k; t++) {
        const d2 = knn.distances[base + t] ** 2;
        const p = Math.exp(-d2 * beta);
        cond[base + t] = p;
        sum += p;
        sumDP += d2 * p;
      }
      if (sum === 0) sum = 1e-8;
      const entropy = Math.log(sum) + (beta * sumDP) / sum;
      for (let t = 0; t < k; t++) cond[base + t] /= sum;
      const diff = entropy - target;
      if (Math.abs(diff) <= 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  // P + P^T: row i holds its own k entries plus the reverse edges, summed where both exist.
  const revCount = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) revCount[knn.indices[e] + 1]++;
  for (let j = 0; j < n; j++) revCount[j + 1] += revCount[j];
  const fill = revCount.slice(0, n);
  const revFrom = new Int32Array(n * k);
  const revVal = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = knn.indices[i * k + t];
      revFrom[fill[j]] = i;
      revVal[fill[j]++] = cond[i * k + t];
    }
  }
  const rowStart = new Int32Array(n + 1);
  const col = new Int32Array(2 * n * k);
  const val = new Float64Array(2 * n * k);
  const slot = new Int32Array(n);
  const stamp = new Int32Array(n).fill(-1);
  let m = 0, total = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = knn.indices[i * k + t];
      stamp[j] = i;
      slot[j] = m;
      col[m] = j;
      val[m++] = cond[i * k + t];
    }
    for (let r = revCount[i]; r < revCount[i + 1]; r++) {
      const j = revFrom[r];
      if (stamp[j] === i) val[slot[j]] += revVal[r];
      else {
        col[m] = j;
        val[m++] = revVal[r];
      }
    }
    rowStart[i + 1] = m;
  }
  for (let e = 0; e < m; e++) total += val[e];
  for (let e = 0; e < m; e++) val[e] /= Math.max(total, 1e-300);
  return { rowStart, col: col.slice(0, m), val: val.slice(0, m) };
}

/** A 2^dim-ary space-partitioning tree over the current layout, in flat arrays. */
class BHTree {
  size = 0;
  child = new Int32Array(0); // first child index, -1 for a leaf
  count = new Int32Array(0);
  width = new Float64Array(0); // cell side length
  com: Float64Array = new Float64Array(0); // centre of mass [node * dim + c]
  private order: Int32Array;
  private scratch: Int32Array;

  constructor(private readonly dim: number, n: number) {
    this.order = new Int32Array(n);
    this.scratch = new Int32Array(n);
    this.grow(4 * n + 16);
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Float64Array>(a: T, len: number): T => {
      const b = new (a.constructor as { new (l: number): T })(len);
      b.set(a.subarray(0, Math.min(a.length, len)) as never);
      return b;
    };
    this.child = copy(this.child, capacity);
    this.count = copy(this.count, capacity);
    this.width = copy(this.width, capacity);
    this.com = copy(this.com, capacity * this.dim);
  }

  build(y: Float64Array, n: number): void {
    const dim = this.dim, fan = 1 << dim;
    const lo = new Float64Array(dim).fill(Infinity), hi = new Float64Array(dim).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      this.order[i] = i;
      for (let c = 0; c < dim; c++) {
        lo[c] = Math.min(lo[c], y[i * dim + c]);
        hi[c] = Math.max(hi[c], y[i * dim + c]);
      }
    }
    let side = 0;
    for (let c = 0; c < dim; c++) side = Math.max(side, hi[c] - lo[c]);
    side = side * (1 + 1e-6) + 1e-12;
    // Stack entries: node, lo, hi (range in order), depth, cell corner.
    const stack: number[] = [];
    this.size = 1;
    stack.push(0, 0, n, 0, ...lo);
    const bucketStart = new Int32Array(fan + 1);
    while (stack.length > 0) {
      const entry = stack.splice(stack.length - 4 - dim, 4 + dim);
      const [node, a, b, depth] = entry;
      const corner = entry.slice(4);
      const w = side / 2 ** depth;
      this.width[node] = w;
      this.count[node] = b - a;
      for (let c = 0; c < dim; c++) {
        let s = 0;
        for (let t = a; t < b; t++) s += y[this.order[t] * dim + c];
        this.com[node * dim + c] = s / (b - a);
      }
      if (b - a <= 1 || depth >= 48) {
        this.child[node] = -1;
        continue;
      }
      // Bucket the points by child cell (bit c set = upper half along axis c).
      bucketStart.fill(0);
      const half = w / 2;
      for (let t = a; t < b; t++) {
        const p = this.order[t];
        let q = 0;
        for (let c = 0; c < dim; c++) if (y[p * dim + c] >= corner[c] + half) q |= 1 << c;
        this.scratch[t] = q;
        bucketStart[q + 1]++;
      }
      for (let q = 0; q < fan; q++) bucketStart[q + 1] += bucketStart[q];
      const sorted = new Int32Array(b - a);
      const pos = bucketStart.slice();
      for (let t = a; t < b; t++) sorted[pos[this.scratch[t]]++] = this.order[t];
      this.order.set(sorted, a);
      if (this.size + fan > this.child.length) this.grow(2 * this.child.length);
      const first = this.size;
      this.size += fan;
      this.child[node] = first;
      for (let q = 0; q < fan; q++) {
        const s = a + bucketStart[q], e = a + bucketStart[q + 1];
        this.count[first + q] = 0;
        this.child[first + q] = -1;
        if (e === s) continue;
        stack.push(first + q, s, e, depth + 1);
        for (let c = 0; c < dim; c++) stack.push(corner[c] + ((q >> c) & 1) * half);
      }
    }
  }
}

/** t-SNE layout [n, nComponents] of row-major data [n, d]. Pure and deterministic for a seed. */
export function tsne(data: Float32Array, n: number, d: number, options: TSNEOptions, onProgress?: (fraction: number) => void): Float32Array {
  const dim = options.nComponents;
  if (dim !== 2 && dim !== 3) throw new Error(`tsne: nComponents must be 2 or 3, got ${dim}`);
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1 || data.length !== n * d) {
    throw new Error(`tsne: data has ${data.length} values, expected n=${n} x d=${d}`);
  }
  for (let t = 0; t < data.length; t++) if (!Number.isFinite(data[t])) throw new Error(`tsne: data has a non-finite value at row ${Math.floor(t / d)}`);
  const rng = new Random(options.seed ?? 42);
  if (n <= 2) {
    const out = new Float32Array(n * dim);
    if (n === 2) out[dim] = 1e-4;
    onProgress?.(1);
    return out;
  }
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const nIter = options.nIterations ?? 750;
  const theta = options.theta ?? 0.5;
  const exaggeration = 12, exaggerationIters = Math.min(250, nIter);
  const lr = options.learningRate === undefined || options.learningRate === 'auto' ? Math.max(n / exaggeration / 4, 50) : options.learningRate;
  const P = jointProbabilities(data, n, d, perplexity, rng.seed());

  const init = pca(data, n, d, dim).coordinates;
  let std = 0;
  for (let i = 0; i < n; i++) std += init[i * dim] ** 2;
  std = Math.sqrt(std / n) || 1;
  const y = new Float64Array(n * dim);
  for (let t = 0; t < y.length; t++) y[t] = (init[t] / std) * 1e-4 + 1e-8 * rng.normal();

  const update = new Float64Array(n * dim);
  const gains = new Float64Array(n * dim).fill(1);
  const attract = new Float64Array(n * dim);
  const repel = new Float64Array(n * dim);
  const tree = new BHTree(dim, n);
  const stack = new Int32Array(64 * 8 * 8 + 16); // depth <= 48, fan-out <= 8
  const theta2 = theta * theta;
  const fan = 1 << dim;
  const progressEvery = Math.max(1, Math.floor(nIter / 100));
  for (let iter = 0; iter < nIter; iter++) {
    const exag = iter < exaggerationIters ? exaggeration : 1;
    const momentum = iter < exaggerationIters ? 0.5 : 0.8;
    tree.build(y, n);
    const { child, count, width, com } = tree;
    let z = 0;
    repel.fill(0);
    attract.fill(0);
    for (let i = 0; i < n; i++) {
      const oi = i * dim;
      let top = 0;
      stack[top++] = 0;
      while (top > 0) {
        const node = stack[--top];
        const cnt = count[node];
        let d2 = 0;
        for (let c = 0; c < dim; c++) {
          const diff = y[oi + c] - com[node * dim + c];
          d2 += diff * diff;
        }
        const leaf = child[node] < 0;
        if (leaf || width[node] * width[node] < theta2 * d2) {
          // A leaf at distance 0 holds i itself (and any exact duplicates of it).
          const others = leaf && d2 === 0 ? cnt - 1 : cnt;
          if (others <= 0) continue;
          const w = 1 / (1 + d2);
          z += others * w;
          const f = others * w * w;
          for (let c = 0; c < dim; c++) repel[oi + c] += f * (y[oi + c] - com[node * dim + c]);
        } else {
          const first = child[node];
          for (let q = 0; q < fan; q++) if (count[first + q] > 0) stack[top++] = first + q;
        }
      }
      for (let e = P.rowStart[i]; e < P.rowStart[i + 1]; e++) {
        const oj = P.col[e] * dim;
        let d2 = 0;
        for (let c = 0; c < dim; c++) {
          const diff = y[oi + c] - y[oj + c];
          d2 += diff * diff;
        }
        const f = (exag * P.val[e]) / (1 + d2);
        for (let c = 0; c < dim; c++) attract[oi + c] += f * (y[oi + c] - y[oj + c]);
      }
    }
    const invZ = z > 0 ? 1 / z : 0;
    for (let t = 0; t < n * dim; t++) {
      const g = 4 * (attract[t] - repel[t] * invZ);
      gains[t] = Math.max(update[t] * g < 0 ? gains[t] + 0.2 : gains[t] * 0.8, 0.01);
      update[t] = momentum * update[t] - lr * gains[t] * g;
      y[t] += update[t];
    }
    if ((iter + 1) % progressEvery === 0 || iter === nIter - 1) onProgress?.((iter + 1) / nIter);
  }
  return Float32Array.from(y);
}
