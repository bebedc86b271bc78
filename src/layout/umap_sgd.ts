/**
 * UMAP's layout optimisation (step 3 of umap.ts): stochastic gradient descent on the
 * fuzzy cross-entropy between the kNN graph and the low-dimensional similarities
 * q(y) = 1 / (1 + a |y_i - y_j|^(2b)), over nEpochs with learning rate
 * alpha = 1 - epoch / nEpochs. Edge e is sampled every max(w) / w_e epochs and pulls its
 * two ends together by -2ab d^(2(b-1)) / (1 + a d^(2b)) (y_i - y_j); each sample draws
 * negativeRate random points that push the head away by
 * 2b / ((0.001 + d^2)(1 + a d^(2b))) (y_i - y_k). Gradients are clipped to [-4, 4] per
 * coordinate; edges below max(w) / nEpochs are never sampled and dropped. Positions are
 * kept in float64 and returned as float32.
 *
 * One departure from umap-learn's `optimize_layout_euclidean`: the negative samples of
 * an edge are evaluated at the same position of the head and their clipped gradients
 * summed, instead of moving the head after each one. The sequential form makes each
 * sample wait for the previous one (a dependency chain through the table lookup);
 * summed, the CPU overlaps them (about 10% of SGD time). Trustworthiness on real Q/K is
 * unchanged (bench/layout).
 *
 * Tried and not kept (bench/layout, 10,000 and 100,000 points of real joint Q/K):
 * moving only the head of a sampled edge (umap-learn's move_other=False; the graph holds
 * both directions, so both ends are still pulled) raised trustworthiness at 10,000 points
 * (0.9880 -> 0.9893, d 32) but lowered it at 100,000 (0.9968 -> 0.9946, sampled).
 */

export interface SgdProblem {
  /** Starting layout [n, dim] (umap.ts rescales it to [0, 10]). */
  init: Float32Array;
  n: number;
  dim: 2 | 3;
  /** Directed edges, both directions of every pair present (fuzzyGraph). */
  graph: { head: Int32Array; tail: Int32Array; weight: Float32Array };
  a: number;
  b: number;
  nEpochs: number;
  negativeRate: number;
  seed: number;
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

interface Tables {
  att: Float64Array;
  rep: Float64Array;
}

function coefficientTables(a: number, b: number): Tables {
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
 * The SGD's gradient coefficients at squared distance q, as the inner loop computes
 * them (tables in range, exact formula outside): attraction (negative) and repulsion.
 */
export function gradientCoefficients(a: number, b: number): { attraction: (q: number) => number; repulsion: (q: number) => number } {
  const tables = coefficientTables(a, b);
  return { attraction: (q) => attraction(q, a, b, tables), repulsion: (q) => repulsion(q, a, b, tables) };
}

/** Per-edge sampling schedule (edges kept, in head order). */
interface Schedule {
  head: Int32Array;
  tail: Int32Array;
  eps: Float64Array;
  nextSample: Float64Array;
  epsNeg: Float64Array;
  nextNeg: Float64Array;
}

/** What one epoch needs besides the positions. */
interface EpochArgs {
  sc: Schedule;
  n: number;
  m: number;
  epoch: number;
  alpha: number;
  a: number;
  b: number;
  t: Tables;
  seed: number;
}

/**
 * One epoch on a 2D layout (x, y interleaved); returns the xorshift32 state. 2D and 3D
 * are written out so the coordinates of the moving point stay in registers.
 */
function epoch2(y: Float64Array, { sc, n, m, epoch, alpha, a, b, t, seed }: EpochArgs): number {
  const { head, tail, eps, nextSample, epsNeg, nextNeg } = sc;
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
    let r0 = 0, r1 = 0;
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
function epoch3(y: Float64Array, { sc, n, m, epoch, alpha, a, b, t, seed }: EpochArgs): number {
  const { head, tail, eps, nextSample, epsNeg, nextNeg } = sc;
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

/** The SGD (in place on a float64 copy of problem.init): the layout, as float32. */
export function optimizeLayout(problem: SgdProblem, onProgress: (fraction: number) => void = () => {}): Float32Array {
  const { n, dim, graph, a, b, nEpochs, negativeRate } = problem;
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
  const sc: Schedule = { head, tail, eps, nextSample: eps.slice(0, m), epsNeg, nextNeg: epsNeg.slice() };
  const t = coefficientTables(a, b);
  const y = Float64Array.from(problem.init); // no float32 rounding per update
  let seed = problem.seed | 0 || 1; // xorshift32 state for negative samples
  const progressEvery = Math.max(1, Math.floor(nEpochs / 100));
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    const args: EpochArgs = { sc, n, m, epoch, alpha: 1 - epoch / nEpochs, a, b, t, seed };
    seed = dim === 2 ? epoch2(y, args) : epoch3(y, args);
    if ((epoch + 1) % progressEvery === 0 || epoch === nEpochs - 1) onProgress((epoch + 1) / nEpochs);
  }
  return Float32Array.from(y);
}
