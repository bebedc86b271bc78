// Transfer benchmark: one head's Q/K from the kernel to the browser, through a real comm in a
// real JupyterLab, as the widget sends it (binary fp16 buffers beside a small JSON message,
// `AttentionViz._head_payload`, decoded by `decodeMatrix` from src/model/decode.ts) vs a JSON
// list-of-lists baseline (`q.tolist()` in the message content, flattened into a Float32Array
// in the browser), both measured in the same run, interleaved.
// Usage: node bench/transfer/run.mjs [--tokens=N] [--rounds=N] [--out=<markdown file>] [--json=<file>] [--mode=quick|full]
//   (makes its capture with bench/transfer/make_data.py on first use). Not a timed test.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { launchBrowser, startLab } from '../../e2e/lab.mjs';
import { jsonArg, row, writeReport, writeResult } from '../results.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const option = (name, fallback) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const MIN_TOKENS = Number(option('tokens', 10000));
const ROUNDS = Number(option('rounds', 5));
const OUT = option('out', path.join(root, 'bench', 'results', 'transfer.md'));
const LAYER = 0; // the capture stores one layer (model layer 2)
const HEAD = 0;
const log = (...a) => console.error('[bench]', ...a);

/** src/model/decode.ts as a function body returning its exports (the real decoder, transpiled). */
function decoderSource() {
  const ts = require('typescript');
  const source = readFileSync(path.join(root, 'src/model/decode.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2021 } }).outputText;
  const body = js.replace(/^import .*$/gm, '').replace(/^export /gm, '');
  return `${body}\nreturn { decodeMatrix };`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const ms = (v) => `${v.toFixed(0)} ms`;

const KERNEL_SETUP = (file) => `
import json, time
import numpy as np
import attentionviz as av
from comm import create_comm

_cap = av.load(${JSON.stringify(file)})
_viz = av.AttentionViz(_cap, head=(${LAYER}, ${HEAD}))
_comm = create_comm(target_name="attnviz-bench", data={})


def _send_binary(i):
    t0 = time.time()
    meta, q, k = _viz._head_payload(${LAYER}, ${HEAD})  # exactly what the widget sends
    t1 = time.time()
    _comm.send({"type": "qk", "request": i, **meta}, buffers=[q, k])
    t2 = time.time()
    print(json.dumps({"t0": t0 * 1e3, "built": t1 * 1e3, "sent": t2 * 1e3}))


def _send_json(i):
    t0 = time.time()
    q, k = _cap.qk(${LAYER}, ${HEAD})
    content = {"type": "qk-json", "request": i, "layer": ${LAYER}, "head": ${HEAD},
               "n_tokens": int(q.shape[0]), "d_head": int(q.shape[1]),
               "queries": q.tolist(), "keys": k.tolist()}
    t1 = time.time()
    _comm.send(content)
    t2 = time.time()
    print(json.dumps({"t0": t0 * 1e3, "built": t1 * 1e3, "sent": t2 * 1e3}))


print(json.dumps({"n_tokens": _cap.n_tokens, "d_head": _cap.d_head, "dtype": _cap.dtype}))
`;

async function execute(page, code) {
  return page.evaluate(async (source) => {
    const future = window.benchKernel.requestExecute({ code: source, store_history: false });
    let stdout = '';
    let error = '';
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === 'stream') stdout += msg.content.text;
      if (msg.header.msg_type === 'error') error = `${msg.content.ename}: ${msg.content.evalue}\n${msg.content.traceback.join('\n')}`;
    };
    await future.done;
    if (error) throw new Error(`kernel error: ${error}`);
    return stdout;
  }, code);
}

async function main() {
  const started = new Date();
  log(`capture of >= ${MIN_TOKENS} tokens`);
  const data = JSON.parse(
    execFileSync(path.join(root, '.venv/bin/python'), [path.join(here, 'make_data.py'), String(MIN_TOKENS)], {
      env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONPATH: path.join(root, 'python_shim') },
      stdio: ['ignore', 'pipe', 'inherit'],
    }).toString().trim().split('\n').pop(),
  );
  const lab = await startLab();
  const browser = await launchBrowser();
  const results = { binary: [], json: [] };
  let info;
  let versions;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e));
    // Bytes on the wire: every websocket frame the page receives, by size.
    let frames = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.length)));
    await page.goto(`${lab.url}/lab?token=${lab.token}`);
    await page.waitForFunction(() => window.jupyterapp?.serviceManager?.isReady, null, { timeout: 120_000 });
    versions = await page.evaluate(async (decoder) => {
      const app = window.jupyterapp;
      await app.serviceManager.ready;
      const kernel = await app.serviceManager.kernels.startNew({ name: 'python3' });
      window.benchKernel = kernel;
      window.benchDecode = new Function(decoder)();
      window.benchReceived = new Map();
      kernel.registerCommTarget('attnviz-bench', (comm) => {
        comm.onMsg = (msg) => {
          const received = performance.timeOrigin + performance.now();
          const c = msg.content.data;
          const n = c.n_tokens * c.d_head;
          let queries;
          let keys;
          if (c.type === 'qk') {
            const view = (b) => (b instanceof DataView ? b : ArrayBuffer.isView(b) ? new DataView(b.buffer, b.byteOffset, b.byteLength) : new DataView(b));
            queries = window.benchDecode.decodeMatrix(view(msg.buffers[0]), c.dtype, c.n_tokens, c.d_head);
            keys = window.benchDecode.decodeMatrix(view(msg.buffers[1]), c.dtype, c.n_tokens, c.d_head);
          } else {
            // The JSON path: the parsed list of lists into the Float32Array the views need.
            queries = new Float32Array(n);
            keys = new Float32Array(n);
            for (let r = 0; r < c.n_tokens; r++) {
              queries.set(c.queries[r], r * c.d_head);
              keys.set(c.keys[r], r * c.d_head);
            }
          }
          const decoded = performance.timeOrigin + performance.now();
          let checksum = 0;
          for (let i = 0; i < n; i += 97) checksum += queries[i] + keys[i];
          window.benchReceived.set(c.request, { received, decoded, checksum, n });
        };
      });
      return { lab: app.version };
    }, decoderSource());
    info = JSON.parse((await execute(page, KERNEL_SETUP(data.path))).trim().split('\n').pop());
    log(`kernel ready: ${info.n_tokens} tokens, d_head ${info.d_head}; load ${os.loadavg()[0].toFixed(1)}`);
    const checksums = {};
    // Round 0 is an untimed warm-up of both paths (page cache, JIT of the decode loops).
    for (let round = 0; round <= ROUNDS; round++) {
      for (const kind of round % 2 ? ['json', 'binary'] : ['binary', 'json']) {
        const request = round * 2 + (kind === 'json' ? 1 : 0);
        frames = [];
        const kernelTimes = JSON.parse(await execute(page, `_send_${kind}(${request})`));
        await page.waitForFunction((r) => window.benchReceived.has(r), request, { timeout: 300_000, polling: 50 });
        const browserTimes = await page.evaluate((r) => window.benchReceived.get(r), request);
        const wire = Math.max(...frames);
        checksums[kind] = browserTimes.checksum;
        if (round > 0) results[kind].push({ ...kernelTimes, ...browserTimes, wire });
        log(`${kind} #${round}: ${((browserTimes.decoded - kernelTimes.t0) / 1e3).toFixed(2)} s, ${mb(wire)}`);
      }
    }
    // Both paths delivered the same matrices (fp16 rounding apart).
    if (Math.abs(checksums.binary - checksums.json) > 1e-2 * Math.max(1, Math.abs(checksums.json))) {
      throw new Error(`binary and JSON paths decoded different values (checksums ${checksums.binary} vs ${checksums.json})`);
    }
    await execute(page, '_comm.close()');
  } finally {
    await browser.close().catch(() => {});
    await lab.stop();
  }

  const summary = {};
  for (const kind of ['binary', 'json']) {
    const rs = results[kind];
    summary[kind] = {
      wire: median(rs.map((r) => r.wire)),
      build: median(rs.map((r) => r.built - r.t0)),
      send: median(rs.map((r) => r.sent - r.built)),
      transport: median(rs.map((r) => r.received - r.sent)),
      decode: median(rs.map((r) => r.decoded - r.received)),
      total: median(rs.map((r) => r.decoded - r.t0)),
    };
  }
  const b = summary.binary;
  const j = summary.json;
  const rawFp16 = 2 * info.n_tokens * info.d_head * 2;
  const what = `one MiniLM head (layer ${data.layer}, head ${HEAD}), ${info.n_tokens.toLocaleString('en-US')} tokens x d_head ${info.d_head}, Q+K`;
  const rows = [
    row(`kernel -> browser bytes on the wire, ${what}`, `${mb(b.wire)} (fp16 buffers)`, {
      baseline: `${mb(j.wire)} (JSON lists)`,
      ratio: `${(b.wire / j.wire).toFixed(3)}x (${(j.wire / b.wire).toFixed(1)}x smaller)`,
      goal: 'smaller than JSON',
      met: b.wire < j.wire,
      note: `raw fp16 Q+K ${mb(rawFp16)}`,
    }),
    row(`kernel -> browser time, ${what} (median of ${ROUNDS}: build + comm send + JupyterLab websocket + decode)`, ms(b.total), {
      baseline: `${ms(j.total)} (JSON lists)`,
      ratio: `${(b.total / j.total).toFixed(3)}x (${(j.total / b.total).toFixed(1)}x faster)`,
      goal: 'faster than JSON',
      met: b.total < j.total,
      note: 'real comm through a real JupyterLab on 127.0.0.1',
    }),
  ];
  const phases = ['build', 'send', 'transport', 'decode', 'total'];
  const table = [
    '| path | bytes on the wire | build payload (kernel) | comm send (kernel, serialize) | server + websocket + parse | decode to Float32Array (browser) | total |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| binary fp16 buffers (the widget) | ${mb(b.wire)} | ${phases.slice(0, 4).map((p) => ms(b[p])).join(' | ')} | ${ms(b.total)} |`,
    `| JSON list of lists (baseline) | ${mb(j.wire)} | ${phases.slice(0, 4).map((p) => ms(j[p])).join(' | ')} | ${ms(j.total)} |`,
  ].join('\n');
  const text = `# Transfer benchmark (bench/transfer)

Measured ${started.toISOString()} by \`node bench/transfer/run.mjs${argv.length ? ' ' + argv.join(' ') : ''}\`, JupyterLab ${versions.lab} on 127.0.0.1
(started by \`e2e/lab.mjs\`), headless Chromium (Debian), ${os.cpus().length} CPU cores shared with other jobs (load average at the end ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}).

**Data**: ${what}, real Q/K of sentence-transformers/all-MiniLM-L6-v2 on \`make_sentences()\` (${data.n_seqs} sentences),
captured by \`bench/transfer/make_data.py\` and opened with \`av.load\` in the kernel.

**Paths**, through one real comm (ipykernel \`comm.create_comm\`, target registered in the page with
\`kernel.registerCommTarget\`), the same kernel -> Jupyter server -> websocket -> @jupyterlab/services route the widget's
messages take:
- binary: \`AttentionViz._head_payload\` (Q/K as little-endian fp16 bytes, what the widget sends for a head) sent as two
  comm buffers beside a small JSON message; decoded in the page with \`decodeMatrix\` from \`src/model/decode.ts\`
  (transpiled as is).
- JSON baseline: \`cap.qk()\` float32 arrays as \`tolist()\` lists of lists in the message content; the page flattens the
  parsed lists into Float32Arrays (what the views need).

Times: kernel \`time.time()\` and the page's \`performance.timeOrigin + performance.now()\` (same machine clock); median
of ${ROUNDS} rounds per path after one untimed warm-up round, paths interleaved (order alternating per round). Bytes on the
wire: the largest websocket frame the page received for each message (Jupyter's websocket has no compression here).
Both paths decode to the same values (checked with a checksum).

${table}
`;
  writeReport(OUT, text);
  console.log(text);
  writeResult(jsonArg(), {
    bench: 'transfer',
    title: "Kernel -> browser transfer of one head's Q/K",
    rows,
    started,
    details: path.relative(root, OUT),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
