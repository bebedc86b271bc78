// The quickstart notebook in a real JupyterLab: run it, see the plot, click a point,
// and read the selection back in the kernel; Python -> view head and highlight.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, canvasStats, consoleErrors, lab, lassoRect, page, pollKernel, runInKernel, runQuickstart, useLab } from './lab.mjs';

useLab();

test('quickstart runs and draws a non-blank scatterplot', { timeout: 240_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/quickstart.ipynb?token=${lab.token}`);
  const { root } = await runQuickstart(page);
  await root.screenshot({ path: join(OUTPUT, 'quickstart-widget.png') });
  await page.screenshot({ path: join(OUTPUT, 'quickstart-lab.png') });
});

test('hovering then clicking a point puts that token in viz.selection', { timeout: 120_000 }, async () => {
  // The notebook's last cell selected every "the": clear it first, so the poll below waits
  // for the click's selection and cannot return the notebook's one.
  await runInKernel(page, 'viz.clear_selection()');
  await page.waitForFunction(() => !document.querySelector('.attentionviz .av-status').textContent.includes('selected'));
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

  const selected = await pollKernel(
    page,
    'import json\nprint(json.dumps({"rows": [int(r) for r in viz.selected_rows], "text": viz.selection.text.tolist()}))',
    (value) => value.rows.length > 0,
  );
  assert.deepEqual(selected.rows, [hoveredRow]);
  assert.deepEqual(selected.text, [hoveredText]);
  // A selected query draws lines to its top-k keys (viz.top_k, 5 by default).
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.lines === '5');
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
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.method === 'umap', null, {
    timeout: 120_000,
  });
  const stats = await canvasStats(page);
  assert.ok(stats.variance > 20, 'still drawing after the head change');
  assert.equal(await root.getAttribute('data-lines'), '0', 'lines only for a single selected query');
  await root.screenshot({ path: join(OUTPUT, 'python-head-and-highlight.png') });
});

test('lasso (shift-drag) selects exactly the tokens whose points are inside', { timeout: 120_000 }, async () => {
  await runInKernel(page, 'viz.search = ""\nviz.clear_selection()');
  // A rectangle around the middle of the plot, drawn as a lasso polygon.
  const expected = await lassoRect(page, '.attentionviz', [0.3, 0.3, 0.6, 0.7]);
  assert.ok(expected.length > 0, 'the lasso region holds points');
  const rows = await pollKernel(page, 'import json\nprint(json.dumps([int(r) for r in viz.selected_rows]))', (value) => value.length > 0);
  assert.deepEqual(rows, expected);
  await page.locator('.attentionviz').screenshot({ path: join(OUTPUT, 'lasso.png') });
});

test('colour, search and the sentence view respond', { timeout: 60_000 }, async () => {
  const root = page.locator('.attentionviz');
  await root.locator('[data-control="colour"] select').selectOption('pos_norm');
  // The view syncs to the kernel asynchronously (widget messages are throttled): poll.
  assert.equal(await pollKernel(page, 'import json\nprint(json.dumps(viz.color_by))', (value) => value === 'pos_norm'), 'pos_norm');
  await root.locator('.av-search').fill('the');
  await page.waitForFunction(() => document.querySelector('.attentionviz .av-status').textContent.includes('match "the"'));
  await runInKernel(page, 'viz.select([5])');
  await root.locator('.av-sentence-focus').first().waitFor();
  const sentence = await root.locator('.av-sentence-query').allTextContents();
  const expected = JSON.parse(await runInKernel(page, 'import json\nt = cap.tokens\nprint(json.dumps(t[t.seq == t.seq[5]].sort_values("pos").text.tolist()))'));
  assert.deepEqual(sentence, expected);
  await root.screenshot({ path: join(OUTPUT, 'colour-search-sentence.png') });
});

test('matrix view fills every layer x head and opens one on click', { timeout: 240_000 }, async () => {
  await runInKernel(page, 'viz.view = "matrix"');
  const root = page.locator('.attentionviz');
  const cells = Number(await runInKernel(page, 'print(viz.n_layers * viz.n_heads)'));
  await page.waitForFunction((n) => Number(document.querySelector('.attentionviz').dataset.matrixPca) === n, cells, {
    timeout: 120_000,
  });
  assert.equal(await root.locator('.av-cell').count(), cells);
  await root.screenshot({ path: join(OUTPUT, 'matrix.png') });
  // viz.save in the matrix view: the grid of thumbnails as one PNG (the view answers after the cell).
  await runInKernel(page, `grid = viz.save(${JSON.stringify(join(OUTPUT, 'matrix-save.png'))}, scale=2)`);
  assert.equal(await pollKernel(page, 'import json\nprint(json.dumps(grid.done))', Boolean), true, 'the matrix PNG was written');
  const size = JSON.parse(await runInKernel(page, 'import json\nfrom PIL import Image\nprint(json.dumps(Image.open(grid.path).size))'));
  const cellWidth = Number(await root.locator('.av-cell canvas').first().getAttribute('width'));
  assert.ok(size[0] > 2 * cellWidth * Number(await runInKernel(page, 'print(viz.n_heads)')), `the PNG is narrower than its cells (${size})`);
  await root.locator('.av-cell[data-layer="1"][data-head="4"]').click();
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.view === 'head');
  const state = (value) => value.join(' ') === '1 4 head';
  assert.deepEqual(await pollKernel(page, 'import json\nprint(json.dumps([*viz.head, viz.view]))', state), [1, 4, 'head']);
});

test('viz.save writes a 2x PNG that is not blank and an SVG with one circle per visible point', { timeout: 120_000 }, async () => {
  await runInKernel(page, 'viz.view = "head"\nviz.clear_selection()\nviz.select([5])');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.lines === '5');
  const dir = join(OUTPUT, 'export');
  mkdirSync(dir, { recursive: true });
  await runInKernel(page, `png = viz.save(${JSON.stringify(join(dir, 'head.png'))}, scale=2)\nsvg = viz.save(${JSON.stringify(join(dir, 'head.svg'))})`);
  // The view answers after that cell has finished; the kernel handles the answer
  // between cells (a cell that sleeps would block it), so poll with short cells.
  for (let i = 0; i < 60; i++) {
    if ((await runInKernel(page, 'print(png.done and svg.done)')).trim() === 'True') break;
    await page.waitForTimeout(500);
  }
  const report = JSON.parse(
    await runInKernel(
      page,
      [
        'import json',
        'assert png.done and svg.done, (png, svg)',
        'import numpy as np, xml.etree.ElementTree as ET',
        'from PIL import Image',
        'img = np.asarray(Image.open(png.path).convert("L"), dtype=float)',
        'root = ET.parse(svg.path).getroot()',
        'ns = "{http://www.w3.org/2000/svg}"',
        'circles = root.findall(f".//{ns}g[@class=\'points\']/{ns}circle")',
        'lines = root.findall(f".//{ns}g[@class=\'lines\']/{ns}line")',
        'print(json.dumps({"png": png.done, "svg": svg.done, "shape": img.shape, "std": img.std(), "circles": len(circles), "lines": len(lines), "width": float(root.get("width")), "height": float(root.get("height"))}))',
      ].join('\n'),
    ),
  );
  assert.ok(report.png && report.svg, 'both files written');
  const box = await page.locator('.attentionviz .av-plot').boundingBox();
  assert.equal(report.shape[1], Math.round(box.width) * 2);
  assert.equal(report.shape[0], Math.round(box.height) * 2);
  assert.ok(report.std > 5, `PNG looks blank (std ${report.std})`);
  const visible = await page.evaluate(([w, h]) => {
    const handle = document.querySelector('.attentionviz').attentionviz;
    let count = 0;
    for (let i = 0; i < handle.pointCount(); i++) {
      const [x, y] = handle.canvasPosition(i);
      if (x >= 0 && x <= w && y >= 0 && y <= h) count++;
    }
    return count;
  }, [report.width, report.height]);
  assert.equal(report.circles, visible);
  assert.equal(report.lines, 5);
});

test('no errors in the browser console', () => {
  assert.deepEqual(appErrors(consoleErrors), []);
});
