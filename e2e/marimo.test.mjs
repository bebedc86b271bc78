// examples/marimo_app.py served by `marimo run --headless` (127.0.0.1, random port): the
// widget draws inside marimo (mo.ui.anywidget), and a lasso in the view re-runs the cell
// that reads the selection, which then shows exactly the lassoed token rows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, launchBrowser, newPage } from './lab.mjs';

const APP = join(ROOT, 'examples', 'marimo_app.py');
let server;
let browser;
let page;
const errors = [];

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

async function waitForServer(url, deadline = Date.now() + 60_000) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`marimo did not answer at ${url} within 60 s`);
}

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  const port = await freePort();
  const marimo = join(ROOT, '.venv', 'bin', 'marimo');
  server = spawn(marimo, ['run', '--headless', '--host', '127.0.0.1', '--port', String(port), '--no-token', APP], {
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));
  server.on('exit', (code) => code && code !== 0 && console.error(`marimo exited ${code}:\n${log}`));
  await waitForServer(`http://127.0.0.1:${port}/`);
  browser = await launchBrowser();
  page = await newPage(browser, errors);
  await page.goto(`http://127.0.0.1:${port}/`);
});

after(async () => {
  await browser?.close();
  server?.kill();
});

// marimo mounts widgets in a shadow root: reach the view's handle through a locator.
const root = () => page.locator('.attentionviz');

test('the widget draws inside marimo', { timeout: 180_000 }, async () => {
  await page.locator('.attentionviz[data-view="head"][data-ready="true"]').waitFor({ timeout: 150_000 });
  const variance = await root().evaluate((el) => {
    const canvas = el.attentionviz.snapshot();
    const copy = document.createElement('canvas');
    [copy.width, copy.height] = [canvas.width, canvas.height];
    const context = copy.getContext('2d');
    context.drawImage(canvas, 0, 0);
    const { data } = context.getImageData(0, 0, copy.width, copy.height);
    let [sum, sumSq] = [0, 0];
    for (let i = 0; i < data.length; i += 4) {
      const luma = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += luma;
      sumSq += luma * luma;
    }
    const n = data.length / 4;
    return sumSq / n - (sum / n) ** 2;
  });
  assert.ok(variance > 20, `the plot looks blank (luma variance ${variance})`);
  await page.getByText('0 tokens selected').waitFor();
});

test('a lasso re-runs the dependent cell, which shows the selected rows', { timeout: 120_000 }, async () => {
  const box = await root().locator('.av-plot').boundingBox();
  const [x0, y0, x1, y1] = [box.width * 0.3, box.height * 0.3, box.width * 0.65, box.height * 0.7];
  const inside = await root().evaluate(
    (el, [ax, ay, bx, by]) => {
      const handle = el.attentionviz;
      const rows = new Set();
      for (let i = 0; i < handle.pointCount(); i++) {
        const [x, y] = handle.canvasPosition(i);
        if (x > ax && x < bx && y > ay && y < by) rows.add(handle.tokenRow(i));
      }
      return [...rows].sort((a, b) => a - b);
    },
    [x0, y0, x1, y1],
  );
  assert.ok(inside.length > 0, 'the lasso region holds points');
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + x0, box.y + y0);
  await page.mouse.down();
  for (const [x, y] of [[x1, y0], [x1, y1], [x0, y1], [x0, y0 + 1]]) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  // The cell below the view re-ran on the new selection: its count and its table rows.
  await page.getByText(`${inside.length} tokens selected`).waitFor({ timeout: 60_000 });
  await page.getByText(new RegExp(`^${inside.length} rows?,`)).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(OUTPUT, 'marimo-lasso.png'), fullPage: true });
});

test('no console errors', () => {
  assert.deepEqual(errors.filter((text) => !/favicon|404 \(Not Found\)/.test(text)), []);
});
