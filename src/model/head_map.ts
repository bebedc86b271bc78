/**
 * The head map as the host sends it (`head-map` reply, protocol/kinds.ts): every head one
 * point, placed by the similarity of its attention to the other heads' (RMS Hellinger
 * distance over a shared sample of queries, embedded by classical MDS; computed in the
 * kernel, python_shim/attentionviz/core/head_map.py), with its summary numbers.
 */

/** The `head-map` reply's fields (its buffers: coordinates, then the numbers). */
export interface HeadMapResult {
  n_layers: number;
  n_heads: number;
  n_queries: number;
  measure: string;
  embedding: string;
  /** Share of the variance each axis shows. */
  explained: number[];
  /** Column names of the numbers buffer, e.g. ["entropy", "distance", "offset"]. */
  stats: string[];
  /** Per head (flat index layer * n_heads + head): its closest other head, and how far. */
  nearest: number[];
  nearest_distance: number[];
}

export interface HeadMapData {
  nLayers: number;
  nHeads: number;
  nQueries: number;
  measure: string;
  embedding: string;
  explained: number[];
  /** [n, 2] row-major, n = nLayers * nHeads. */
  coords: Float32Array;
  /** Per statistic, one value per head. */
  stats: Record<string, Float32Array>;
  nearest: number[];
  nearestDistance: number[];
}

function floats(view: DataView, count: number, what: string): Float32Array {
  if (view.byteLength < count * 4) throw new Error(`head map: the ${what} buffer holds ${view.byteLength} bytes, ${count * 4} expected`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The reply decoded; throws naming what does not fit. */
export function decodeHeadMap(result: HeadMapResult, buffers: DataView[]): HeadMapData {
  const n = result.n_layers * result.n_heads;
  if (!(n > 0)) throw new Error('head map: the capture has no heads');
  if (buffers.length < 2) throw new Error('head map: the reply lacks its coordinates and numbers');
  const names = result.stats ?? [];
  const values = floats(buffers[1], n * names.length, 'numbers');
  const stats: Record<string, Float32Array> = {};
  names.forEach((name, column) => {
    stats[name] = Float32Array.from({ length: n }, (_, i) => values[i * names.length + column]);
  });
  return {
    nLayers: result.n_layers,
    nHeads: result.n_heads,
    nQueries: result.n_queries,
    measure: result.measure,
    embedding: result.embedding,
    explained: result.explained ?? [],
    coords: floats(buffers[0], n * 2, 'coordinates'),
    stats,
    nearest: result.nearest ?? [],
    nearestDistance: result.nearest_distance ?? [],
  };
}
