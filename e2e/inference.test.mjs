// In-browser Q/K (src/inference/) against PyTorch: all-MiniLM-L6-v2 exported with Q/K
// outputs, run by onnxruntime-web in a worker in headless Chromium with the WASM backend
// and with WebGPU (SwiftShader), compared with cap.qk from attentionviz.capture.
// WebGPU is required: if it cannot run, the test fails (it is never skipped).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PYTHON, ROOT, buildInference, launch, pythonEnv, serve } from './inference_build.mjs';

const TOL = 1e-3;
let tmp;
let server;
let browser;
let page;
let ref;
let base;
const foreignRequests = [];
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'attnviz-inference-'));
  const data = path.join(tmp, 'data');
  execFileSync(PYTHON, [path.join(ROOT, 'e2e/inference_ref.py'), data], { env: pythonEnv(), stdio: 'inherit' });
  ref = JSON.parse(readFileSync(path.join(data, 'ref.json'), 'utf8'));
  await buildInference(path.join(tmp, 'bundle'));
  server = await serve(path.join(tmp, 'bundle'), data);
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launch();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('blob:')) foreignRequests.push(request.url());
  });
  await page.goto(base);
  await page.waitForFunction(() => window.inferenceReady === true);
}, { timeout: 900_000 });

after(async () => {
  await browser?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Run the texts with one backend in the page and compare with the reference there. */
function runInPage(backend, texts, folder = '/data/model/') {
  return page.evaluate(
    async ({ backend, texts, folder }) => {
      const { loadQKModelFromUrls, computeQK } = window.inference;
      const session = await loadQKModelFromUrls(folder, '/ort.wasm', backend);
      try {
        const r = await computeQK(session, texts);
        const [nLayers, nHeads, nTokens, dHead] = await (await fetch('/data/ref.json')).json().then((j) => j.shape);
        const q = new Float32Array(await (await fetch('/data/q.bin')).arrayBuffer());
        const k = new Float32Array(await (await fetch('/data/k.bin')).arrayBuffer());
        const perLayer = [];
        let maxRef = 0;
        const comparable = r.nTokens === nTokens && r.layers.length === nLayers && r.nHeads === nHeads && r.dHead === dHead;
        if (comparable) {
          for (let l = 0; l < nLayers; l++) {
            let worst = 0;
            const off = l * nHeads * nTokens * dHead;
            for (let i = 0; i < nHeads * nTokens * dHead; i++) {
              worst = Math.max(worst, Math.abs(r.layers[l].q[i] - q[off + i]), Math.abs(r.layers[l].k[i] - k[off + i]));
              maxRef = Math.max(maxRef, Math.abs(q[off + i]), Math.abs(k[off + i]));
            }
            perLayer.push(worst);
          }
        }
        return {
          backend: r.backend,
          sessionBackend: session.backend,
          fallbackReason: session.fallbackReason ?? null,
          ids: r.tokens.token_id,
          text: r.tokens.text,
          seq: r.tokens.seq,
          truncated: r.truncated,
          lengths: r.lengths,
          comparable,
          perLayer,
          maxRef,
          finite: r.layers.every(({ q, k }) => q.every(Number.isFinite) && k.every(Number.isFinite)),
        };
      } finally {
        session.dispose();
      }
    },
    { backend, texts, folder },
  );
}

for (const backend of ['wasm', 'webgpu']) {
  test(`${backend}: token ids equal Python's and Q/K match PyTorch within ${TOL}`, { timeout: 300_000 }, async () => {
    const r = await runInPage(backend, ref.texts);
    assert.equal(r.backend, backend, `ran on ${r.backend}`);
    assert.deepEqual(r.ids, ref.token_ids, 'token ids differ from the Python tokenizer');
    assert.deepEqual(r.text, ref.token_text, 'token text differs from the capture token table');
    assert.deepEqual(r.seq, ref.seq);
    assert.equal(r.truncated, false);
    assert.ok(r.comparable, 'shapes differ from the reference');
    assert.ok(r.finite, 'non-finite Q/K');
    const worst = Math.max(...r.perLayer);
    console.log(`# ${backend}: max |Q/K - PyTorch| = ${worst.toExponential(2)} (per layer ${r.perLayer.map((x) => x.toExponential(1)).join(', ')}; max |ref| ${r.maxRef.toFixed(2)})`);
    assert.ok(worst <= TOL, `${backend}: max abs diff ${worst} > ${TOL}`);
  });
}

test('auto picks WebGPU here (an adapter exists) and says so', { timeout: 300_000 }, async () => {
  const r = await runInPage('auto', ['Hi']);
  assert.equal(r.backend, 'webgpu', `auto ran on ${r.backend}: ${r.fallbackReason}`);
  assert.equal(r.fallbackReason, null);
});

test('over-long text is truncated like Python truncation=True, with a flag and the original length', { timeout: 300_000 }, async () => {
  const r = await runInPage('wasm', [ref.long_text, 'Hi']);
  assert.equal(r.truncated, true);
  assert.deepEqual(r.lengths[0], { original: ref.long_full_length, kept: 512 });
  assert.deepEqual(r.lengths[1], { original: 3, kept: 3 });
  assert.deepEqual(r.ids.slice(0, 512), ref.long_truncated_ids);
});

test('a model without the Q/K outputs is refused, naming them', { timeout: 300_000 }, async () => {
  const message = await page.evaluate(async () => {
    try {
      await window.inference.loadQKModelFromUrls('/data/broken/', '/ort.wasm', 'wasm');
      return 'loaded';
    } catch (error) {
      return error.message;
    }
  });
  assert.match(message, /lacks the Q\/K output\(s\) q\.3, k\.5/);
});

test('empty text and nothing fetched from other hosts', { timeout: 300_000 }, async () => {
  const message = await page.evaluate(async () => {
    const session = await window.inference.loadQKModelFromUrls('/data/model/', '/ort.wasm', 'wasm');
    try {
      await window.inference.computeQK(session, ['fine', '']);
      return 'ran';
    } catch (error) {
      return error.message;
    } finally {
      session.dispose();
    }
  });
  assert.match(message, /texts\[1\]/);
  assert.deepEqual(foreignRequests, []);
  assert.deepEqual(pageErrors, []);
});
