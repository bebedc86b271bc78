/** The vocabulary of the layout layer: which method, with which parameters, and a projector's shape. */

export type LayoutMethod = 'pca' | 'umap' | 'tsne';

export interface LayoutParams {
  method: LayoutMethod;
  dims: 2 | 3;
  normalize: boolean;
  seed: number;
  /** UMAP's SGD epochs; unset = umap.ts's default for the point count (500 down to 200 as it grows). */
  nEpochs?: number;
}

/** Called with the fraction done (0..1) and the stage name ('knn', 'optimize', 'done', ...). */
export type ProgressCallback = (fraction: number, stage: string) => void;

/** Rows [rows, cols] row-major -> positions [rows, params.dims] row-major. */
export type Projector = (data: Float32Array, rows: number, cols: number, params: LayoutParams, onProgress: ProgressCallback) => Float32Array;
