// examples/paper_findings.ipynb in a real JupyterLab: every cell runs, each view opens on
// the state its cell set (the analysis pane, value weighting, patch sprites), and the
// linked heatmap highlights a query and a key in the plot. Screenshots of each finding.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, lab, page, useLab } from './lab.mjs';

useLab();

const VIEWS = 6;

/** The n-th widget of the notebook (0-based). */
const nth = (n) => page.locator('.attentionviz').nth(n);

test('the tour notebook runs and each view shows its finding', { timeout: 900_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/paper_findings.ipynb?token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  // JupyterLab renders cells lazily: scroll each view in and wait for its layout.
  for (let n = 0; n < VIEWS; n++) {
    await page.waitForFunction((count) => document.querySelectorAll('.attentionviz').length > count, n, { timeout: 600_000 });
    await nth(n).scrollIntoViewIfNeeded();
    await page.waitForFunction((i) => document.querySelectorAll('.attentionviz')[i].dataset.ready === 'true', n, { timeout: 300_000 });
  }

  // 1. the positional head with attention by offset: the peak is the previous token
  const positional = nth(0);
  await positional.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('.attentionviz')[0].dataset.aggregatePeak !== undefined, null, { timeout: 60_000 });
  assert.equal(await positional.getAttribute('data-analysis'), 'offsets');
  assert.equal(await positional.getAttribute('data-aggregate-peak'), '-1');
  assert.ok(Math.abs(Number(await positional.getAttribute('data-aggregate-mean-offset')) - 0.92) < 0.02, 'mean |offset| of L0 H2');
  await positional.screenshot({ path: join(OUTPUT, 'tour-positional-head.png') });

  // 2. the sink head, value-weighted pattern of sentence 0; hovering a cell highlights both points
  const sink = nth(1);
  await sink.scrollIntoViewIfNeeded();
  assert.equal(await sink.getAttribute('data-analysis'), 'pattern');
  await page.waitForFunction(() => document.querySelectorAll('.attentionviz')[1].dataset.heatmapSeq === '0', null, { timeout: 60_000 });
  const canvas = sink.locator('.av-heatmap canvas');
  const box = await canvas.boundingBox();
  const size = await canvas.evaluate((c) => c.width);
  const n = Number(await sink.getAttribute('data-heatmap-size'));
  const margin = n <= 32 ? 64 : 0;
  const cell = Math.floor((280 - margin) / n);
  const scale = box.width / size;
  await page.mouse.move(box.x + (margin + 1.5 * cell) * scale, box.y + (margin + 3.5 * cell) * scale);
  await page.waitForFunction(() => document.querySelectorAll('.attentionviz')[1].dataset.heatmapHover !== '', null, { timeout: 10_000 });
  const [queryRow, keyRow] = (await sink.getAttribute('data-heatmap-hover')).split(',').map(Number);
  assert.deepEqual([queryRow, keyRow], [3, 1], 'cell (query 3, key 1) of sentence 0');
  const emphasis = await sink.evaluate((el, [q, k]) => {
    const handle = el.attentionviz;
    const nTokens = handle.pointCount() / 2;
    return [handle.emphasis(q), handle.emphasis(nTokens + k), handle.emphasis(k)];
  }, [queryRow, keyRow]);
  assert.deepEqual(emphasis.slice(0, 2), [2, 2], 'query and key highlighted');
  assert.notEqual(emphasis[2], 2, 'the query point of the key row is not');
  await sink.screenshot({ path: join(OUTPUT, 'tour-sink-pattern-hover.png') });
  await page.mouse.move(0, 0);

  // 3. the per-dimension view of the selected query
  const dims = nth(2);
  await dims.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('.attentionviz')[2].dataset.dimsPair, null, { timeout: 60_000 });
  assert.ok((await dims.locator('.av-dims-chart rect').count()) > 0);
  await dims.screenshot({ path: join(OUTPUT, 'tour-pair-dims.png') });

  // 4. token categories
  await nth(3).scrollIntoViewIfNeeded();
  await nth(3).screenshot({ path: join(OUTPUT, 'tour-categories.png') });

  // 5. ViT patches as sprites, coloured by brightness; then plain patches by row
  for (const [i, name] of [[4, 'tour-vit-patches-brightness.png'], [5, 'tour-vit-patches-rows.png']]) {
    const vit = nth(i);
    await vit.scrollIntoViewIfNeeded();
    await page.waitForFunction((k) => document.querySelectorAll('.attentionviz')[k].dataset.sprites === 'on', i, { timeout: 120_000 });
    await vit.screenshot({ path: join(OUTPUT, name) });
  }
});
