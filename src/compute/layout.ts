/**
 * One head's joint Q/K layout: normalize, stack queries over keys, project.
 * Pure and synchronous; runs inside layout workers (see worker.ts / pool.ts).
 */
import { fitNormalization, type Normalization } from './normalize';
import { pca } from './pca';

export type LayoutMethod = 'pca' | 'umap' | 'tsne';

export interface LayoutParams {
  method: LayoutMethod;
  dims: 2 | 3;
  normalize: boolean;
  seed: number;
  /** UMAP's SGD epochs; unset = umap.ts's default for the point count (500 down to 200 as it grows). */
  nEpochs?: number;
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
  const normalization = fitNormalization(queries, keys, nTokens, dHead, {
    translate: params.normalize,
    scale: params.normalize,
  });
  const layout = projector(normalizedJointRows(queries, keys, dHead, normalization), 2 * nTokens, dHead, params, onProgress);
  onProgress(1, 'done');
  return layout;
}

/**
 * jointRows(applyNormalization(queries, keys, dHead, normalization)) in one pass and one
 * array: queries times c, then keys plus shift divided by c, rounded to float32 at the
 * same steps (so the values are identical), without the two intermediate copies.
 */
export function normalizedJointRows(queries: Float32Array, keys: Float32Array, dHead: number, { shift, c }: Normalization): Float32Array {
  const joint = new Float32Array(queries.length + keys.length);
  if (c === 1) joint.set(queries, 0);
  else for (let i = 0; i < queries.length; i++) joint[i] = queries[i] * c;
  const rows = keys.length / dHead;
  for (let r = 0; r < rows; r++) {
    const offset = r * dHead;
    const out = queries.length + offset;
    for (let t = 0; t < dHead; t++) {
      const shifted = Math.fround(keys[offset + t] + shift[t]);
      joint[out + t] = c === 1 ? shifted : shifted / c;
    }
  }
  return joint;
}

/** Cache key of a layout: same capture, head, normalization, method and parameters -> same layout. */
export function layoutKey(captureId: string, layer: number, head: number, params: LayoutParams): string {
  const key = [captureId, layer, head, params.normalize ? 'norm' : 'raw', params.method, params.dims, params.seed];
  if (params.nEpochs !== undefined) key.push(`epochs${params.nEpochs}`);
  return key.join('|');
}
