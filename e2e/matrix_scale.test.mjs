// The matrix view of a Llama-3.2-1B-shaped capture (16 layers x 32 heads, 8 KV heads,
// d_head 64; 24 sequences, built with Capture.from_arrays) in a real JupyterLab at 1,280 px:
// every head fits the width (no horizontal scrollbar), the first pictures come from the
// kernel, the zoom goes down to one head, and a click opens it (viz.head follows).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, consoleErrors, lab, page, pollKernel, putNotebook, useLab } from './lab.mjs';

const NOTEBOOK = 'matrix_scale.ipynb';
const DIR = join(OUTPUT, 'matrix_scale');
const CAPTURE = [
  'import numpy as np, pandas as pd, attentionviz as av',
  'rng = np.random.default_rng(0)',
  'L, H, KV, D, S, T = 16, 32, 8, 64, 24, 64',
  'n = S * T',
  'base = rng.normal(size=(n, D)).astype(np.float32)',
  'pos = np.tile(np.arange(T), S)[:, None] / T',
  'q = np.stack([np.stack([base @ rng.normal(size=(D, D)).astype(np.float32) / 8 + pos * rng.uniform(0, 4) for _ in range(H)]) for _ in range(L)]).astype(np.float16)',
  'k = np.stack([np.stack([base @ rng.normal(size=(D, D)).astype(np.float32) / 8 + pos for _ in range(KV)]) for _ in range(L)]).astype(np.float16)',
  'tokens = pd.DataFrame({"text": [f"tok{i % 50}" for i in range(n)], "seq": np.repeat(np.arange(S), T)})',
  'cap = av.Capture.from_arrays(tokens, q, k, scale=1 / 8, mask="causal", model_name="llama-1b-shaped")',
  'viz = av.AttentionViz(cap, projection="pca")',
  'viz',
].join('\n');

useLab({ output: DIR, prepare: () => putNotebook(lab, NOTEBOOK, [CAPTURE]) });

test('512 heads fit 1,280 px, zoom to one head, click opens it', { timeout: 600_000 }, async (t) => {
  await page.goto(`${lab.url}/lab/tree/${NOTEBOOK}?reset&token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  const root = page.locator('.attentionviz');
  await root.waitFor({ timeout: 300_000 });
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.matrixPca === '512', null, { timeout: 300_000 });
  assert.equal(await root.evaluate((el) => el.dataset.matrixKernel), 'true', 'first pictures from the kernel');
  t.diagnostic(`every head drawn ${await root.evaluate((el) => el.dataset.matrixPcaSeconds)} s after the view mounted`);
  const fit = await root.evaluate((view) => {
    const box = view.getBoundingClientRect();
    const scroller = view.querySelector('.av-matrix-scroll');
    const row = [...view.querySelectorAll('.av-cell[data-layer="0"]')];
    return { inView: row.filter((c) => c.getBoundingClientRect().right <= box.right + 0.5).length, heads: row.length, scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth };
  });
  assert.equal(fit.heads, 32);
  assert.equal(fit.inView, 32, `heads of layer 0 in view: ${JSON.stringify(fit)}`);
  assert.ok(fit.scrollWidth <= fit.clientWidth, `horizontal scroll: ${JSON.stringify(fit)}`);
  // Drawn, not blank: a visible cell's canvas has points (pixels off its background).
  const painted = await root.evaluate((view) => {
    const canvas = view.querySelector('.av-cell[data-layer="0"][data-head="3"] canvas');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return colours.size;
  });
  assert.ok(painted > 3, `cell L0 H3 looks blank (${painted} colours)`);
  await root.scrollIntoViewIfNeeded();
  await root.screenshot({ path: join(DIR, 'grid-1280.png') });

  // Zoom to one head: the slider's far end.
  await root.locator('.av-matrix-zoom-slider').evaluate((slider) => {
    slider.value = slider.max;
    slider.dispatchEvent(new Event('input'));
  });
  const { pitch, width } = await root.locator('.av-matrix').evaluate((el) => ({ pitch: Number(el.dataset.pitch), width: el.querySelector('.av-matrix-scroll').clientWidth }));
  // One head as wide as the grid: the cell area is the box less the layer axis and scrollbar room (48 px).
  assert.ok(pitch >= width - 48 - 2 && pitch <= width, `one head should fill the width ${width}, pitch ${pitch}`);
  await page.waitForFunction((side) => document.querySelector('.attentionviz .av-cell canvas').width >= side, pitch - 8, { timeout: 10_000 });
  await root.screenshot({ path: join(DIR, 'zoomed-one-head.png') });
  await root.locator('.av-cell[data-layer="0"][data-head="0"]').click({ position: { x: 200, y: 200 } });
  const head = await pollKernel(page, 'import json\nprint(json.dumps([viz.view, *viz.head]))', (v) => v[0] === 'head', { timeout: 60_000 });
  assert.deepEqual(head, ['head', 0, 0]);
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.ready === 'true', null, { timeout: 120_000 });
  await root.screenshot({ path: join(DIR, 'opened-head.png') });
  assert.deepEqual(appErrors(consoleErrors), []);
});
