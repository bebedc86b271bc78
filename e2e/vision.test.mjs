// The vision notebook in a real JupyterLab: the image view shows the picture the ViT saw,
// clicking a patch selects its token and draws its attention as a heat overlay, hovering a
// patch highlights its points, and points can be coloured by patch row.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, canvasStats, consoleErrors, lab, page, pollKernel, runInKernel, useLab } from './lab.mjs';

const GRID = 14; // 224 px images, 16 px patches
const PER_IMAGE = 1 + GRID * GRID;

useLab();

/** RGBA pixels of the image view's 2D canvas. */
function imagePixels() {
  return page.evaluate(() => {
    const canvas = document.querySelector('.attentionviz .av-image-canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return { width: canvas.width, height: canvas.height, data: Array.from(data) };
  });
}

/** Mean absolute difference per channel between two equally sized pixel buffers. */
function meanDifference(a, b) {
  assert.equal(a.data.length, b.data.length, 'canvases differ in size');
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** Pixels of the scatterplot's WebGL canvas after a synchronous render. */
function plotPixels() {
  return page.evaluate(() => {
    const source = document.querySelector('.attentionviz').attentionviz.snapshot();
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext('2d');
    context.drawImage(source, 0, 0);
    return { width: copy.width, height: copy.height, data: Array.from(context.getImageData(0, 0, copy.width, copy.height).data) };
  });
}

/** Whether the Python `condition` came true within `timeout` seconds. */
async function waitForKernel(condition, timeout = 20) {
  return pollKernel(page, `import json\nprint(json.dumps(bool(${condition})))`, (value) => value, { timeout: timeout * 1000 });
}

test('the vision notebook runs and shows the image view beside the plot', { timeout: 300_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/vision.ipynb?token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, {
    timeout: 120_000,
  });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  const root = page.locator('.attentionviz[data-ready="true"]');
  await root.waitFor({ timeout: 240_000 });
  const image = page.locator('.attentionviz .av-image');
  await image.waitFor({ state: 'visible', timeout: 60_000 });
  assert.equal(await page.locator('.attentionviz .av-sentence:not(.av-image)').isVisible(), false, 'no sentence view for images');
  // The PNG the processor produced arrives from the kernel and is drawn.
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.image === 'loaded', null, { timeout: 60_000 });
  // The notebook's last cell selects image 1's [CLS]: its attention is on the overlay.
  await page.waitForFunction((row) => document.querySelector('.attentionviz').dataset.imageFocus === String(row), PER_IMAGE, {
    timeout: 60_000,
  });
  assert.equal(await root.getAttribute('data-image-seq'), '1');
  await root.scrollIntoViewIfNeeded();
  const stats = await canvasStats(page);
  assert.ok(stats.variance > 20, `scatterplot looks blank (luma variance ${stats.variance.toFixed(2)})`);
  const pixels = await imagePixels();
  assert.ok(pixels.width >= 200 && pixels.height >= 200, `image canvas is ${pixels.width}x${pixels.height}`);
  await root.screenshot({ path: join(OUTPUT, 'vision-cls-attention.png') });
});

test('clicking a patch selects its token and draws its attention overlay', { timeout: 120_000 }, async () => {
  await runInKernel(page, 'viz.clear_selection()');
  const root = page.locator('.attentionviz');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.imageFocus === '-1');
  assert.equal(await root.getAttribute('data-image-seq'), '0', 'with nothing selected the first image shows');
  await page.waitForTimeout(300);
  const plain = await imagePixels();
  await root.screenshot({ path: join(OUTPUT, 'vision-no-selection.png') });

  const canvas = page.locator('.attentionviz .av-image-canvas');
  const box = await canvas.boundingBox();
  const [fx, fy] = [0.55, 0.45];
  const expectedRow = 1 + Math.floor(fy * GRID) * GRID + Math.floor(fx * GRID); // image 0
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
  assert.equal(await waitForKernel(`list(viz.selected_rows) == [${expectedRow}]`), true, 'the clicked patch is viz.selection');
  await page.waitForFunction((row) => document.querySelector('.attentionviz').dataset.imageFocus === String(row), expectedRow);
  const text = (await runInKernel(page, 'print(viz.selection.text.iloc[0])')).trim();
  assert.equal(text, `patch ${Math.floor(fy * GRID)},${Math.floor(fx * GRID)}`);
  await page.waitForTimeout(300);
  const overlaid = await imagePixels();
  const difference = meanDifference(plain, overlaid);
  assert.ok(difference > 5, `the overlay barely changed the image (mean difference ${difference.toFixed(2)})`);
  // The same click is a selected query in the scatterplot: lines to its top-k keys.
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.lines === '5');
  await root.screenshot({ path: join(OUTPUT, 'vision-patch-attention.png') });
});

test('hovering a patch highlights its query and key points', { timeout: 120_000 }, async () => {
  const root = page.locator('.attentionviz');
  await runInKernel(page, 'viz.clear_selection()');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.imageFocus === '-1');
  await page.mouse.move(5, 5);
  await page.waitForTimeout(300);
  const before = await plotPixels();
  const canvas = page.locator('.attentionviz .av-image-canvas');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.8);
  const hovered = Number(await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.imageHover).then((h) => h.jsonValue()));
  assert.equal(hovered, 1 + Math.floor(0.8 * GRID) * GRID + Math.floor(0.2 * GRID));
  await page.waitForTimeout(300);
  const during = await plotPixels();
  assert.ok(meanDifference(before, during) > 0.01, 'hovering a patch changed nothing in the plot');
  await root.screenshot({ path: join(OUTPUT, 'vision-hover.png') });
  await page.mouse.move(5, 5);
});

test('colour by patch row from the toolbar', { timeout: 120_000 }, async () => {
  const root = page.locator('.attentionviz');
  const colour = page.locator('.attentionviz [data-control="colour"] select');
  const options = await colour.locator('option').evaluateAll((nodes) => nodes.map((node) => node.value));
  assert.ok(options.includes('patch_row') && options.includes('patch_col'), `colour options: ${options}`);
  await colour.selectOption('qk');
  assert.equal(await waitForKernel('viz.color_by == "qk"'), true);
  await page.waitForTimeout(300);
  const byKind = await plotPixels();
  await colour.selectOption('patch_row');
  assert.equal(await waitForKernel('viz.color_by == "patch_row"'), true);
  await page.waitForTimeout(300);
  const byRow = await plotPixels();
  assert.ok(meanDifference(byKind, byRow) > 0.5, 'colouring by patch row changed nothing');
  const legend = await page.locator('.attentionviz .av-legend').textContent();
  assert.ok(/\d/.test(legend), `legend names patch rows: ${legend}`);
  await root.screenshot({ path: join(OUTPUT, 'vision-colour-patch-row.png') });
  assert.deepEqual(appErrors(consoleErrors), [], 'no errors in the browser console');
});
