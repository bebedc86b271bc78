/** Registers the non-linear layout methods with `jointLayout` (imported by the worker). */
import { registerProjector } from './layout';
import { umap } from './umap';

registerProjector('umap', (data, rows, cols, params, onProgress) =>
  umap(data, rows, cols, { nComponents: params.dims, seed: params.seed }, onProgress),
);
