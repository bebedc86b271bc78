/** jointLayout's one-pass normalization: the same values as normalizeQK + jointRows. */
import { jointLayout, normalizedJointRows } from '../../src/layout/joint';
import { applyNormalization, fitNormalization, jointRows, normalizeQK } from '../../src/compute/normalize';
import { pca } from '../../src/layout/pca';
import { gaussian, mulberry32 } from './helpers';

function mismatches(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let count = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) count++;
  return count;
}

describe('normalizedJointRows / jointLayout', () => {
  const normal = gaussian(mulberry32(77));
  const nTokens = 301;
  const cases = [5, 32].map((dHead) => ({
    dHead,
    queries: Float32Array.from({ length: nTokens * dHead }, () => 3 * normal() + 1),
    keys: Float32Array.from({ length: nTokens * dHead }, () => 0.2 * normal() - 7),
  }));

  it('equals jointRows(applyNormalization(...)) value for value, with and without normalization', () => {
    for (const { dHead, queries, keys } of cases) {
      for (const normalize of [true, false]) {
        const fitted = fitNormalization(queries, keys, nTokens, dHead, { translate: normalize, scale: normalize });
        expect(fitted.c === 1).toBe(!normalize);
        const applied = applyNormalization(queries, keys, dHead, fitted);
        const want = jointRows(applied.queries, applied.keys);
        expect(mismatches(normalizedJointRows(queries, keys, dHead, fitted), want)).withContext(`d ${dHead}, normalize ${normalize}`).toBe(0);
      }
    }
  });

  it('gives the PCA layout of pca(jointRows(normalizeQK(...)))', () => {
    for (const { dHead, queries, keys } of cases) {
      for (const dims of [2, 3] as const) {
        const got = jointLayout(queries, keys, nTokens, dHead, { method: 'pca', dims, normalize: true, seed: 1 });
        const n = normalizeQK(queries, keys, nTokens, dHead, { translate: true, scale: true });
        const want = pca(jointRows(n.queries, n.keys), 2 * nTokens, dHead, dims).coordinates;
        expect(mismatches(got, want)).withContext(`d ${dHead}, ${dims}D`).toBe(0);
      }
    }
  });
});
