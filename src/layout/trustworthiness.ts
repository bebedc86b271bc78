/**
 * Trustworthiness of an embedding (Venna & Kaski 2001), exactly as
 * sklearn.manifold.trustworthiness with the Euclidean metric:
 *
 *   T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_k(i)} max(0, r(i, j) - k)
 *
 * where U_k(i) are the k nearest neighbours of i in the embedding and r(i, j) is the
 * rank of j among i's neighbours in the original space (1 = nearest; i itself is
 * excluded). Only points that are embedded close but are far in the original space are
 * penalised; T = 1 when every embedded neighbourhood is a true neighbourhood.
 *
 * r(i, j) = 1 + #{m != i : |x_i - x_m| < |x_i - x_j|}, found by sorting row i of the
 * high-dimensional distances once and binary searching (ties, which sklearn breaks by
 * argsort order, count here as "not closer"). Cost O(n^2 (d + log n)), memory O(n).
 *
 * `trustworthinessSampled` evaluates the same sum over a subset S of points only (each
 * still ranked against all n points) and rescales it, i.e. replaces sum_i by
 * (n / |S|) sum_{i in S}: an unbiased estimate of T for data too large for O(n^2).
 */

/** Exact k nearest neighbours of row i in a low-dimensional embedding (brute force). */
function embeddedNeighbours(low: Float32Array, n: number, dLow: number, i: number, k: number, out: Int32Array): void {
  // Max-heap of size k over (dist, index) kept in two small arrays.
  const hd = new Float64Array(k).fill(Infinity);
  const hi = out;
  hi.fill(-1);
  const oi = i * dLow;
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let t = 0; t < dLow; t++) {
      const x = low[oi + t] - low[j * dLow + t];
      s += x * x;
    }
    if (s >= hd[0]) continue;
    // Replace root, sift down.
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      let c = l;
      if (r < k && hd[r] > hd[l]) c = r;
      if (hd[c] <= s) break;
      hd[pos] = hd[c];
      hi[pos] = hi[c];
      pos = c;
    }
    hd[pos] = s;
    hi[pos] = j;
  }
}

/** Number of entries of the ascending array `sorted` strictly below `value`. */
function countBelow(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkShapes(high: Float32Array, lows: Float32Array[], n: number, dHigh: number, dLow: number, k: number): void {
  if (high.length !== n * dHigh) throw new Error(`trustworthiness: high has ${high.length} values, expected ${n} x ${dHigh}`);
  for (const low of lows) {
    if (low.length !== n * dLow) throw new Error(`trustworthiness: low has ${low.length} values, expected ${n} x ${dLow}`);
  }
  if (!Number.isInteger(k) || k < 1 || k >= n / 2) {
    throw new Error(`trustworthiness: k must be an integer in [1, n/2), got k=${k} for n=${n}`);
  }
}

/**
 * Trustworthiness of several embeddings of the same data, evaluated on the points in
 * `sample` (all points when omitted). The high-dimensional distance rows, the costly
 * part, are computed once and shared by every embedding.
 */
export function trustworthinessMany(high: Float32Array, lows: Float32Array[], n: number, dHigh: number, dLow: number, k = 10, sample?: Int32Array): number[] {
  checkShapes(high, lows, n, dHigh, dLow, k);
  const points = sample ?? Int32Array.from({ length: n }, (_, i) => i);
  const row = new Float64Array(n);
  const sorted = new Float64Array(n - 1);
  const neighbours = new Int32Array(k);
  const penalty = new Float64Array(lows.length);
  for (const i of points) {
    const oi = i * dHigh;
    let w = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      const oj = j * dHigh;
      for (let t = 0; t < dHigh; t++) {
        const x = high[oi + t] - high[oj + t];
        s += x * x;
      }
      row[j] = s;
      if (j !== i) sorted[w++] = s;
    }
    sorted.sort();
    lows.forEach((low, e) => {
      embeddedNeighbours(low, n, dLow, i, k, neighbours);
      for (let t = 0; t < k; t++) {
        const rank = 1 + countBelow(sorted, row[neighbours[t]]);
        if (rank > k) penalty[e] += rank - k;
      }
    });
  }
  // Full sum = (n / |S|) * sum over S, so the normaliser's n becomes |S|.
  const scale = 2 / (points.length * k * (2 * n - 3 * k - 1));
  return Array.from(penalty, (p) => 1 - p * scale);
}

/** Trustworthiness (k nearest neighbours) of `low` [n, dLow] as an embedding of `high` [n, dHigh]. */
export function trustworthiness(high: Float32Array, low: Float32Array, n: number, dHigh: number, dLow: number, k = 10): number {
  return trustworthinessMany(high, [low], n, dHigh, dLow, k)[0];
}

/** Unbiased estimate of trustworthiness from the points in `sample` (see module doc). */
export function trustworthinessSampled(high: Float32Array, low: Float32Array, n: number, dHigh: number, dLow: number, k: number, sample: Int32Array): number {
  return trustworthinessMany(high, [low], n, dHigh, dLow, k, sample)[0];
}
