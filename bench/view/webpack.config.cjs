// Bench bundle for bench/view/run.mjs. Two configs, like the root webpack.config.js:
// the layout worker (the root's own worker config, output redirected here so the shared
// build/ folder is not touched), then the page, which inlines the worker's text through
// the root's `workerSource` alias/rule shape pointed at that bundle.
const path = require('path');

const root = path.resolve(__dirname, '../..');
const rootConfig = require(path.join(root, 'webpack.config.js'));
const dist = path.join(__dirname, 'dist');
const WORKER_BUNDLE = path.join(dist, 'layout-worker.js');

const tsRule = {
  test: /\.ts$/,
  loader: 'ts-loader',
  options: { transpileOnly: true, configFile: path.join(root, 'tests/ts/tsconfig.json') },
  exclude: /node_modules/,
};

module.exports = (env = {}) => {
  const mode = env.mode || 'production';
  const rootWorker = rootConfig[0]({}, { mode });
  const worker = {
    ...rootWorker,
    context: root,
    output: { path: dist, filename: path.basename(WORKER_BUNDLE) },
  };
  const alias = { 'attentionviz-layout-worker$': WORKER_BUNDLE };
  if (Object.keys(rootConfig.workerSource.resolve.alias).join() !== Object.keys(alias).join()) {
    throw new Error('root webpack.config.js changed its workerSource alias; update bench/view/webpack.config.cjs');
  }
  const page = {
    name: 'page',
    dependencies: ['worker'],
    mode,
    context: root,
    entry: { page: './bench/view/page.ts' },
    output: { path: dist, filename: '[name].js' },
    devtool: false,
    performance: { hints: false },
    // Same code as shipped (production), but unmangled names so CPU profiles are readable.
    optimization: { minimize: false },
    resolve: { extensions: ['.ts', '.js'], alias },
    module: { rules: [tsRule, { ...rootConfig.workerSource.rule, include: WORKER_BUNDLE }] },
  };
  return [worker, page];
};
