/**
 * k-nearest-neighbour graphs under the Euclidean metric, on row-major Float32Array data.
 *
 * - `exactKnn`: brute force over all n(n-1)/2 pairs, O(n^2 d); each pair updates the
 *   bounded max-heaps of both endpoints, so every distance is computed once.
 * - `approximateKnn`: NN-descent (Dong, Moses & Li, WWW 2011) started from a random
 *   projection forest, as in pynndescent. Each RP tree splits a node by the hyperplane
 *   equidistant from two random points of the node, down to leaves of <= `leafSize`
 *   points; all pairs inside a leaf seed the heaps. NN-descent then repeats a "local
 *   join": for each point u, every pair (p, q) among u's sampled new-and-old neighbours
 *   and reverse neighbours is a candidate edge p-q ("a neighbour of my neighbour is
 *   likely my neighbour"); only pairs with at least one endpoint new since the last
 *   round are tried. It stops when fewer than delta * n * k heap updates happen in a
 *   round. Cost about O(n k^2 d) per round, a handful of rounds.
 *
 * Neighbour rows are sorted by increasing distance and exclude the point itself.
 * Distances are Euclidean (internally squared, square-rooted on output).
 */
import { Random } from '../compute/random';

export interface KnnResult {
  /** [n, k] neighbour indices, row i sorted by increasing distance, i itself excluded. */
  indices: Int32Array;
  /** [n, k] Euclidean distances matching `indices`. */
  distances: Float32Array;
}

function check(name: string, data: Float32Array, n: number, d: number, k: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) throw new Error(`${name}: bad shape n=${n}, d=${d}`);
  if (data.length !== n * d) throw new Error(`${name}: data has ${data.length} values, expected ${n} x ${d}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`${name}: k must be a positive integer, got ${k}`);
  if (k > n - 1) throw new Error(`${name}: k=${k} neighbours need at least ${k + 1} points, got ${n}`);
}

/** Squared Euclidean distance between rows a and b (offsets into data). */
function sqDist(data: Float32Array, a: number, b: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const x = data[a + t] - data[b + t];
    s += x * x;
  }
  return s;
}

/**
 * Replace the root of the max-heap row [base, base + k) by (dist, j) and sift down.
 * Caller guarantees dist < current root. `flags` (optional) moves with the entries.
 */
function heapReplace(dists: Float32Array, idx: Int32Array, flags: Uint8Array | null, base: number, k: number, dist: number, j: number, flag: number): void {
  let pos = 0;
  for (;;) {
    const l = 2 * pos + 1;
    if (l >= k) break;
    const r = l + 1;
    let child = l;
    if (r < k && dists[base + r] > dists[base + l]) child = r;
    if (dists[base + child] <= dist) break;
    dists[base + pos] = dists[base + child];
    idx[base + pos] = idx[base + child];
    if (flags) flags[base + pos] = flags[base + child];
    pos = child;
  }
  dists[base + pos] = dist;
  idx[base + pos] = j;
  if (flags) flags[base + pos] = flag;
}

/** Push (dist, j) into row i's heap unless j is already there; returns 1 if it changed. */
function checkedPush(dists: Float32Array, idx: Int32Array, flags: Uint8Array, i: number, k: number, dist: number, j: number): number {
  const base = i * k;
  if (dist >= dists[base]) return 0;
  for (let t = 0; t < k; t++) if (idx[base + t] === j) return 0;
  heapReplace(dists, idx, flags, base, k, dist, j, 1);
  return 1;
}

/** Heap-sort every row ascending and turn squared distances into distances. */
function finish(dists: Float32Array, idx: Int32Array, n: number, k: number): KnnResult {
  for (let i = 0; i < n; i++) {
    const base = i * k;
    for (let end = k - 1; end > 0; end--) {
      const d = dists[base + end];
      const j = idx[base + end];
      dists[base + end] = dists[base];
      idx[base + end] = idx[base];
      // Sift (d, j) down from the root of the heap [base, base + end).
      dists[base] = Infinity;
      heapReplace(dists, idx, null, base, end, d, j, 0);
    }
  }
  for (let t = 0; t < dists.length; t++) dists[t] = Math.sqrt(dists[t]);
  return { indices: idx, distances: dists };
}

/** Exact k nearest neighbours of every row (self excluded), by brute force. */
export function exactKnn(data: Float32Array, n: number, d: number, k: number): KnnResult {
  check('exactKnn', data, n, d, k);
  const dists = new Float32Array(n * k).fill(Infinity);
  const idx = new Int32Array(n * k).fill(-1);
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    const bi = i * k;
    for (let j = i + 1; j < n; j++) {
      const dist = sqDist(data, oi, j * d, d);
      if (dist < dists[bi]) heapReplace(dists, idx, null, bi, k, dist, j, 0);
      if (dist < dists[j * k]) heapReplace(dists, idx, null, j * k, k, dist, i, 0);
    }
  }
  return finish(dists, idx, n, k);
}

export interface NNDescentOptions {
  /** Random projection trees in the initial forest (default: 4 + round(n^0.25 / 2)). */
  nTrees?: number;
  /** Maximum leaf size of an RP tree (default max(k + 1, 24)). */
  leafSize?: number;
  /** Maximum NN-descent rounds (default max(5, round(log2 n))). */
  maxIterations?: number;
  /** Candidates sampled per point per round (default min(k, 24)). */
  maxCandidates?: number;
  /** Stop when a round makes fewer than delta * n * k updates (default 0.001). */
  delta?: number;
}

/** Seed the heaps from the leaves of random projection trees. */
function rpForest(data: Float32Array, n: number, d: number, k: number, dists: Float32Array, idx: Int32Array, flags: Uint8Array, rng: Random, nTrees: number, leafSize: number): void {
  const order = new Int32Array(n);
  const margin = new Float64Array(n);
  const normal = new Float64Array(d);
  const stack: number[] = [];
  for (let tree = 0; tree < nTrees; tree++) {
    for (let i = 0; i < n; i++) order[i] = i;
    stack.push(0, n);
    while (stack.length > 0) {
      const hi = stack.pop() as number;
      const lo = stack.pop() as number;
      const size = hi - lo;
      if (size <= leafSize) {
        for (let a = lo; a < hi; a++) {
          const p = order[a];
          for (let b = a + 1; b < hi; b++) {
            const q = order[b];
            const dist = sqDist(data, p * d, q * d, d);
            checkedPush(dists, idx, flags, p, k, dist, q);
            checkedPush(dists, idx, flags, q, k, dist, p);
          }
        }
        continue;
      }
      // Hyperplane equidistant from two random points of the node.
      const left = order[lo + rng.int(size)];
      let right = order[lo + rng.int(size - 1)];
      if (right === left) right = order[hi - 1];
      let offset = 0;
      for (let t = 0; t < d; t++) {
        const a = data[left * d + t];
        const b = data[right * d + t];
        normal[t] = a - b;
        offset -= (a - b) * (a + b) * 0.5;
      }
      let nLeft = 0;
      for (let a = lo; a < hi; a++) {
        const p = order[a] * d;
        let m = offset;
        for (let t = 0; t < d; t++) m += normal[t] * data[p + t];
        if (m === 0) m = rng.float() - 0.5; // ties (e.g. duplicates) go to a random side
        margin[a - lo] = m;
        if (m > 0) nLeft++;
      }
      let mid: number;
      if (nLeft === 0 || nLeft === size) {
        mid = lo + (size >> 1); // degenerate split (all points equal along the normal)
      } else {
        // Stable-enough in-place partition: points with positive margin first.
        let w = lo;
        for (let a = lo; a < hi; a++) {
          if (margin[a - lo] > 0) {
            const tmp = order[w];
            order[w] = order[a];
            order[a] = tmp;
            const tm = margin[w - lo];
            margin[w - lo] = margin[a - lo];
            margin[a - lo] = tm;
            w++;
          }
        }
        mid = w;
      }
      stack.push(lo, mid, mid, hi);
    }
  }
}

/** Push j into candidate heap row i with the given random priority (dedup by index). */
function candidatePush(cIdx: Int32Array, cPri: Float32Array, i: number, c: number, priority: number, j: number): void {
  const base = i * c;
  if (priority >= cPri[base]) return;
  for (let t = 0; t < c; t++) if (cIdx[base + t] === j) return;
  heapReplace(cPri, cIdx, null, base, c, priority, j, 0);
}

/**
 * Approximate k nearest neighbours (self excluded) by NN-descent on an RP-forest start.
 * Deterministic for a given seed. Small inputs fall back to `exactKnn`.
 */
export function approximateKnn(data: Float32Array, n: number, d: number, k: number, seed: number, options: NNDescentOptions = {}): KnnResult {
  check('approximateKnn', data, n, d, k);
  const leafSize = options.leafSize ?? Math.max(k + 1, 24);
  if (n <= 4 * leafSize) return exactKnn(data, n, d, k);
  const nTrees = options.nTrees ?? 4 + Math.round(n ** 0.25 / 2);
  const maxIterations = options.maxIterations ?? Math.max(5, Math.round(Math.log2(n)));
  const c = options.maxCandidates ?? Math.min(k, 24);
  const delta = options.delta ?? 0.001;
  const rng = new Random(seed);

  const dists = new Float32Array(n * k).fill(Infinity);
  const idx = new Int32Array(n * k).fill(-1);
  const flags = new Uint8Array(n * k);
  rpForest(data, n, d, k, dists, idx, flags, rng, nTrees, leafSize);

  const newIdx = new Int32Array(n * c);
  const newPri = new Float32Array(n * c);
  const oldIdx = new Int32Array(n * c);
  const oldPri = new Float32Array(n * c);
  for (let iter = 0; iter < maxIterations; iter++) {
    newIdx.fill(-1);
    oldIdx.fill(-1);
    newPri.fill(Infinity);
    oldPri.fill(Infinity);
    // Sample forward and reverse candidates; the same random priority for both ends.
    for (let i = 0; i < n; i++) {
      const base = i * k;
      for (let t = 0; t < k; t++) {
        const j = idx[base + t];
        if (j < 0) continue;
        const priority = rng.float();
        if (flags[base + t]) {
          candidatePush(newIdx, newPri, i, c, priority, j);
          candidatePush(newIdx, newPri, j, c, priority, i);
        } else {
          candidatePush(oldIdx, oldPri, i, c, priority, j);
          candidatePush(oldIdx, oldPri, j, c, priority, i);
        }
      }
    }
    // Entries sampled as new are old from now on.
    for (let i = 0; i < n; i++) {
      const base = i * k;
      for (let t = 0; t < k; t++) {
        if (!flags[base + t]) continue;
        const j = idx[base + t];
        for (let s = 0; s < c; s++) {
          if (newIdx[i * c + s] === j) {
            flags[base + t] = 0;
            break;
          }
        }
      }
    }
    // Local join.
    let updates = 0;
    for (let i = 0; i < n; i++) {
      const cb = i * c;
      for (let a = 0; a < c; a++) {
        const p = newIdx[cb + a];
        if (p < 0) continue;
        const op = p * d;
        for (let b = a + 1; b < c; b++) {
          const q = newIdx[cb + b];
          if (q < 0) continue;
          const dist = sqDist(data, op, q * d, d);
          if (dist < dists[p * k]) updates += checkedPush(dists, idx, flags, p, k, dist, q);
          if (dist < dists[q * k]) updates += checkedPush(dists, idx, flags, q, k, dist, p);
        }
        for (let b = 0; b < c; b++) {
          const q = oldIdx[cb + b];
          if (q < 0 || q === p) continue;
          const dist = sqDist(data, op, q * d, d);
          if (dist < dists[p * k]) updates += checkedPush(dists, idx, flags, p, k, dist, q);
          if (dist < dists[q * k]) updates += checkedPush(dists, idx, flags, q, k, dist, p);
        }
      }
    }
    if (updates <= delta * n * k) break;
  }
  // Any row still short (possible only for pathological data): fill by brute force.
  for (let i = 0; i < n; i++) {
    if (idx[i * k] >= 0) continue;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dist = sqDist(data, i * d, j * d, d);
      checkedPush(dists, idx, flags, i, k, dist, j);
    }
  }
  return finish(dists, idx, n, k);
}
