/**
 * Out-of-sample placement: positions for tokens added after a head's layout was
 * computed, without recomputing it.
 *
 * The added Q/K go through the head's normalization with the constants fitted on the
 * capture (`fitNormalization`: the key shift and the Q/K scale c are the capture's, not
 * refitted on the union), so they live in the same high-dimensional space the layout
 * was computed from. Then:
 *
 * - PCA: the exact projection onto the same principal axes (`pcaBasis` of the
 *   capture's joint rows; the layout itself is `pcaProject` of those rows).
 * - UMAP / t-SNE (no linear map exists): umap-learn's `transform` initialisation. For
 *   each new vector x, its k nearest reference points r_1..r_k (exact, Euclidean) get
 *   membership weights w_j = exp(-d_j / sigma) with sigma found by binary search so
 *   that sum_j w_j = log2(k) (`smooth_knn_dist` with local connectivity 0, as umap-learn
 *   uses for new points); the position is sum_j w_j y(r_j) / sum_j w_j, y = layout
 *   position. A vector equal to a reference point takes that point's position.
 *   (umap-learn then refines with a few SGD epochs; we stop at the initialisation, so
 *   a new point never lands outside the hull of its neighbours.)
 */
import type { LayoutParams } from './types';
import { applyNormalization, fitNormalization, jointRows } from '../compute/normalize';
import { pcaBasis, pcaProject } from './pca';

/** Neighbours used for UMAP / t-SNE placement (umap-learn's default n_neighbors). */
export const PLACEMENT_NEIGHBORS = 15;

/** Positions [nAdded, dims] on the first `dims` principal axes of `reference` [nRef, d]. */
export function placeByPCA(reference: Float32Array, nRef: number, d: number, added: Float32Array, nAdded: number, dims: number): Float32Array {
  checkShape('placeByPCA reference', reference, nRef, d);
  checkShape('placeByPCA added', added, nAdded, d);
  return pcaProject(pcaBasis(reference, nRef, d), added, nAdded, dims);
}

/**
 * The k nearest rows of `reference` [nRef, d] to each row of `added` [nAdded, d]:
 * indices and Euclidean distances, [nAdded, k] each, sorted by increasing distance.
 */
export function nearestReference(reference: Float32Array, nRef: number, d: number, added: Float32Array, nAdded: number, k: number): { indices: Int32Array; distances: Float32Array } {
  checkShape('nearestReference reference', reference, nRef, d);
  checkShape('nearestReference added', added, nAdded, d);
  const kk = Math.min(k, nRef);
  const indices = new Int32Array(nAdded * kk).fill(-1);
  const distances = new Float32Array(nAdded * kk).fill(Infinity);
  for (let i = 0; i < nAdded; i++) {
    const base = i * kk;
    const a = i * d;
    for (let j = 0; j < nRef; j++) {
      const b = j * d;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const x = added[a + t] - reference[b + t];
        s += x * x;
      }
      if (s >= distances[base + kk - 1]) continue;
      // Insertion into the sorted row (k is small).
      let p = kk - 1;
      while (p > 0 && distances[base + p - 1] > s) {
        distances[base + p] = distances[base + p - 1];
        indices[base + p] = indices[base + p - 1];
        p--;
      }
      distances[base + p] = s;
      indices[base + p] = j;
    }
    for (let t = 0; t < kk; t++) distances[base + t] = Math.sqrt(distances[base + t]);
  }
  return { indices, distances };
}

/** Membership weights exp(-d_j / sigma) of one sorted distance row, sum = log2(k) (rho = 0). */
export function membershipWeights(distances: ArrayLike<number>): Float64Array {
  const k = distances.length;
  const weights = new Float64Array(k);
  if (k === 0) return weights;
  if (distances[0] === 0) {
    // Coincides with reference point(s): take their position(s).
    for (let t = 0; t < k; t++) weights[t] = distances[t] === 0 ? 1 : 0;
    return weights;
  }
  const target = Math.log2(Math.max(k, 2));
  let lo = 0;
  let hi = Infinity;
  let sigma = 1;
  for (let iter = 0; iter < 64; iter++) {
    let sum = 0;
    for (let t = 0; t < k; t++) sum += Math.exp(-distances[t] / sigma);
    if (Math.abs(sum - target) < 1e-5) break;
    if (sum > target) {
      hi = sigma;
      sigma = (lo + hi) / 2;
    } else {
      lo = sigma;
      sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
    }
  }
  let total = 0;
  for (let t = 0; t < k; t++) total += weights[t] = Math.exp(-distances[t] / sigma);
  if (!(total > 0)) weights.fill(1); // all underflowed: plain mean
  return weights;
}

/**
 * Positions [nAdded, dims] of new rows in a layout [nRef, dims] of `reference` [nRef, d]:
 * the membership-weighted mean of the layout positions of their k nearest reference rows.
 */
export function placeByNeighbours(
  reference: Float32Array,
  nRef: number,
  d: number,
  layout: Float32Array,
  dims: number,
  added: Float32Array,
  nAdded: number,
  k = PLACEMENT_NEIGHBORS,
): Float32Array {
  checkShape('placeByNeighbours layout', layout, nRef, dims);
  if (nRef < 1) throw new Error('placeByNeighbours: the layout has no points to place new ones by');
  const { indices, distances } = nearestReference(reference, nRef, d, added, nAdded, k);
  const kk = Math.min(k, nRef);
  const out = new Float32Array(nAdded * dims);
  for (let i = 0; i < nAdded; i++) {
    const weights = membershipWeights(distances.subarray(i * kk, (i + 1) * kk));
    let total = 0;
    for (let t = 0; t < kk; t++) {
      const w = weights[t];
      if (w === 0) continue;
      total += w;
      const j = indices[i * kk + t];
      for (let c = 0; c < dims; c++) out[i * dims + c] += w * layout[j * dims + c];
    }
    for (let c = 0; c < dims; c++) out[i * dims + c] /= total;
  }
  return out;
}

export interface HeadVectors {
  /** [nTokens, dHead] row-major, raw (as captured / computed). */
  queries: Float32Array;
  keys: Float32Array;
  nTokens: number;
}

/**
 * Positions [2M, dims] (the M new queries, then the M new keys) of added tokens in the
 * joint layout [2N, dims] (queries first) of the capture's head `original`, computed
 * with `params` (method, dims, normalize) the way `jointLayout` computed it.
 */
export function placeAddedTokens(
  original: HeadVectors,
  added: HeadVectors,
  dHead: number,
  layout: Float32Array,
  params: Pick<LayoutParams, 'method' | 'dims' | 'normalize'>,
  k = PLACEMENT_NEIGHBORS,
): Float32Array {
  const n = original.nTokens;
  const m = added.nTokens;
  const dims = params.dims;
  checkShape('placeAddedTokens layout', layout, 2 * n, dims);
  checkShape('added queries', added.queries, m, dHead);
  checkShape('added keys', added.keys, m, dHead);
  if (m === 0) return new Float32Array(0);
  const constants = fitNormalization(original.queries, original.keys, n, dHead, { translate: params.normalize, scale: params.normalize });
  const ref = applyNormalization(original.queries, original.keys, dHead, constants);
  const add = applyNormalization(added.queries, added.keys, dHead, constants);
  const reference = jointRows(ref.queries, ref.keys);
  const addedRows = jointRows(add.queries, add.keys);
  if (params.method === 'pca') return placeByPCA(reference, 2 * n, dHead, addedRows, 2 * m, dims);
  return placeByNeighbours(reference, 2 * n, dHead, layout, dims, addedRows, 2 * m, k);
}

/**
 * One layout of N + M tokens from the capture's [2N, dims] (queries, keys) and the
 * placed [2M, dims] (queries, keys): [Q_capture, Q_added, K_capture, K_added], so point
 * i is the query of row i and point (N + M) + i its key, rows N.. being the added ones.
 */
export function mergeLayouts(layout: Float32Array, placed: Float32Array, n: number, m: number, dims: number): Float32Array {
  checkShape('mergeLayouts layout', layout, 2 * n, dims);
  checkShape('mergeLayouts placed', placed, 2 * m, dims);
  const out = new Float32Array(2 * (n + m) * dims);
  out.set(layout.subarray(0, n * dims), 0);
  out.set(placed.subarray(0, m * dims), n * dims);
  out.set(layout.subarray(n * dims), (n + m) * dims);
  out.set(placed.subarray(m * dims), (2 * n + m) * dims);
  return out;
}

function checkShape(name: string, data: Float32Array, rows: number, cols: number): void {
  if (data.length !== rows * cols) throw new Error(`${name}: has ${data.length} values, expected ${rows} x ${cols}`);
}
