/**
 * Every layout method, in one table. A static table rather than modules registering
 * themselves on import: whoever imports `jointLayout` (a worker or the main-thread
 * fallback) has every method, and a method added to `LayoutMethod` must be added here
 * or the build fails.
 */
import { pca } from './pca';
import { tsne } from './tsne';
import type { LayoutMethod, Projector } from './types';
import { umap } from './umap';

const PROJECTORS: Record<LayoutMethod, Projector> = {
  pca: (data, rows, cols, params) => pca(data, rows, cols, params.dims).coordinates,
  umap: (data, rows, cols, params, onProgress) => umap(data, rows, cols, { nComponents: params.dims, seed: params.seed, nEpochs: params.nEpochs }, onProgress),
  tsne: (data, rows, cols, params, onProgress) => tsne(data, rows, cols, { nComponents: params.dims, seed: params.seed }, (fraction) => onProgress(fraction, 'optimize')),
};

export function availableMethods(): LayoutMethod[] {
  return Object.keys(PROJECTORS) as LayoutMethod[];
}

/** The projector of `method`, or undefined for a name that is not a layout method (e.g. from a message). */
export function projectorFor(method: string): Projector | undefined {
  return Object.hasOwn(PROJECTORS, method) ? PROJECTORS[method as LayoutMethod] : undefined;
}
