// Shared by e2e/inference.test.mjs and bench/inference/run.mjs: build the inference worker
// bundle (webpack config `inference-worker`) and a page bundle exposing src/inference/index.ts
// as an ES module, serve them + a model folder on 127.0.0.1, launch Debian's Chromium.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS as BASE_ARGS } from './lab.mjs';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The e2e flags plus the ones that give headless Chromium a (SwiftShader) WebGPU adapter.
export const CHROMIUM_ARGS = [
  ...BASE_ARGS,
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
];

/** Build build/inference-worker.js, then OUT/inference.js (index.ts with the worker inlined). */
export async function buildInference(outDir) {
  const webpack = require('webpack');
  const configs = require(path.join(ROOT, 'webpack.config.js'));
  const { inferenceSource } = configs;
  const argv = { mode: 'production' };
  const worker = configs.map((make) => make({}, argv)).find((c) => c.name === 'inference-worker');
  const page = {
    name: 'inference-page',
    dependencies: ['inference-worker'],
    mode: 'production',
    context: ROOT,
    entry: './src/inference/index.ts',
    output: { path: outDir, filename: 'inference.js', library: { type: 'module' }, chunkFormat: 'module' },
    experiments: { outputModule: true },
    optimization: { splitChunks: false },
    resolve: { extensions: ['.ts', '.js'], ...inferenceSource.resolve },
    module: {
      rules: [
        { test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true }, exclude: /node_modules/ },
        inferenceSource.rule,
      ],
    },
    devtool: false,
    performance: { hints: false },
  };
  await new Promise((resolve, reject) =>
    webpack([{ ...worker, context: ROOT }, page], (err, stats) =>
      err || stats.hasErrors() ? reject(err || new Error(stats.toString('errors-only'))) : resolve(),
    ),
  );
}

const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.wasm': 'application/wasm' };

/** Serve `/` (a page that puts the inference module on window.inference), `/inference.js`
 * from bundleDir, `/ort.wasm`, and `/data/*` from dataDir. Counts requests to other hosts: none. */
export function serve(bundleDir, dataDir) {
  const html = `<!doctype html><meta charset="utf-8"><title>inference</title>
<script type="module">import * as inference from '/inference.js'; window.inference = inference; window.inferenceReady = true;</script>`;
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file;
    if (url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    if (url === '/inference.js') file = path.join(bundleDir, 'inference.js');
    else if (url === '/ort.wasm') file = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm');
    else if (url.startsWith('/data/')) file = path.join(dataDir, url.slice('/data/'.length));
    if (!file || (url.startsWith('/data/') && !file.startsWith(dataDir))) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Python with the project on the path, offline. */
export function pythonEnv() {
  return {
    ...process.env,
    HF_HUB_OFFLINE: '1',
    PYTHONPATH: path.join(ROOT, 'python_shim') + (process.env.PYTHONPATH ? `:${process.env.PYTHONPATH}` : ''),
  };
}
export const PYTHON = path.join(ROOT, '.venv/bin/python');
