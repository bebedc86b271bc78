// Types of embedding-atlas/dist/umap.js (aliased as 'embedding-atlas-umap' by webpack.config.cjs).
declare module 'embedding-atlas-umap' {
  export * from 'embedding-atlas/dist/umap';
}
