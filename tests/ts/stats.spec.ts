/** Per-head statistics (src/compute/stats.ts) against their definition through attentionRow. */
import { allowedKeys, attentionRow } from '../../src/compute/attention';
import { centroid, meanRowNorm } from '../../src/compute/normalize';
import { headStats, type HeadStats } from '../../src/compute/stats';
import { gaussian, mulberry32 } from './helpers';

/** The definition: the weights of attentionRow per query, entropy and offset summed from them. */
function byDefinition(queries: Float32Array, keys: Float32Array, nTokens: number, dHead: number, sequences: number[][], scale: number, causal: boolean): HeadStats {
  let entropy = 0;
  let offset = 0;
  let count = 0;
  for (const rows of sequences) {
    for (let i = 0; i < rows.length; i++) {
      const weights = attentionRow(queries, keys, dHead, rows[i], allowedKeys(rows, i, causal), scale);
      for (let j = 0; j < weights.length; j++) {
        if (weights[j] > 0) entropy -= weights[j] * Math.log(weights[j]);
        offset += weights[j] * Math.abs(i - j);
      }
      count++;
    }
  }
  const qMean = centroid(queries, nTokens, dHead);
  const kMean = centroid(keys, nTokens, dHead);
  let gap = 0;
  for (let c = 0; c < dHead; c++) gap += (qMean[c] - kMean[c]) ** 2;
  const norm = (meanRowNorm(queries, nTokens, dHead) + meanRowNorm(keys, nTokens, dHead)) / 2;
  return { entropy: entropy / count, distance: Math.sqrt(gap) / norm, offset: offset / count };
}

/** Sequences of lengths 1..29 over rows 0..nTokens-1, in order. */
function sequencesOf(nTokens: number, random: () => number): number[][] {
  const sequences: number[][] = [];
  for (let start = 0; start < nTokens; ) {
    const length = Math.min(1 + Math.floor(random() * 29), nTokens - start);
    sequences.push(Array.from({ length }, (_, i) => start + i));
    start += length;
  }
  return sequences;
}

describe('headStats', () => {
  for (const dHead of [7, 32, 64]) {
    for (const causal of [false, true]) {
      it(`equals the attentionRow definition to 1e-6 (d ${dHead}, ${causal ? 'causal' : 'bidirectional'})`, () => {
        const random = mulberry32(dHead * 2 + Number(causal));
        const normal = gaussian(random);
        const nTokens = 400;
        // Sharp and flat heads: logits up to ~+-30 (scale 1 on norms ~5), and near-uniform ones.
        for (const spread of [0.1, 1, 3]) {
          const queries = Float32Array.from({ length: nTokens * dHead }, () => spread * normal() + 0.5);
          const keys = Float32Array.from({ length: nTokens * dHead }, () => spread * normal() - 0.2);
          const sequences = sequencesOf(nTokens, random);
          const scale = 1 / Math.sqrt(dHead);
          const got = headStats(queries, keys, nTokens, dHead, sequences, scale, causal);
          const want = byDefinition(queries, keys, nTokens, dHead, sequences, scale, causal);
          for (const name of ['entropy', 'distance', 'offset'] as const) {
            expect(Math.abs(got[name] - want[name])).withContext(`${name}, spread ${spread}`).toBeLessThan(1e-6);
          }
        }
      });
    }
  }

  it('gives ln L and the mean |i - j| for uniform attention (all keys equal)', () => {
    const dHead = 4;
    const nTokens = 10;
    const queries = Float32Array.from({ length: nTokens * dHead }, (_, t) => t % 5);
    const keys = new Float32Array(nTokens * dHead).fill(1);
    const rows = Array.from({ length: nTokens }, (_, i) => i);
    const stats = headStats(queries, keys, nTokens, dHead, [rows], 0.5, false);
    expect(stats.entropy).toBeCloseTo(Math.log(nTokens), 12);
    let offset = 0;
    for (let i = 0; i < nTokens; i++) for (let j = 0; j < nTokens; j++) offset += Math.abs(i - j) / nTokens;
    expect(stats.offset).toBeCloseTo(offset / nTokens, 12);
  });
});
