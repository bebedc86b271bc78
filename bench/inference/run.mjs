// Inference benchmark: Q/K of a 128-token sentence with onnxruntime-web (WASM and WebGPU via
// SwiftShader) in headless Chromium vs onnxruntime in Python (CPU) on the same ONNX file, in
// the same run; download sizes (fp32 / fp16 weights / int8) and bundle sizes.
// Usage: node bench/inference/run.mjs [--runs N] [--skip-build] [--out=<markdown file>] [--json=<file>] [--mode=quick|full]
//   (--json: figures for bench/run_all.py, see bench/results.mjs)
// Prints a markdown table and writes it to bench/RESULTS-inference.md. Not a timed test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PYTHON, ROOT, buildInference, launch, pythonEnv, serve } from '../../e2e/inference_build.mjs';
import { jsonArg, row, writeReport, writeResult } from '../results.mjs';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1]) || 20;
const data = path.join(os.tmpdir(), 'attnviz-bench-inference');
const bundle = path.join(data, 'bundle');
mkdirSync(data, { recursive: true });

const started = new Date();
execFileSync(PYTHON, [path.join(ROOT, 'bench/inference/native.py'), data, '--runs', String(RUNS)], {
  env: pythonEnv(),
  stdio: ['ignore', 'ignore', 'inherit'],
});
const native = JSON.parse(readFileSync(path.join(data, 'native.json'), 'utf8'));
if (!argv.includes('--skip-build') || !existsSync(path.join(bundle, 'inference.js'))) await buildInference(bundle);

const server = await serve(bundle, data);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launch();
const page = await browser.newPage();
await page.goto(base);
await page.waitForFunction(() => window.inferenceReady === true);
const gpu = await page.evaluate(async () => {
  const adapter = await navigator.gpu?.requestAdapter();
  const info = adapter?.info;
  return adapter ? `${info?.vendor || '?'} ${info?.architecture || ''} ${info?.description || ''}`.trim() : 'none';
});

const CASES = [
  { name: 'WASM, fp32', folder: '/data/model/', backend: 'wasm', native: native.native_ms['1 thread'], nativeMin: native.native_min_ms['1 thread'] },
  // SwiftShader runs WebGPU compute on the CPU: seconds per run, so fewer runs.
  { name: 'WebGPU (SwiftShader), fp32', folder: '/data/model/', backend: 'webgpu', native: native.native_ms['1 thread'], nativeMin: native.native_min_ms['1 thread'], runs: 3 },
  { name: 'WASM, fp16 weights', folder: '/data/model-float16/', backend: 'wasm', native: native.quant.float16.median_ms_1_thread, nativeMin: native.quant.float16.min_ms_1_thread },
  { name: 'WASM, int8', folder: '/data/model-int8/', backend: 'wasm', native: native.quant.int8.median_ms_1_thread, nativeMin: native.quant.int8.min_ms_1_thread },
];
const rows = [];
for (const c of CASES) {
  const r = await page.evaluate(
    async ({ folder, backend, text, runs, warmup }) => {
      const { loadQKModelFromUrls, computeQK } = window.inference;
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const t0 = performance.now();
      const session = await loadQKModelFromUrls(folder, '/ort.wasm', backend);
      const loadMs = performance.now() - t0;
      try {
        // V8 runs a fresh 28 MB module on baseline (Liftoff) code and tiers hot functions up
        // to TurboFan while it runs: the first ~10 runs are 2-5x slower than steady state.
        for (let i = 0; i < warmup; i++) await computeQK(session, [text]);
        const wall = [];
        const run = [];
        let nTokens = 0;
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          const out = await computeQK(session, [text]);
          wall.push(performance.now() - t);
          run.push(out.runMs);
          nTokens = out.nTokens;
        }
        return { backend: session.backend, loadMs, wall: median(wall), run: median(run), runMin: Math.min(...run), nTokens };
      } finally {
        session.dispose();
      }
    },
    { folder: c.folder, backend: c.backend, text: native.text, runs: c.runs ?? RUNS, warmup: c.runs ? 1 : 12 },
  );
  if (r.backend !== c.backend) throw new Error(`${c.name} ran on ${r.backend}`);
  if (r.nTokens !== native.n_tokens) throw new Error(`${c.name}: ${r.nTokens} tokens, expected ${native.n_tokens}`);
  rows.push({ ...c, ...r, runs: c.runs ?? RUNS });
  console.error(`${c.name}: ${r.run.toFixed(1)} ms`);
}
const chromiumVersion = browser.version();
await browser.close();
server.close();

const size = (file) => {
  const body = readFileSync(file);
  return { bytes: body.length, gzip: gzipSync(body, { level: 6 }).length };
};
const mb = (n) => (n / 1e6).toFixed(1);
const kb = (n) => (n / 1e3).toFixed(0);
const files = {
  'model.onnx fp32': size(path.join(data, 'model/model.onnx')),
  'model.onnx fp16 weights': size(path.join(data, 'model-float16/model.onnx')),
  'model.onnx int8': size(path.join(data, 'model-int8/model.onnx')),
  'tokenizer.json': size(path.join(data, 'model/tokenizer.json')),
  'ort-wasm-simd-threaded.jsep.wasm': size(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm')),
};
const bundles = {
  'build/inference-worker.js (ort JS + tokenizer + worker)': size(path.join(ROOT, 'build/inference-worker.js')),
  'inference module (index.ts + the worker inlined as text)': size(path.join(bundle, 'inference.js')),
  '@huggingface/tokenizers (dist/tokenizers.min.mjs)': size(path.join(ROOT, 'node_modules/@huggingface/tokenizers/dist/tokenizers.min.mjs')),
};
const ortVersion = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;

const lines = [];
lines.push('# Inference benchmark: Q/K in the browser (onnxruntime-web) vs onnxruntime in Python');
lines.push('');
lines.push(`Run ${started.toISOString()} on ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'}), shared with other work.`);
lines.push(`Model: all-MiniLM-L6-v2 (6 layers x 12 heads, d_head 32) exported by \`attentionviz.onnx.export\` with every layer's Q/K as outputs; one sentence of ${native.n_tokens} tokens, batch 1; median and min of the timed runs, after 12 warm-up runs per WASM session (V8 tiers the WASM up from baseline code while it runs; the first runs are 2-5x slower) and 1 for WebGPU.`);
lines.push(`Browser: Chromium ${chromiumVersion} headless, onnxruntime-web ${ortVersion} in a web worker, 1 WASM thread (the page is not cross-origin isolated, like Jupyter), WebGPU adapter: ${gpu}. Native: onnxruntime ${native.onnxruntime} (Python, CPUExecutionProvider).`);
lines.push('');
lines.push('## Latency of Q/K for one 128-token sentence');
lines.push('');
lines.push('| backend | runs | model load (ms) | session.run median / min (ms) | computeQK median, incl. tokenizer + transfer (ms) | native onnxruntime, same file, 1 thread, median / min (ms) | ratio median / min | goal (<= 3x, on min) |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const ratio = r.run / r.native;
  const ratioMin = r.runMin / r.nativeMin;
  const goal = r.backend === 'wasm' ? (ratioMin <= 3 ? 'met' : 'missed') : 'n/a (software GPU)';
  lines.push(
    `| ${r.name} | ${r.runs} | ${r.loadMs.toFixed(0)} | ${r.run.toFixed(1)} / ${r.runMin.toFixed(1)} | ${r.wall.toFixed(1)} | ` +
      `${r.native.toFixed(1)} / ${r.nativeMin.toFixed(1)} | ${ratio.toFixed(2)}x / ${ratioMin.toFixed(2)}x | ${goal} |`,
  );
}
lines.push('');
lines.push(`Native onnxruntime, fp32, default threads (${native.cpu_count} cores): median ${native.native_ms['default threads'].toFixed(1)} ms, min ${native.native_min_ms['default threads'].toFixed(1)} ms.`);
lines.push('The 2 cores are shared with other jobs, so medians are noisy; the min (best run) is the fairer comparison of the two runtimes and is what the goal column uses.');
lines.push('');
lines.push('## Download to the browser');
lines.push('');
lines.push('| file | bytes | gzip |');
lines.push('|---|---:|---:|');
for (const [name, s] of Object.entries(files)) lines.push(`| ${name} | ${mb(s.bytes)} MB | ${mb(s.gzip)} MB |`);
for (const [name, s] of Object.entries(bundles)) lines.push(`| ${name} | ${kb(s.bytes)} kB | ${kb(s.gzip)} kB |`);
lines.push('');
lines.push('## Q/K error of the smaller models vs the fp32 export (onnxruntime, 16 corpus sentences)');
lines.push('');
lines.push(`| model | max abs error | mean relative error (Frobenius, per layer) | max abs Q/K value |`);
lines.push('|---|---:|---:|---:|');
for (const [name, q] of Object.entries(native.quant)) {
  lines.push(`| ${name === 'float16' ? 'fp16 weights (computed in fp32)' : 'int8 dynamic (per-channel weights)'} | ${q.max_abs.toExponential(2)} | ${q.mean_rel_fro.toExponential(2)} | ${native.max_abs_ref.toFixed(2)} |`);
}
lines.push('');
const table = lines.join('\n');
console.log(table);
const outFile = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? path.join(ROOT, 'bench/RESULTS-inference.md');
writeReport(outFile, table);
writeResult(jsonArg(), {
  bench: 'inference',
  title: 'Q/K in the browser (onnxruntime-web) vs onnxruntime in Python',
  started,
  details: path.relative(ROOT, outFile),
  rows: [
    ...rows.map((r) => {
      const ratioMin = r.runMin / r.nativeMin;
      return row(`Q/K of one ${native.n_tokens}-token sentence, ${r.name} (session.run min of ${r.runs})`, `${r.runMin.toFixed(1)} ms`, {
        baseline: `${r.nativeMin.toFixed(1)} ms (onnxruntime Python, 1 thread, same file)`,
        ratio: `${ratioMin.toFixed(2)}x`,
        goal: r.backend === 'wasm' ? '<= 3x' : 'n/a (software GPU)',
        met: r.backend === 'wasm' ? ratioMin <= 3 : null,
        note: `median ${r.run.toFixed(1)} ms vs ${r.native.toFixed(1)} ms`,
      });
    }),
    row('model download, int8 (gzip)', `${mb(files['model.onnx int8'].gzip)} MB`, {
      baseline: `${mb(files['model.onnx fp32'].gzip)} MB (fp32)`,
      ratio: `${(files['model.onnx int8'].gzip / files['model.onnx fp32'].gzip).toFixed(2)}x`,
    }),
  ],
});
