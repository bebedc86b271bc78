// The JupyterLab .attnviz file viewer: a capture saved by Python opens from the file
// browser in a tab with the whole view (matrix, then one head) and no kernel; bad files
// show an error naming the problem.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, ROOT, canvasStats, consoleErrors, lab, page, useLab } from './lab.mjs';

const N_LAYERS = 2;
const N_HEADS = 4;
// A small fp16 capture with grouped-query heads (4 query heads share 2 key heads), written
// by the real writer; Q and K share a per-token structure so heads are not pure noise. At
// ~100 kB it is bigger than the viewer's first 64 kB read, so heads come by later range reads.
const MAKE_CAPTURE = `
import sys
import numpy as np, pandas as pd
import attentionviz as av
rng = np.random.default_rng(3)
texts = [f"w{i % 17}" for i in range(120)]
tokens = pd.DataFrame({"text": texts, "seq": np.repeat(np.arange(3), 40)})
base = rng.normal(size=(120, 32))
q = (base[None, None] + 0.5 * rng.normal(size=(${N_LAYERS}, ${N_HEADS}, 120, 32))).astype(np.float16)
k = (base[None, None] + 0.5 * rng.normal(size=(${N_LAYERS}, 2, 120, 32))).astype(np.float16)
av.Capture.from_arrays(tokens, q, k, scale=0.25, mask="causal", model_name="e2e-model").save(sys.argv[1])
`;

let capture;
const fileRequests = [];

async function upload(name, bytes) {
  const response = await fetch(`${lab.url}/api/contents/${name}`, {
    method: 'PUT',
    headers: { Authorization: `token ${lab.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'file', format: 'base64', content: Buffer.from(bytes).toString('base64') }),
  });
  assert.ok(response.ok, `upload of ${name} failed: ${response.status}`);
}

async function serverSessions() {
  const get = async (what) => (await fetch(`${lab.url}/api/${what}`, { headers: { Authorization: `token ${lab.token}` } })).json();
  return { sessions: await get('sessions'), kernels: await get('kernels') };
}

useLab({
  prepare: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attentionviz-viewer-'));
    const path = join(dir, 'capture.attnviz');
    execFileSync(join(ROOT, '.venv', 'bin', 'python'), ['-c', MAKE_CAPTURE, path], { env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    capture = readFileSync(path);
    await upload('capture.attnviz', capture);
    await upload('cut.attnviz', capture.subarray(0, capture.length - 1000));
    await upload('foreign.attnviz', Buffer.from('PK\u0003\u0004 this is a zip archive, not a capture\n'.repeat(20)));
  },
  ready: (page) =>
    page.on('request', (request) => {
      if (/\/(files|api\/contents)\/[^?]*\.attnviz/.test(request.url())) fileRequests.push({ url: request.url(), range: request.headers().range ?? null });
    }),
});

test('double-clicking a .attnviz file opens the matrix view, then a head, with no kernel', { timeout: 300_000 }, async () => {
  await page.goto(`${lab.url}/lab?token=${lab.token}`);
  await page.waitForFunction(() => document.body.dataset.attentionvizExtension && window.jupyterapp?.shell, null, { timeout: 120_000 });
  const item = page.locator('.jp-DirListing-item', { hasText: 'capture.attnviz' });
  await item.waitFor({ timeout: 60_000 });
  await item.dblclick();

  const root = page.locator('.jp-AttnvizViewer .attentionviz');
  await root.waitFor({ timeout: 120_000 });
  const total = String(N_LAYERS * N_HEADS);
  await page.waitForFunction((n) => document.querySelector('.jp-AttnvizViewer .attentionviz')?.dataset.matrixDone === n, total, { timeout: 180_000 });
  assert.equal(await root.getAttribute('data-view'), 'matrix');
  // Every thumbnail got a layout and a caption with its statistics (no per-head error).
  assert.equal(await root.locator('.av-cell:not(.av-cell-pending)').count(), N_LAYERS * N_HEADS);
  const captions = await root.locator('.av-cell-caption').allTextContents();
  assert.ok(captions.every((text) => /^L\d H\d · H \d/.test(text)), `captions: ${captions.join(' | ')}`);
  assert.equal(await root.locator('.av-title').textContent(), 'e2e-model · capture.attnviz');
  await page.screenshot({ path: join(OUTPUT, 'viewer-matrix.png') });

  await root.locator('.av-cell[data-layer="1"][data-head="3"]').click();
  await page.waitForFunction(
    () => {
      const el = document.querySelector('.jp-AttnvizViewer .attentionviz');
      return el?.dataset.view === 'head' && el.dataset.ready === 'true' && el.dataset.layer === '1' && el.dataset.head === '3';
    },
    null,
    { timeout: 120_000 },
  );
  await page.waitForTimeout(500);
  const stats = await canvasStats(page);
  assert.ok(stats.width > 100 && stats.height > 100, `canvas is ${stats.width}x${stats.height}`);
  assert.ok(stats.variance > 20, `canvas looks blank (luma variance ${stats.variance.toFixed(2)})`);
  assert.equal(await page.evaluate(() => document.querySelector('.jp-AttnvizViewer .attentionviz').attentionviz.pointCount()), 240);
  await page.screenshot({ path: join(OUTPUT, 'viewer-head.png') });

  // No kernel: none in the page's session manager, none on the server.
  assert.equal(await page.evaluate(() => Array.from(window.jupyterapp.serviceManager.sessions.running()).length), 0);
  assert.deepEqual(await serverSessions(), { sessions: [], kernels: [] });
  // The bytes came by range request; the contents API never shipped the file as base64.
  const reads = fileRequests.filter((r) => r.url.includes('/files/capture.attnviz'));
  assert.ok(reads.length >= 2 && reads.every((r) => /^bytes=\d+-\d+$/.test(r.range ?? '')), JSON.stringify(fileRequests));
  const contents = fileRequests.filter((r) => r.url.includes('/api/contents/capture.attnviz?'));
  assert.ok(contents.length >= 1 && contents.every((r) => /content=0/.test(r.url)), JSON.stringify(contents));
  // The tab follows JupyterLab's theme.
  assert.equal(await root.evaluate((el) => el.classList.contains('av-dark')), false);
  await page.evaluate(async () => void (await window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' })));
  await page.waitForFunction(() => document.querySelector('.jp-AttnvizViewer .attentionviz').classList.contains('av-dark'), null, { timeout: 60_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(OUTPUT, 'viewer-head-dark.png') });
  assert.deepEqual(consoleErrors, []);
});

test('a truncated or foreign .attnviz file shows an error naming the problem', { timeout: 120_000 }, async () => {
  for (const [name, problem] of [
    ['cut.attnviz', /attentionviz cannot open this file\. cut\.attnviz: truncated or corrupt: header describes \d+ bytes, the file has \d+/],
    ['foreign.attnviz', /attentionviz cannot open this file\. foreign\.attnviz: not an \.attnviz file \(header length field \d+ does not fit/],
  ]) {
    await page.evaluate(async (path) => void (await window.jupyterapp.commands.execute('docmanager:open', { path })), name);
    const error = page.locator('.jp-AttnvizViewer[data-state="error"] .jp-AttnvizViewer-error').last();
    await error.waitFor({ timeout: 60_000 });
    assert.match(await error.textContent(), problem);
    assert.equal(await error.getAttribute('role'), 'alert');
    await page.screenshot({ path: join(OUTPUT, `viewer-error-${name}.png`) });
    await page.evaluate(async () => void (await window.jupyterapp.commands.execute('application:close')));
  }
  assert.deepEqual(await serverSessions(), { sessions: [], kernels: [] });
  assert.deepEqual(consoleErrors, []);
});
