/**
 * The matrix view's colour strip: a per-head number as a colour (viridis, low = dark
 * purple, high = yellow) so a grid of tiny cells reads as a heatmap of that number.
 */
const STOPS: Array<[number, number, number]> = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Colour of `t` in [0, 1] (clamped), as 'rgb(r, g, b)'. */
export function heatColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  const channel = (c: number): number => Math.round(a[c] + (b[c] - a[c]) * f);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}

/** Min and max of the finite values (a flat range when there are none). */
export function valueRange(values: number[]): [number, number] {
  let low = Infinity, high = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return low <= high ? [low, high] : [0, 1];
}

/** `value` placed in [low, high] as [0, 1] (0.5 when the range is flat). */
export function normalized(value: number, [low, high]: [number, number]): number {
  return high > low ? (value - low) / (high - low) : 0.5;
}
