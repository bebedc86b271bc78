// Three bundles. The layout and inference workers are built first and inlined as text into the widget
// module, which the Python package ships and anywidget loads from a blob: URL (so
// workers cannot be separate files next to it). No CDN: everything works offline.
const path = require('path');

const WORKER_BUNDLE = path.resolve(__dirname, 'build/layout-worker.js');
const INFERENCE_BUNDLE = path.resolve(__dirname, 'build/inference-worker.js');
// onnxruntime-web's runtime (WASM + WebGPU/JSEP). Too big to inline (28 MB): it is copied
// next to widget.js and handed to the inference worker as bytes by the host.
const ORT_WASM = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm');
const STATIC = path.resolve(__dirname, 'python_shim/attentionviz/static');

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

/** Same for `import source from 'attentionviz-inference-worker'` (src/inference/). */
const inferenceSource = {
  resolve: { alias: { 'attentionviz-inference-worker$': INFERENCE_BUNDLE } },
  rule: { include: INFERENCE_BUNDLE, type: 'asset/source' },
};

/** Copies the onnxruntime-web WASM binary into the Python package's static folder. */
class CopyOrtWasm {
  apply(compiler) {
    compiler.hooks.afterEmit.tapPromise('CopyOrtWasm', async () => {
      const fs = require('fs/promises');
      await fs.mkdir(STATIC, { recursive: true });
      await fs.copyFile(ORT_WASM, path.join(STATIC, path.basename(ORT_WASM)));
    });
  }
}

const worker = (env, argv) => ({
  name: 'worker',
  mode: argv.mode || 'production',
  target: 'webworker',
  entry: './src/layout/worker.ts',
  output: { path: path.dirname(WORKER_BUNDLE), filename: path.basename(WORKER_BUNDLE) },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [typescript] },
  devtool: false,
  performance: { hints: false },
});

const widget = (env, argv) => ({
  name: 'widget',
  dependencies: ['worker', 'inference-worker'],
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
  resolve: { extensions: ['.ts', '.js'], alias: { ...workerSource.resolve.alias, ...inferenceSource.resolve.alias } },
  module: { rules: [typescript, workerSource.rule, inferenceSource.rule] },
  devtool: false,
  performance: { hints: false },
});

// onnxruntime-web (its JS glue is in the bundle; the .wasm comes as bytes at run time) and
// the tokenizer, in a classic worker: no chunks, no webpack handling of new URL()/Worker().
const inferenceWorker = (env, argv) => ({
  name: 'inference-worker',
  mode: argv.mode || 'production',
  target: 'webworker',
  entry: './src/inference/worker.ts',
  output: {
    path: path.dirname(INFERENCE_BUNDLE),
    filename: path.basename(INFERENCE_BUNDLE),
    asyncChunks: false,
  },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [typescript], parser: { javascript: { url: false, worker: false } } },
  plugins: [new CopyOrtWasm()],
  devtool: false,
  performance: { hints: false },
});

module.exports = [worker, inferenceWorker, widget];
module.exports.WORKER_BUNDLE = WORKER_BUNDLE;
module.exports.workerSource = workerSource;
module.exports.INFERENCE_BUNDLE = INFERENCE_BUNDLE;
module.exports.inferenceSource = inferenceSource;
module.exports.ORT_WASM = ORT_WASM;
