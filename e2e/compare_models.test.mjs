// examples/compare_models.ipynb in a real JupyterLab: AttentionViz(cap, compare_to=other)
// shows the trained MiniLM beside the same architecture untrained, each panel drawing its
// own capture's head, and a lasso in the untrained panel selects the same token rows in
// both and in viz.selection; the standalone HTML export holds both models; the matrix
// view shows either model's heads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OUTPUT, appErrors, browser, canvasStats, consoleErrors, lab, lassoRect, newPage, page, pollKernel, runInKernel, useLab } from './lab.mjs';

useLab();

const panels = '.attentionviz .av-compare-panel';

/** Both panels of `target` (Lab, or the exported page) show their points. */
function panelsReady(target, timeout) {
  return target.waitForFunction(
    (selector) => {
      const found = [...document.querySelectorAll(selector)];
      return found.length === 2 && found.every((panel) => panel.dataset.ready === 'true' && panel.attentionviz.pointCount() > 0);
    },
    panels,
    { timeout },
  );
}

/** Fraction of points more than 10 px apart between the left and the right panel of `target`. */
function movedFraction(target) {
  return target.evaluate((selector) => {
    const [left, right] = [...document.querySelectorAll(selector)].map((panel) => panel.attentionviz);
    const n = left.pointCount();
    let far = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = [left.canvasPosition(i), right.canvasPosition(i)];
      if (Math.hypot(a[0] - b[0], a[1] - b[1]) > 10) far++;
    }
    return far / n;
  }, panels);
}

test('the notebook runs and shows the two models side by side, each its own head', { timeout: 600_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/compare_models.ipynb?reset&token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await panelsReady(page, 400_000);
  const titles = await page.locator(`${panels} .av-compare-title`).allTextContents();
  assert.deepEqual(titles, ['sentence-transformers/all-MiniLM-L6-v2 · L2 H3', 'all-MiniLM-L6-v2, untrained · L2 H3']);
  for (const side of ['left', 'right']) {
    const { variance } = await canvasStats(page, `${panels}[data-side="${side}"]`);
    assert.ok(variance > 20, `the ${side} panel looks blank (luma variance ${variance})`);
  }
  // Same head index, different models: the layouts differ.
  const moved = await movedFraction(page);
  assert.ok(moved > 0.5, `the right panel looks like the left one (${moved} of the points moved)`);
  await page.locator('.attentionviz').scrollIntoViewIfNeeded();
  await page.locator('.attentionviz').screenshot({ path: join(OUTPUT, 'compare-models.png') });
});

test('a lasso in the untrained model\'s panel selects the same rows in both panels and in viz.selection', { timeout: 120_000 }, async () => {
  const expected = await lassoRect(page, `${panels}[data-side="right"]`, [0.3, 0.3, 0.7, 0.7]);
  assert.ok(expected.length > 0, 'the lasso region holds points');
  const rows = await pollKernel(page, 'import json\nprint(json.dumps([int(r) for r in viz.selected_rows]))', (value) => value.length > 0);
  assert.deepEqual(rows, expected);
  const highlighted = await page.evaluate((selector) =>
    [...document.querySelectorAll(selector)].map((element) => {
      const handle = element.attentionviz;
      const n = handle.pointCount() / 2;
      return Array.from({ length: n }, (_, r) => r).filter((r) => handle.emphasis(r) === 2 && handle.emphasis(n + r) === 2);
    }),
  panels);
  assert.deepEqual(highlighted, [expected, expected]);
  await page.locator('.attentionviz').screenshot({ path: join(OUTPUT, 'compare-models-lasso.png') });
});

test('the standalone HTML export reopens with both models, each panel its own capture', { timeout: 300_000 }, async () => {
  const path = join(OUTPUT, 'compare-models.html');
  await runInKernel(page, `viz.save(${JSON.stringify(path)}, heads="current", progress=False)`);
  const exported = await newPage(browser, consoleErrors);
  try {
    await exported.goto(pathToFileURL(path).href);
    await panelsReady(exported, 120_000);
    const titles = await exported.locator(`${panels} .av-compare-title`).allTextContents();
    assert.deepEqual(titles, ['sentence-transformers/all-MiniLM-L6-v2 · L2 H3', 'all-MiniLM-L6-v2, untrained · L2 H3']);
    // The page's right panel draws the untrained model's head: its own layout.
    assert.ok((await movedFraction(exported)) > 0.5, 'the right panel of the page looks like the left one');
    await exported.screenshot({ path: join(OUTPUT, 'compare-models-standalone.png') });
  } finally {
    await exported.close();
  }
});

test("the matrix view shows the untrained model's heads; a cell opens it beside the trained head", { timeout: 300_000 }, async () => {
  await runInKernel(page, 'viz.view = "matrix"\nviz.matrix_source = "compare"');
  const root = page.locator('.attentionviz');
  await page.waitForFunction(() => {
    const view = document.querySelector('.attentionviz');
    return view.querySelector('.av-matrix').dataset.source === 'compare' && view.dataset.matrixPca === '72';
  }, null, { timeout: 120_000 });
  const picker = root.locator('[data-control="model"] select');
  assert.equal(await picker.inputValue(), 'compare');
  assert.deepEqual(await picker.locator('option').allTextContents(), ['sentence-transformers/all-MiniLM-L6-v2', 'all-MiniLM-L6-v2, untrained']);
  await root.screenshot({ path: join(OUTPUT, 'compare-models-matrix.png') });
  await root.locator('.av-cell[data-layer="4"][data-head="5"]').click();
  const state = await pollKernel(page, 'import json\nprint(json.dumps([viz.view, *viz.compare_head, *viz.head]))', (value) => value[0] === 'compare');
  assert.deepEqual(state, ['compare', 4, 5, 2, 3]);
  await panelsReady(page, 120_000);
  const titles = await page.locator(`${panels} .av-compare-title`).allTextContents();
  assert.deepEqual(titles, ['sentence-transformers/all-MiniLM-L6-v2 · L2 H3', 'all-MiniLM-L6-v2, untrained · L4 H5']);
  // The toolbar's picker switches back to the trained model's heads.
  await runInKernel(page, 'viz.view = "matrix"');
  await picker.selectOption('capture');
  assert.equal(await pollKernel(page, 'import json\nprint(json.dumps(viz.matrix_source))', (value) => value === 'capture'), 'capture');
  await page.waitForFunction(() => document.querySelector('.attentionviz .av-matrix').dataset.source === 'capture');
});

test('no errors in the browser console', () => {
  assert.deepEqual(appErrors(consoleErrors), []);
});
