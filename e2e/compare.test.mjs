// The compare view in a real JupyterLab: the toolbar's Compare button and viz.compare()
// show two heads side by side with points; hover links the panels; a lasso in the right
// panel lands in viz.selection; the standalone HTML export reopens in the compare view.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OUTPUT, browser, canvasStats, consoleErrors, lab, lassoRect, minilmCapture, newPage, page, pollKernel, putNotebook, runInKernel, useLab } from './lab.mjs';

const NOTEBOOK = 'compare.ipynb';
const DIR = join(OUTPUT, 'compare');

useLab({
  output: DIR,
  prepare: () => putNotebook(lab, NOTEBOOK, [minilmCapture(16).join('\n'), 'viz = av.AttentionViz(cap, head=(2, 3), projection="pca")\nviz']),
});

/** Both compare panels show points; resolves with their [layer, head] pairs. */
async function panelsReady(target, timeout = 120_000) {
  await target.waitForFunction(
    () => {
      const panels = [...document.querySelectorAll('.attentionviz .av-compare-panel')];
      return panels.length === 2 && panels.every((panel) => panel.dataset.ready === 'true' && panel.attentionviz.pointCount() > 0);
    },
    null,
    { timeout },
  );
  return target.evaluate(() => [...document.querySelectorAll('.attentionviz .av-compare-panel')].map((panel) => [Number(panel.dataset.layer), Number(panel.dataset.head)]));
}

/** Luma variance of each panel's WebGL canvas (rendered now): > 0 when points are drawn. */
async function panelVariances(target) {
  const sides = ['left', 'right'];
  return Promise.all(sides.map(async (side) => (await canvasStats(target, `.attentionviz .av-compare-panel[data-side="${side}"]`)).variance));
}

const panel = (side) => page.locator(`.attentionviz .av-compare-panel[data-side="${side}"]`);

test('the Compare button shows this head beside the next one, both drawn', { timeout: 600_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/${NOTEBOOK}?reset&token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await page.locator('.attentionviz[data-ready="true"]').waitFor({ timeout: 400_000 });
  await page.locator('.attentionviz [data-control="compare"]').click();
  assert.deepEqual(await panelsReady(page), [
    [2, 3],
    [2, 4],
  ]);
  const shown = (value) => value.join(' ') === 'compare 2 4';
  assert.deepEqual(await pollKernel(page, 'import json\nprint(json.dumps([viz.view, *viz.compare_head]))', shown), ['compare', 2, 4]);
  const variances = await panelVariances(page);
  assert.ok(variances.every((v) => v > 20), `a panel looks blank (luma variances ${variances})`);
  await page.locator('.attentionviz').scrollIntoViewIfNeeded();
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'compare-button.png') });
});

test('viz.compare() from Python changes the right panel', { timeout: 180_000 }, async () => {
  await runInKernel(page, 'viz.compare(0, 1)');
  await page.waitForFunction(() => {
    const right = document.querySelector('.attentionviz .av-compare-panel[data-side="right"]');
    return right.dataset.layer === '0' && right.dataset.head === '1';
  }, null, { timeout: 120_000 });
  assert.equal(await panel('right').locator('.av-compare-title').textContent(), 'L0 H1');
  assert.equal(await panel('left').locator('.av-compare-title').textContent(), 'L2 H3');
});

test('viz.save in the compare view writes both panels side by side (PNG and SVG)', { timeout: 120_000 }, async () => {
  const png = join(DIR, 'compare-save.png');
  const svg = join(DIR, 'compare-save.svg');
  await runInKernel(page, `png = viz.save(${JSON.stringify(png)})\nsvg = viz.save(${JSON.stringify(svg)})`);
  // The view answers after that cell has finished: poll with short cells.
  const done = await pollKernel(page, 'print(json.dumps(png.done and svg.done))', Boolean);
  assert.ok(done, 'the view answered both save requests');
  const report = JSON.parse(
    await runInKernel(
      page,
      [
        'from PIL import Image',
        'import xml.etree.ElementTree as ET',
        'ns = "{http://www.w3.org/2000/svg}"',
        'figures = ET.parse(svg.path).getroot().findall(f"{ns}g[@class=\'figure\']")',
        'titles = [f.find(f"{ns}text[@class=\'title\']").text for f in figures]',
        'print(json.dumps({"size": Image.open(png.path).size, "titles": titles}))',
      ].join('\n'),
    ),
  );
  const widths = await page.evaluate(() => [...document.querySelectorAll('.attentionviz .av-compare-panel .av-plot')].map((plot) => Math.round(plot.getBoundingClientRect().width)));
  assert.equal(report.size[0], widths[0] + widths[1], 'the PNG holds both panels');
  assert.equal(report.titles.length, 2);
  assert.match(report.titles[0], /layer 2 head 3/);
  assert.match(report.titles[1], /layer 0 head 1/);
});

test('hovering a token in the left panel shows it in both panels', { timeout: 120_000 }, async () => {
  const box = await panel('left').locator('.av-plot').boundingBox();
  // A query point whose nearest neighbour is far, so the pointer picks that one.
  const [row, x, y] = await page.evaluate(() => {
    const handle = document.querySelector('.attentionviz .av-compare-panel[data-side="left"]').attentionviz;
    const n = handle.pointCount() / 2;
    const points = Array.from({ length: 2 * n }, (_, i) => handle.canvasPosition(i));
    let best = [0, -1];
    for (let i = 0; i < n; i++) {
      const gap = Math.min(...points.map(([px, py], j) => (j === i ? Infinity : Math.hypot(px - points[i][0], py - points[i][1]))));
      if (gap > best[1]) best = [i, gap];
    }
    return [best[0], ...points[best[0]]];
  });
  await page.mouse.move(box.x + x, box.y + y);
  await panel('left').locator('.av-tooltip').waitFor({ state: 'visible' });
  await panel('right').locator('.av-tooltip').waitFor({ state: 'visible' });
  const texts = JSON.parse(await runInKernel(page, 'print(json.dumps(cap.tokens.text.tolist()))'));
  assert.equal(await panel('left').getAttribute('data-hover'), String(row));
  assert.equal(await panel('left').locator('.av-tooltip-token').textContent(), texts[row]);
  assert.equal(await panel('right').locator('.av-tooltip-token').textContent(), texts[row]);
  const emphasis = await page.evaluate((r) => {
    const handle = document.querySelector('.attentionviz .av-compare-panel[data-side="right"]').attentionviz;
    const n = handle.pointCount() / 2;
    return [handle.emphasis(r), handle.emphasis(n + r)];
  }, row);
  assert.deepEqual(emphasis, [2, 2], 'the hovered token is highlighted in the right panel');
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'compare-hover.png') });
  await page.mouse.move(box.x + box.width + 400, box.y - 200); // off both plots
});

test('a lasso in the right panel puts its tokens in viz.selection, shown in both panels', { timeout: 120_000 }, async () => {
  await runInKernel(page, 'viz.clear_selection()'); // the poll below then waits for the lasso's selection
  const expected = await lassoRect(page, '.attentionviz .av-compare-panel[data-side="right"]', [0.3, 0.3, 0.65, 0.7]);
  assert.ok(expected.length > 0, 'the lasso region holds points');
  const rows = await pollKernel(page, 'import json\nprint(json.dumps([int(r) for r in viz.selected_rows]))', (value) => value.length > 0);
  assert.deepEqual(rows, expected);
  const highlighted = await page.evaluate(() =>
    [...document.querySelectorAll('.attentionviz .av-compare-panel')].map((element) => {
      const handle = element.attentionviz;
      const n = handle.pointCount() / 2;
      return Array.from({ length: n }, (_, r) => r).filter((r) => handle.emphasis(r) === 2 && handle.emphasis(n + r) === 2);
    }),
  );
  assert.deepEqual(highlighted, [expected, expected]);
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'compare-lasso.png') });
});

test('the standalone HTML export reopens in the compare view with both heads', { timeout: 300_000 }, async () => {
  const path = join(DIR, 'compare.html');
  await runInKernel(page, `viz.search = "the"\nviz.save(${JSON.stringify(path)}, heads="current", progress=False)`);
  const exported = await newPage(browser, consoleErrors);
  try {
    await exported.goto(pathToFileURL(path).href);
    assert.deepEqual(await panelsReady(exported), [
      [2, 3],
      [0, 1],
    ]);
    const variances = await panelVariances(exported);
    assert.ok(variances.every((v) => v > 20), `a panel looks blank (luma variances ${variances})`);
    // The saved selection and search show in both panels of the page too.
    await exported.waitForFunction(() => [...document.querySelectorAll('.av-compare-status')].every((s) => s.textContent.includes('selected') && s.textContent.includes('match "the"')));
    await exported.screenshot({ path: join(DIR, 'compare-standalone.png') });
    // Escape goes back to the single head.
    await exported.locator('.attentionviz').focus();
    await exported.keyboard.press('Escape');
    await exported.locator('.attentionviz[data-view="head"][data-ready="true"]').waitFor({ timeout: 120_000 });
  } finally {
    await exported.close();
  }
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
