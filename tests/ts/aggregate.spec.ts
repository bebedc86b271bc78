/** Aggregate attention (src/compute/aggregate.ts) and per-dimension products (dims.ts)
 * against brute-force sums over the softmax written out in float64. */
import { attentionByOffset, attentionByPosition, offsetSummary } from '../../src/compute/aggregate';
import { cumulativeShare, pairDims } from '../../src/compute/dims';
import { gaussian, mulberry32 } from './helpers';

const D = 8;

function data(nTokens: number, seed: number): { queries: Float32Array; keys: Float32Array } {
  const g = gaussian(mulberry32(seed));
  return { queries: Float32Array.from({ length: nTokens * D }, g), keys: Float32Array.from({ length: nTokens * D }, g) };
}

/** softmax_j(q_i . k_j * scale) over allowed keys, written out in float64. */
function bruteWeight(q: Float32Array, k: Float32Array, rows: number[], i: number, j: number, scale: number, causal: boolean, norms?: Float32Array): number {
  const allowed = causal ? rows.slice(0, i + 1) : rows;
  if (causal && j > i) return NaN;
  const logit = (r: number): number => {
    let s = 0;
    for (let c = 0; c < D; c++) s += q[rows[i] * D + c] * k[r * D + c];
    return Math.exp(s * scale);
  };
  const mass = (r: number): number => logit(r) * (norms ? norms[r] : 1);
  let total = 0;
  for (const r of allowed) total += mass(r);
  return mass(rows[j]) / total;
}

// lengths 5, 3, 7, 1 over 16 rows
const SEQUENCES = [[0, 1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11, 12, 13, 14], [15]];
// float32 softmax (attention.ts) against float64 brute force: rounding of ~1e-7 per weight
const TOL = 1e-5;

describe('aggregate attention by offset', () => {
  for (const causal of [false, true]) {
    for (const weighted of [false, true]) {
      it(`equals the brute-force mean over (query, key) pairs (causal=${causal}, |v|=${weighted})`, () => {
        const { queries, keys } = data(16, causal ? 3 : 4);
        const norms = weighted ? Float32Array.from({ length: 16 }, (_, r) => 0.2 + ((r * 7) % 5)) : null;
        const profile = attentionByOffset({ queries, keys, dHead: D, sequences: SEQUENCES, scale: 0.6, causal, valueNorms: norms });
        expect(profile.offsets[0]).toBe(-6);
        expect(profile.offsets[profile.offsets.length - 1]).toBe(6);
        for (let m = 0; m < profile.offsets.length; m++) {
          const d = profile.offsets[m];
          let sum = 0;
          let count = 0;
          for (const rows of SEQUENCES) {
            for (let i = 0; i < rows.length; i++) {
              const j = i + d;
              if (j < 0 || j >= rows.length || (causal && j > i)) continue;
              sum += bruteWeight(queries, keys, rows, i, j, 0.6, causal, norms ?? undefined);
              count++;
            }
          }
          expect(profile.count[m]).toBe(count);
          expect(profile.mean[m]).toBeCloseTo(count ? sum / count : 0, -Math.log10(TOL));
        }
        if (causal) for (let m = 7; m < 13; m++) expect(profile.count[m]).toBe(0); // no future keys
      });
    }
  }

  it('finds the previous-token head: peak at -1, mean |offset| near 1', () => {
    // keys k_j = e_j * 8, queries q_i = e_(i - 1) * 8 (one dimension per token, n = D): each
    // query matches only the previous key; query 0 has no earlier key and attends to itself
    const n = D;
    const queries = new Float32Array(n * D);
    const keys = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      keys[r * D + (r % D)] = 8;
      queries[r * D + ((r + D - 1) % D)] = 8;
    }
    const profile = attentionByOffset({ queries, keys, dHead: D, sequences: [Array.from({ length: n }, (_, i) => i)], scale: 1, causal: true });
    const summary = offsetSummary(profile);
    expect(summary.peak).toBe(-1);
    // mean over queries of sum_j w_ij |i - j|: 7 queries at offset 1, query 0 at 0
    expect(summary.meanAbs).toBeCloseTo((n - 1) / n, 3);
  });
});

describe('aggregate attention by absolute position', () => {
  it('equals the brute-force mean over the sequences having both positions', () => {
    const { queries, keys } = data(16, 9);
    const size = 6;
    const profile = attentionByPosition({ queries, keys, dHead: D, sequences: SEQUENCES, scale: 0.5, causal: false }, size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let sum = 0;
        let count = 0;
        for (const rows of SEQUENCES) {
          if (i >= rows.length || j >= rows.length) continue;
          sum += bruteWeight(queries, keys, rows, i, j, 0.5, false);
          count++;
        }
        expect(profile.count[i * size + j]).toBe(count);
        expect(profile.mean[i * size + j]).toBeCloseTo(count ? sum / count : 0, 5);
      }
    }
  });
});

describe('per-dimension products of a query-key pair', () => {
  it('sorts q_c * k_c by magnitude, sums to q . k, and gives the softmax weight', () => {
    const { queries, keys } = data(5, 11);
    const rows = [0, 1, 2, 3, 4];
    const pair = pairDims(queries, keys, D, 2, 4, rows, 0.35);
    let dot = 0;
    for (let c = 0; c < D; c++) dot += queries[2 * D + c] * keys[4 * D + c];
    expect(pair.dot).toBeCloseTo(dot, 6);
    expect(pair.logit).toBeCloseTo(dot * 0.35, 6);
    let sorted = 0;
    for (let n = 0; n < D; n++) {
      const c = pair.dims[n];
      expect(pair.products[n]).toBeCloseTo(queries[2 * D + c] * keys[4 * D + c], 6);
      if (n) expect(Math.abs(pair.products[n])).toBeLessThanOrEqual(Math.abs(pair.products[n - 1]));
      sorted += pair.products[n];
    }
    expect(sorted).toBeCloseTo(dot, 6);
    expect(new Set(pair.dims).size).toBe(D);
    expect(pair.weight).toBeCloseTo(bruteWeight(queries, keys, rows, 2, 4, 0.35, false), 5);
    const share = cumulativeShare(pair.products);
    expect(share[D - 1]).toBeCloseTo(1, 9);
    for (let n = 1; n < D; n++) expect(share[n]).toBeGreaterThanOrEqual(share[n - 1]);
  });

  it('refuses a key the query may not attend to', () => {
    const { queries, keys } = data(5, 12);
    expect(() => pairDims(queries, keys, D, 1, 3, [0, 1], 1)).toThrowError(/key row 3 is not among/);
  });
});
