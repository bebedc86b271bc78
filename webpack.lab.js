// Extra webpack config merged by @jupyterlab/builder into the Lab extension build:
// the layout worker's bundle is inlined as text there too.
const { workerSource } = require('./webpack.config.js');

module.exports = {
  resolve: workerSource.resolve,
  module: { rules: [workerSource.rule] },
};
