// Stand-in for embedding-atlas's UMAP when the bench runs with --no-atlas (the package is
// installed on demand only): asking for it is a clear error, never a silent fallback.
export function createUMAP(): never {
  throw new Error('embedding-atlas is not installed: run bench/layout/run.mjs without --no-atlas');
}
