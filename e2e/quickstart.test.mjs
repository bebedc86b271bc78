// The quickstart notebook in a real JupyterLab: run it, see the plot, click a point,
// and read the selection back in the kernel; Python -> view head and highlight.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, canvasStats, launchBrowser, runInKernel, startLab } from './lab.mjs';

let lab;
let browser;
let page;
const consoleErrors = [];

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  lab = await startLab();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await lab?.stop();
});

test('quickstart runs and draws a non-blank scatterplot', { timeout: 240_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/quickstart.ipynb?token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, {
    timeout: 120_000,
  });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  const root = page.locator('.attentionviz[data-ready="true"]');
  await root.waitFor({ timeout: 180_000 });
  await root.scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  const stats = await canvasStats(page);
  assert.ok(stats.width > 100 && stats.height > 100, `canvas is ${stats.width}x${stats.height}`);
  assert.ok(stats.variance > 20, `canvas looks blank (luma variance ${stats.variance.toFixed(2)})`);
  await root.screenshot({ path: join(OUTPUT, 'quickstart-widget.png') });
  await page.screenshot({ path: join(OUTPUT, 'quickstart-lab.png') });
});

test('hovering then clicking a point puts that token in viz.selection', { timeout: 120_000 }, async () => {
  const plot = page.locator('.attentionviz .av-plot');
  const box = await plot.boundingBox();
  // A query point somewhere in the middle of the token list.
  const [x, y] = await page.evaluate(() => document.querySelector('.attentionviz').attentionviz.canvasPosition(40));
  await page.mouse.move(box.x + x, box.y + y);
  const tooltip = page.locator('.attentionviz .av-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  const hoveredRow = Number(await page.locator('.attentionviz').getAttribute('data-hover'));
  const hoveredText = await tooltip.locator('.av-tooltip-token').textContent();
  assert.ok(Number.isInteger(hoveredRow) && hoveredRow >= 0, 'hover names a token row');
  await page.screenshot({ path: join(OUTPUT, 'hover.png') });
  await page.mouse.click(box.x + x, box.y + y);

  const selected = JSON.parse(
    await runInKernel(
      page,
      [
        'import json, time',
        'deadline = time.time() + 20',
        'while not len(viz.selection) and time.time() < deadline:',
        '    time.sleep(0.1)',
        'print(json.dumps({"rows": [int(r) for r in viz.selected_rows], "text": viz.selection.text.tolist()}))',
      ].join('\n'),
    ),
  );
  assert.deepEqual(selected.rows, [hoveredRow]);
  assert.deepEqual(selected.text, [hoveredText]);
  await page.locator('.attentionviz').screenshot({ path: join(OUTPUT, 'clicked.png') });
});

test('Python sets the head and the highlight; the view follows', { timeout: 120_000 }, async () => {
  await runInKernel(page, 'viz.head = (4, 7)\nviz.select(cap.tokens[cap.tokens.text == "the"])');
  const root = page.locator('.attentionviz');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.head === '7');
  assert.equal(await root.getAttribute('data-layer'), '4');
  const expected = Number(await runInKernel(page, 'print(int((cap.tokens.text == "the").sum()))'));
  assert.ok(expected > 0);
  await page.waitForFunction(
    (n) => document.querySelector('.attentionviz .av-status').textContent.includes(`${n} selected`),
    expected,
  );
  const stats = await canvasStats(page);
  assert.ok(stats.variance > 20, 'still drawing after the head change');
  await root.screenshot({ path: join(OUTPUT, 'python-head-and-highlight.png') });
});

test('no errors in the browser console', () => {
  const ours = consoleErrors.filter((text) => !/favicon|404 \(Not Found\)/.test(text));
  assert.deepEqual(ours, []);
});
