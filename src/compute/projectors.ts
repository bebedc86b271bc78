/** Registers the non-linear layout methods with `jointLayout` (imported by the worker). */
import { registerProjector } from './layout';
import { tsne } from './tsne';
import { umap } from './umap';

registerProjector('umap', (data, rows, cols, params, onProgress) =>
  umap(data, rows, cols, { nComponents: params.dims, seed: params.seed, nEpochs: params.nEpochs }, onProgress),
);

registerProjector('tsne', (data, rows, cols, params, onProgress) =>
  tsne(data, rows, cols, { nComponents: params.dims, seed: params.seed }, (fraction) => onProgress(fraction, 'optimize')),
);
