// Bundles the widget front end (src/index.ts) into one ES module that the Python
// package ships and anywidget loads: no CDN, works offline.
const path = require('path');

module.exports = (env, argv) => ({
  mode: argv.mode || 'production',
  entry: './src/index.ts',
  output: {
    path: path.resolve(__dirname, 'python_shim/attentionviz/static'),
    filename: 'widget.js',
    library: { type: 'module' },
    // The bundle is loaded from a blob: URL by anywidget; keep everything in one chunk.
    chunkFormat: 'module',
  },
  experiments: { outputModule: true },
  optimization: { splitChunks: false },
  resolve: { extensions: ['.ts', '.js'] },
  module: {
    rules: [
      { test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true }, exclude: /node_modules/ },
    ],
  },
  devtool: false,
  performance: { hints: false },
});
