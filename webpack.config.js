// Two bundles. The layout worker is built first and inlined as text into the widget
// module, which the Python package ships and anywidget loads from a blob: URL (so
// workers cannot be separate files next to it). No CDN: everything works offline.
const path = require('path');

const WORKER_BUNDLE = path.resolve(__dirname, 'build/layout-worker.js');

const typescript = {
  test: /\.ts$/,
  loader: 'ts-loader',
  options: { transpileOnly: true },
  exclude: /node_modules/,
};

/** Resolve `import source from 'attentionviz-layout-worker'` to the worker bundle's text. */
const workerSource = {
  resolve: { alias: { 'attentionviz-layout-worker$': WORKER_BUNDLE } },
  rule: { include: WORKER_BUNDLE, type: 'asset/source' },
};

const worker = (env, argv) => ({
  name: 'worker',
  mode: argv.mode || 'production',
  target: 'webworker',
  entry: './src/compute/worker.ts',
  output: { path: path.dirname(WORKER_BUNDLE), filename: path.basename(WORKER_BUNDLE) },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [typescript] },
  devtool: false,
  performance: { hints: false },
});

const widget = (env, argv) => ({
  name: 'widget',
  dependencies: ['worker'],
  mode: argv.mode || 'production',
  entry: './src/index.ts',
  output: {
    path: path.resolve(__dirname, 'python_shim/attentionviz/static'),
    filename: 'widget.js',
    library: { type: 'module' },
    chunkFormat: 'module',
  },
  experiments: { outputModule: true },
  optimization: { splitChunks: false },
  resolve: { extensions: ['.ts', '.js'], ...workerSource.resolve },
  module: { rules: [typescript, workerSource.rule] },
  devtool: false,
  performance: { hints: false },
});

module.exports = [worker, widget];
module.exports.WORKER_BUNDLE = WORKER_BUNDLE;
module.exports.workerSource = workerSource;
