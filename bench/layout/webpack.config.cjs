// Bench bundle for bench/layout/run.mjs: the page that runs every layout method, plus
// three one-import entries used only to measure what each UMAP costs in bundle bytes.
const path = require('path');

const root = path.resolve(__dirname, '../..');
module.exports = (env = {}) => ({
  mode: env.mode || 'production',
  context: root,
  entry: {
    page: './bench/layout/page.ts',
    'size-ours': './bench/layout/size_ours.ts',
    'size-umapjs': './bench/layout/size_umapjs.ts',
    'size-atlas': './bench/layout/size_atlas.ts',
  },
  output: { path: path.join(__dirname, 'dist'), filename: '[name].js', clean: true },
  devtool: false,
  performance: { hints: false },
  resolve: {
    extensions: ['.ts', '.js'],
    alias: {
      // embedding-atlas exports only its UI entry points; its WASM UMAP lives in dist/umap.js.
      'embedding-atlas-umap$': path.join(root, 'node_modules/embedding-atlas/dist/umap.js'),
    },
  },
  module: {
    rules: [
      { test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true, configFile: path.join(root, 'tests/ts/tsconfig.json') }, exclude: /node_modules/ },
    ],
  },
});
