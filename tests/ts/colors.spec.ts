import { categoryColors, hexToRgb, queryKeyColors, rampColor, valueColors, type RGB } from '../../src/compute/colors';

function triple(rgb: Float32Array, point: number): number[] {
  return Array.from(rgb.subarray(3 * point, 3 * point + 3));
}

describe('colours', () => {
  const QUERY: RGB = [0.25, 0.5, 0.75];
  const KEY: RGB = [1, 0, 0.125];

  it('hexToRgb reads #rrggbb', () => {
    expect(hexToRgb('#ff8000')).toEqual([1, 128 / 255, 0]);
    expect(hexToRgb('000000')).toEqual([0, 0, 0]);
  });

  it('queryKeyColors: the first n points get the query colour, the next n the key colour', () => {
    const n = 4;
    const rgb = queryKeyColors(n, QUERY, KEY);
    expect(rgb.length).toBe(6 * n);
    for (let i = 0; i < n; i++) {
      expect(triple(rgb, i)).withContext(`query ${i}`).toEqual(QUERY);
      expect(triple(rgb, n + i)).withContext(`key ${i}`).toEqual(KEY);
    }
    expect(queryKeyColors(0, QUERY, KEY).length).toBe(0);
  });

  it('rampColor hits the end stops at 0 and 1, and the middle stop at 0.5', () => {
    const stops: RGB[] = [[0, 0, 0], [1, 0.5, 0], [1, 1, 1]];
    expect(rampColor(stops, 0)).toEqual([0, 0, 0]);
    expect(rampColor(stops, 1)).toEqual([1, 1, 1]);
    expect(rampColor(stops, 0.5)).toEqual([1, 0.5, 0]);
    const quarter = rampColor(stops, 0.25);
    [0.5, 0.25, 0].forEach((v, i) => expect(quarter[i]).toBeCloseTo(v, 12));
  });

  it('rampColor clamps t outside [0, 1] and treats NaN as 0', () => {
    const stops: RGB[] = [[0.5, 0.5, 0.5], [1, 0, 0]];
    expect(rampColor(stops, -3)).toEqual([0.5, 0.5, 0.5]);
    expect(rampColor(stops, 7)).toEqual([1, 0, 0]);
    expect(rampColor(stops, NaN)).toEqual([0.5, 0.5, 0.5]);
  });

  it('valueColors uses the query ramp for queries and the key ramp for keys', () => {
    const query: RGB[] = [[0, 0, 0], [1, 1, 1]];
    const key: RGB[] = [[0, 0, 1], [0, 0, 1]];
    const rgb = valueColors([0, 1], query, key);
    expect(triple(rgb, 0)).toEqual([0, 0, 0]);
    expect(triple(rgb, 1)).toEqual([1, 1, 1]);
    expect(triple(rgb, 2)).toEqual([0, 0, 1]);
    expect(triple(rgb, 3)).toEqual([0, 0, 1]);
  });

  it('categoryColors gives a token the same colour for its query and key, cycling the palette', () => {
    const palette: RGB[] = [[1, 0, 0], [0, 1, 0]];
    const rgb = categoryColors([0, 1, 2, -1], palette);
    expect(triple(rgb, 0)).toEqual([1, 0, 0]);
    expect(triple(rgb, 1)).toEqual([0, 1, 0]);
    expect(triple(rgb, 2)).toEqual([1, 0, 0]);
    expect(triple(rgb, 3)).toEqual([0, 1, 0]);
    for (let i = 0; i < 4; i++) expect(triple(rgb, 4 + i)).toEqual(triple(rgb, i));
  });
});
