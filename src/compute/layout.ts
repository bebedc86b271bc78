/**
 * One head's joint Q/K layout: normalize, stack queries over keys, project.
 * Pure and synchronous; runs inside layout workers (see worker.ts / pool.ts).
 */
import { jointRows, normalizeQK } from './normalize';
import { pca } from './pca';

export type LayoutMethod = 'pca' | 'umap' | 'tsne';

export interface LayoutParams {
  method: LayoutMethod;
  dims: 2 | 3;
  normalize: boolean;
  seed: number;
}

export type Projector = (
  data: Float32Array,
  rows: number,
  cols: number,
  params: LayoutParams,
  onProgress: (fraction: number, stage: string) => void,
) => Float32Array;

const projectors = new Map<LayoutMethod, Projector>([
  ['pca', (data, rows, cols, params) => pca(data, rows, cols, params.dims).coordinates],
]);

/** Make a projection method available to `jointLayout` (UMAP and t-SNE register themselves). */
export function registerProjector(method: LayoutMethod, projector: Projector): void {
  projectors.set(method, projector);
}

export function availableMethods(): LayoutMethod[] {
  return [...projectors.keys()];
}

/**
 * Positions of the 2N points of one head ([2N, dims] row-major; queries first):
 * the joint embedding of its (optionally normalized) queries and keys.
 */
export function jointLayout(
  queries: Float32Array,
  keys: Float32Array,
  nTokens: number,
  dHead: number,
  params: LayoutParams,
  onProgress: (fraction: number, stage: string) => void = () => {},
): Float32Array {
  const projector = projectors.get(params.method);
  if (!projector) throw new Error(`unknown layout method "${params.method}" (have: ${availableMethods().join(', ')})`);
  const normalized = normalizeQK(queries, keys, nTokens, dHead, {
    translate: params.normalize,
    scale: params.normalize,
  });
  const layout = projector(jointRows(normalized.queries, normalized.keys), 2 * nTokens, dHead, params, onProgress);
  onProgress(1, 'done');
  return layout;
}

/** Cache key of a layout: same capture, head, normalization, method and parameters -> same layout. */
export function layoutKey(captureId: string, layer: number, head: number, params: LayoutParams): string {
  return [captureId, layer, head, params.normalize ? 'norm' : 'raw', params.method, params.dims, params.seed].join('|');
}
