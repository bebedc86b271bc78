/**
 * The original AttentionViz's head-view computations (issue #17): label placement,
 * hiding attention sinks with renormalization, the colour-mode columns and the
 * sentence-wide line selection, each against its definition on data built here.
 */
import { allowedKeys, attentionRow } from '../../src/compute/attention';
import { overlaps, placeLabels, type LabelCandidate } from '../../src/compute/labels';
import { renormalize, sinkRows } from '../../src/compute/renormalize';
import { sentenceLines } from '../../src/compute/sentence_lines';
import { headStats } from '../../src/compute/stats';
import { attentionReceived, positionModulo, sentenceLengths, tokenFrequencies, tokenLengths } from '../../src/compute/token_columns';
import { gaussian, mulberry32 } from './helpers';

// Float32 weights summed in a different order than attentionRow's own sum: equal within
// float32 rounding over at most ~30 terms.
const F32 = 1e-5;

function randomQK(nTokens: number, dHead: number, seed: number): { queries: Float32Array; keys: Float32Array } {
  const normal = gaussian(mulberry32(seed));
  const queries = Float32Array.from({ length: nTokens * dHead }, () => normal() * 1.5);
  const keys = Float32Array.from({ length: nTokens * dHead }, () => normal() * 1.5);
  return { queries, keys };
}

describe('token labels (compute/labels.ts)', () => {
  function crowd(count: number, seed: number): LabelCandidate[] {
    const random = mulberry32(seed);
    return Array.from({ length: count }, () => ({ x: random() * 400, y: random() * 300, width: 20 + random() * 40, height: 13 }));
  }

  it('no two placed labels overlap, and every label lies inside the plot', () => {
    const candidates = crowd(400, 1);
    const placed = placeLabels(candidates, [200, 150], 400, 300);
    expect(placed.length).toBeGreaterThan(10);
    expect(placed.length).toBeLessThan(400); // a crowd that dense cannot all be labelled
    for (let a = 0; a < placed.length; a++) {
      const box = placed[a];
      expect(box.left >= 0 && box.top >= 0 && box.left + box.width <= 400 && box.top + box.height <= 300).withContext(`label ${a} inside`).toBeTrue();
      for (let b = a + 1; b < placed.length; b++) expect(overlaps(box, placed[b])).withContext(`labels ${box.index} and ${placed[b].index}`).toBeFalse();
    }
  });

  it('places nearest-first: of two points competing for the same space, the one nearer the anchor wins', () => {
    const near = { x: 100, y: 100, width: 60, height: 13 };
    const far = { x: 102, y: 100, width: 60, height: 13 };
    // Listed far first: the order of the list must not matter, only the distance.
    expect(placeLabels([far, near], [90, 100], 400, 300, 1).map((p) => p.index)).toEqual([1]);
    expect(placeLabels([far, near], [300, 100], 400, 300, 1).map((p) => p.index)).toEqual([0]);
  });

  it('a label with no free slot around its point is left out, one with room is kept', () => {
    const a = { x: 100, y: 100, width: 40, height: 13 };
    const twin = { x: 100, y: 100, width: 40, height: 13 }; // same point: right, left, above, below
    const lone = { x: 300, y: 200, width: 40, height: 13 };
    const placed = placeLabels([a, twin, twin, twin, twin, lone], [100, 100], 400, 300);
    const indices = placed.map((p) => p.index);
    // Five labels at one point: at most four slots around it, so one at least is left out.
    expect(indices).toContain(0);
    expect(indices).toContain(5);
    expect(indices.filter((i) => i < 5).length).toBeLessThan(5);
    expect(indices.filter((i) => i < 5).length).toBeGreaterThan(1);
    expect(placed.find((p) => p.index === 0)!.left).toBeGreaterThan(100); // first choice: right of the point
  });
});

describe('hiding attention sinks (compute/renormalize.ts)', () => {
  it('sinkRows marks special tokens and each sequence\'s first token', () => {
    const special = [1, 0, 0, 1, 0, 0];
    const pos = [0, 1, 2, 3, 0, 1];
    expect(Array.from(sinkRows(special, pos, 6))).toEqual([1, 0, 0, 1, 1, 0]);
  });

  it('drops hidden keys and renormalizes the rest to sum 1, keeping their ratios', () => {
    const { queries, keys } = randomQK(8, 4, 7);
    const rows = [0, 1, 2, 3, 4, 5, 6, 7];
    const hidden = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 1]);
    const raw = attentionRow(queries, keys, 4, 3, rows, 0.5);
    const out = renormalize(raw, rows, hidden);
    expect(out[0]).toBe(0);
    expect(out[7]).toBe(0);
    const visible = raw.slice(1, 7).reduce((a, b) => a + b, 0);
    for (let j = 1; j < 7; j++) expect(out[j]).withContext(`key ${j}`).toBeCloseTo(raw[j] / visible, 6);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // The same as a softmax over the visible keys only.
    const direct = attentionRow(queries, keys, 4, 3, rows.slice(1, 7), 0.5);
    for (let j = 1; j < 7; j++) expect(Math.abs(out[j] - direct[j - 1])).toBeLessThan(F32);
  });

  it('all keys hidden gives zeros, no hidden mask gives the weights unchanged', () => {
    expect(Array.from(renormalize([0.5, 0.5], [0, 1], new Uint8Array([1, 1])))).toEqual([0, 0]);
    expect(Array.from(renormalize([0.25, 0.75], [0, 1], null))).toEqual([0.25, 0.75]);
  });

  it('per-head entropy with sinks hidden equals the entropy of the renormalized weights', () => {
    const n = 12;
    const { queries, keys } = randomQK(n, 6, 3);
    const sequences = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]];
    const hidden = new Uint8Array(n);
    hidden[0] = hidden[6] = hidden[5] = 1;
    for (const causal of [false, true]) {
      let entropy = 0;
      let count = 0;
      for (const rows of sequences) {
        for (let i = 0; i < rows.length; i++) {
          const keyRows = allowedKeys(rows, i, causal);
          const w = renormalize(attentionRow(queries, keys, 6, rows[i], keyRows, 0.4), keyRows, hidden);
          if (!w.some((v) => v > 0)) continue; // a causal first query sees only hidden keys
          for (const v of w) if (v > 0) entropy -= v * Math.log(v);
          count++;
        }
      }
      const stats = headStats(queries, keys, n, 6, sequences, 0.4, causal, hidden);
      // float64 accumulation in headStats vs float32 weights here: 1e-4 nats.
      expect(Math.abs(stats.entropy - entropy / count)).withContext(`causal ${causal}`).toBeLessThan(1e-4);
      expect(Math.abs(stats.entropy - headStats(queries, keys, n, 6, sequences, 0.4, causal).entropy)).toBeGreaterThan(1e-3);
    }
  });
});

describe('colour-mode columns (compute/token_columns.ts)', () => {
  const text = ['[CLS]', 'the', 'cat', '##s', 'the', '[SEP]', '[CLS]', 'The', 'ĠThe', '[SEP]'];
  const seq = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  const pos = Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3]);
  const rowsBySeq = new Map([
    [0, [0, 1, 2, 3, 4, 5]],
    [1, [6, 7, 8, 9]],
  ]);

  it('token frequency counts each exact text over the corpus', () => {
    expect(Array.from(tokenFrequencies(text, 10))).toEqual([2, 2, 1, 1, 2, 2, 2, 1, 1, 2]);
    // Only the first nTokens rows count (a head of fewer tokens).
    expect(Array.from(tokenFrequencies(text, 3))).toEqual([1, 1, 1]);
  });

  it('token length counts characters without subword markers', () => {
    expect(Array.from(tokenLengths(text))).toEqual([5, 3, 3, 1, 3, 5, 5, 3, 3, 5]);
    expect(Array.from(tokenLengths(['日本', '▁ab']))).toEqual([2, 2]);
  });

  it('sentence length is the token count of each token\'s sequence', () => {
    expect(Array.from(sentenceLengths(seq, rowsBySeq, 10))).toEqual([6, 6, 6, 6, 6, 6, 4, 4, 4, 4]);
  });

  it('position modulo k, and a bad k is refused by name', () => {
    expect(Array.from(positionModulo(pos, 3, 10))).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    expect(() => positionModulo(pos, 0, 10)).toThrowError(/integer k >= 1, got 0/);
  });

  it('attention received sums, per key, the weights of its sequence\'s queries (hidden keys get none)', () => {
    const { queries, keys } = randomQK(10, 4, 11);
    const hidden = sinkRows(new Uint8Array([1, 0, 0, 0, 0, 1, 1, 0, 0, 1]), pos, 10);
    for (const causal of [false, true]) {
      const received = attentionReceived(queries, keys, 4, 10, rowsBySeq.values(), { scale: 0.5, causal, hidden: null });
      // Every query hands out weight 1 in total: a sequence of m tokens hands out m.
      expect(received.slice(0, 6).reduce((a, b) => a + b, 0)).toBeCloseTo(6, 4);
      expect(received.slice(6).reduce((a, b) => a + b, 0)).toBeCloseTo(4, 4);
      const expected = new Float32Array(10);
      for (const rows of rowsBySeq.values()) {
        for (let i = 0; i < rows.length; i++) {
          const keyRows = allowedKeys(rows, i, causal);
          attentionRow(queries, keys, 4, rows[i], keyRows, 0.5).forEach((w, j) => (expected[keyRows[j] as number] += w));
        }
      }
      for (let r = 0; r < 10; r++) expect(Math.abs(received[r] - expected[r])).toBeLessThan(F32 * 10);
      const withHidden = attentionReceived(queries, keys, 4, 10, rowsBySeq.values(), { scale: 0.5, causal, hidden });
      for (const r of [0, 5, 6, 9]) expect(withHidden[r]).toBe(0);
    }
  });
});

describe('sentence-wide lines (compute/sentence_lines.ts)', () => {
  it('every query of the sentence gets its top 2 keys with weight >= 0.05, nothing else', () => {
    const n = 9;
    const { queries, keys } = randomQK(n, 5, 21);
    const rows = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    for (const causal of [false, true]) {
      const links = sentenceLines(queries, keys, 5, rows, { scale: 0.6, causal, hidden: null });
      for (let i = 0; i < rows.length; i++) {
        const keyRows = allowedKeys(rows, i, causal) as number[];
        const weights = Array.from(attentionRow(queries, keys, 5, rows[i], keyRows, 0.6));
        const ranked = keyRows.map((row, j) => ({ row, w: weights[j] })).sort((a, b) => b.w - a.w);
        const expected = ranked.slice(0, 2).filter((k) => k.w >= 0.05).map((k) => k.row);
        const mine = links.filter((link) => link.query === rows[i]);
        expect(mine.map((link) => link.key)).withContext(`query ${i} causal ${causal}`).toEqual(expected);
        for (const link of mine) expect(link.weight).toBeGreaterThanOrEqual(0.05);
      }
    }
  });

  it('drops a key below 0.05 even when it is in the top 2, and never links a hidden key', () => {
    // d=1, q = 1: logits are the key values; key 0 dominates, key 1 has ~0.03.
    const queries = new Float32Array([1, 1, 1]);
    const keys = new Float32Array([5, 1.5, 0]);
    const links = sentenceLines(queries, keys, 1, [0, 1, 2], { scale: 1, causal: false, hidden: null });
    for (const q of [0, 1, 2]) expect(links.filter((l) => l.query === q).map((l) => l.key)).toEqual([0]);
    const hidden = new Uint8Array([1, 0, 0]);
    const renorm = sentenceLines(queries, keys, 1, [0, 1, 2], { scale: 1, causal: false, hidden });
    expect(renorm.every((l) => l.key !== 0)).toBeTrue();
    // Renormalized without key 0, key 1 takes e^1.5 / (e^1.5 + 1) and key 2 the rest: both drawn.
    expect(renorm.filter((l) => l.query === 0).map((l) => l.key)).toEqual([1, 2]);
    expect(renorm[0].weight).toBeCloseTo(Math.exp(1.5) / (Math.exp(1.5) + 1), 5);
  });
});
