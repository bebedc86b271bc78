// Extra webpack config merged by @jupyterlab/builder into the Lab extension build: the
// layout and inference workers' bundles are inlined as text there too (the builder also
// bundles the package's main module, lib/index.js, which imports both).
const { workerSource, inferenceSource } = require('./webpack.config.js');

module.exports = {
  resolve: { alias: { ...workerSource.resolve.alias, ...inferenceSource.resolve.alias } },
  module: { rules: [workerSource.rule, inferenceSource.rule] },
};
