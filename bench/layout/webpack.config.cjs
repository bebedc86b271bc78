// Bench bundle for bench/layout/run.mjs: the page that runs every layout method, plus
// three one-import entries used only to measure what each UMAP costs in bundle bytes.
const path = require('path');

const root = path.resolve(__dirname, '../..');
// env.atlas === false (run.mjs --no-atlas): embedding-atlas is not installed, so its size entry is
// dropped and its import resolves to a stub that throws if the page is asked to run it.
module.exports = (env = {}) => ({
  mode: env.mode || 'production',
  context: root,
  entry: {
    page: './bench/layout/page.ts',
    'size-ours': './bench/layout/size_ours.ts',
    'size-umapjs': './bench/layout/size_umapjs.ts',
    ...(env.atlas === false ? {} : { 'size-atlas': './bench/layout/size_atlas.ts' }),
  },
  output: { path: path.join(__dirname, 'dist'), filename: '[name].js', clean: true },
  devtool: false,
  performance: { hints: false },
  resolve: {
    extensions: ['.ts', '.js'],
    alias: {
      // embedding-atlas exports only its UI entry points; its WASM UMAP lives in dist/umap.js.
      'embedding-atlas-umap$':
        env.atlas === false ? path.join(__dirname, 'atlas_absent.ts') : path.join(root, 'node_modules/embedding-atlas/dist/umap.js'),
    },
  },
  module: {
    rules: [
      { test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true, configFile: path.join(root, 'tests/ts/tsconfig.json') }, exclude: /node_modules/ },
    ],
  },
});
