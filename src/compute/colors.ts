/**
 * Point colours as rgb float triples in [0, 1], three per point, for the 2N points of
 * a joint layout (queries first, then keys).
 */

export type RGB = [number, number, number];

export function hexToRgb(hex: string): RGB {
  const value = parseInt(hex.replace('#', ''), 16);
  return [((value >> 16) & 255) / 255, ((value >> 8) & 255) / 255, (value & 255) / 255];
}

/** Queries in one colour, keys in another. */
export function queryKeyColors(nTokens: number, query: RGB, key: RGB): Float32Array {
  const rgb = new Float32Array(nTokens * 6);
  for (let i = 0; i < nTokens; i++) rgb.set(query, 3 * i);
  for (let i = 0; i < nTokens; i++) rgb.set(key, 3 * (nTokens + i));
  return rgb;
}

/** Linear interpolation through evenly spaced colour stops; t in [0, 1]. */
export function rampColor(stops: RGB[], t: number): RGB {
  const clamped = Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t));
  const scaled = clamped * (stops.length - 1);
  const i = Math.min(Math.floor(scaled), stops.length - 2);
  const f = scaled - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * Colour by a per-token value in [0, 1] on a ramp; queries use the ramp as is and
 * keys a lighter shade of it, so the two kinds stay distinguishable.
 */
export function valueColors(values: ArrayLike<number>, query: RGB[], key: RGB[]): Float32Array {
  const n = values.length;
  const rgb = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    rgb.set(rampColor(query, values[i]), 3 * i);
    rgb.set(rampColor(key, values[i]), 3 * (n + i));
  }
  return rgb;
}

/** Categorical colours (e.g. sequence id) from a palette, cycling. */
export function categoryColors(categories: ArrayLike<number>, palette: RGB[]): Float32Array {
  const n = categories.length;
  const rgb = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const colour = palette[((categories[i] % palette.length) + palette.length) % palette.length];
    rgb.set(colour, 3 * i);
    rgb.set(colour, 3 * (n + i));
  }
  return rgb;
}
