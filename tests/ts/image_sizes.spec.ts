import { allowedKeys, attentionRow } from '../../src/compute/attention';
import { normalizeQK } from '../../src/compute/normalize';
import { gridShape, patchHeat } from '../../src/compute/patches';
import { normSizes, rowNorms } from '../../src/compute/sizes';
import fixture from '../fixtures/normalize_minilm_head.json';
import { gaussian, mulberry32 } from './helpers';

function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const normal = gaussian(mulberry32(seed));
  return Float32Array.from({ length: rows * cols }, () => scale * normal());
}

describe('normSizes (point size by vector norm)', () => {
  const n = 30;
  const d = 8;
  const queries = randomMatrix(n, d, 1);
  const keys = randomMatrix(n, d, 2, 3);

  it('is |v| / mean |v| over all 2n points, clamped', () => {
    const sizes = normSizes(queries, keys, n, d, { minFactor: 0.01, maxFactor: 100 });
    const norms = [...rowNorms(queries, n, d), ...rowNorms(keys, n, d)];
    const mean = norms.reduce((a, b) => a + b, 0) / norms.length;
    expect(sizes.length).toBe(2 * n);
    norms.forEach((norm, i) => expect(sizes[i]).toBeCloseTo(norm / mean, 5));
    // keys are ~3x longer here: their points are drawn larger
    const meanOf = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(meanOf(sizes.subarray(n))).toBeGreaterThan(2 * meanOf(sizes.subarray(0, n)));
  });

  it('clamps to the range and handles zero and NaN vectors', () => {
    const sizes = normSizes(queries, keys, n, d);
    for (const s of sizes) {
      expect(s).toBeGreaterThanOrEqual(0.4);
      expect(s).toBeLessThanOrEqual(2.5);
    }
    expect(Math.min(...sizes)).toBe(Math.fround(0.4)); // the short queries hit the floor (float32)
    expect([...normSizes(new Float32Array(n * d), new Float32Array(n * d), n, d)].every((s) => s === 1)).toBeTrue();
    const broken = new Float32Array(queries);
    broken[0] = NaN;
    const withNaN = normSizes(broken, keys, n, d);
    expect(withNaN[0]).toBe(Math.fround(0.4));
    expect(withNaN.slice(1).every(Number.isFinite)).toBeTrue();
    expect(() => normSizes(queries, keys, n, d, { minFactor: 2, maxFactor: 1 })).toThrowError(/size range/);
  });

  it('is unchanged by the normalization the layout uses only through the norms it changes', () => {
    // scale normalization multiplies Q by c and K by 1/c: sizes follow the normalized vectors
    const normalized = normalizeQK(queries, keys, n, d, { translate: false, scale: true });
    const sizes = normSizes(normalized.queries, normalized.keys, n, d, { minFactor: 0.01, maxFactor: 100 });
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(sizes.subarray(0, n))).toBeCloseTo(mean(sizes.subarray(n)), 4);
  });
});

describe('patchHeat (image view overlay)', () => {
  // Two images of [CLS] + a 3x4 patch grid, rows in token-table order.
  const grid: [number, number] = [3, 4];
  const perImage = 1 + grid[0] * grid[1];
  const patchRow = new Int32Array(2 * perImage);
  const patchCol = new Int32Array(2 * perImage);
  for (let image = 0; image < 2; image++) {
    for (let p = 0; p < perImage; p++) {
      patchRow[image * perImage + p] = p === 0 ? -1 : Math.floor((p - 1) / grid[1]);
      patchCol[image * perImage + p] = p === 0 ? -1 : (p - 1) % grid[1];
    }
  }
  const d = 16;
  const queries = randomMatrix(2 * perImage, d, 7, 2);
  const keys = randomMatrix(2 * perImage, d, 8, 2);
  const secondImage = Array.from({ length: perImage }, (_, i) => perImage + i);

  it('puts each patch key exactly its attentionRow weight, [CLS] in other', () => {
    expect(gridShape(patchRow, patchCol)).toEqual(grid);
    for (const query of [perImage, perImage + 6]) {
      const keyRows = allowedKeys(secondImage, secondImage.indexOf(query), false);
      const weights = attentionRow(queries, keys, d, query, keyRows, 0.25);
      const { heat, other, max } = patchHeat(weights, keyRows, patchRow, patchCol, grid[0], grid[1]);
      expect(heat.length).toBe(12);
      for (let j = 0; j < keyRows.length; j++) {
        const row = keyRows[j];
        if (patchRow[row] < 0) expect(other).toBe(weights[j]);
        else expect(heat[patchRow[row] * grid[1] + patchCol[row]]).toBe(weights[j]);
      }
      expect(heat.reduce((a, b) => a + b, 0) + other).toBeCloseTo(1, 5);
      expect(max).toBe(Math.max(...heat));
      expect(max).toBeGreaterThan(1 / 13); // random Q.K with scale: not uniform
    }
  });

  it('leaves out keys the mask forbids (causal) and rejects mismatched inputs', () => {
    const query = perImage + 5; // patch (1, 0) of image 2
    const keyRows = allowedKeys(secondImage, 5, true);
    const weights = attentionRow(queries, keys, d, query, keyRows, 0.25);
    const { heat } = patchHeat(weights, keyRows, patchRow, patchCol, grid[0], grid[1]);
    expect(heat.slice(5).every((w) => w === 0)).toBeTrue();
    expect(heat.slice(0, 4).some((w) => w > 0)).toBeTrue();
    expect(() => patchHeat([0.5], [1, 2], patchRow, patchCol, 3, 4)).toThrowError(/weights for 2 keys/);
  });
});

describe('normalizeQK matches the kernel port (python kernel_layout.normalize_qk)', () => {
  it('reproduces the shared fixture of a real MiniLM head', () => {
    const n = fixture.n_tokens;
    const d = fixture.d_head;
    const q = Float32Array.from(fixture.queries);
    const k = Float32Array.from(fixture.keys);
    const out = normalizeQK(q, k, n, d, { translate: true, scale: true });
    const expected = { queries: Float32Array.from(fixture.normalized_queries), keys: Float32Array.from(fixture.normalized_keys) };
    let worst = 0;
    for (const name of ['queries', 'keys'] as const) {
      expect(out[name].length).toBe(n * d);
      for (let i = 0; i < n * d; i++) {
        const scale = Math.max(1, Math.abs(expected[name][i]));
        worst = Math.max(worst, Math.abs(out[name][i] - expected[name][i]) / scale);
      }
    }
    // float32 values from the same float64 constants: equal up to one rounding step
    expect(worst).toBeLessThan(1e-6);
  });
});
