// The original AttentionViz's head-view features (issue #17) in a real JupyterLab on the
// quickstart capture: token labels once zoomed in (and off again), colour by token
// frequency, sentence-wide lines, hiding [CLS]/[SEP]/first tokens with renormalization,
// each set from the toolbar and read back in the kernel; labels in the SVG export.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, consoleErrors, lab, page, pollKernel, runInKernel, runQuickstart, useLab } from './lab.mjs';

const DIR = join(OUTPUT, 'head_features');
useLab({ output: DIR });

const root = () => page.locator('.attentionviz');
const data = (name) => page.evaluate((key) => document.querySelector('.attentionviz').dataset[key] ?? '', name);
const control = (name) => page.locator(`.attentionviz [data-control="${name}"]`);

/** Kernel code: for the token `row`'s sentence, how many (query, key) links of top 2 with weight >= bound, with or without the sinks hidden. */
const linkCount = (row, hide) => `
import numpy as np, json
t = cap.tokens
rows = np.flatnonzero(t.seq.values == t.seq.values[${row}])
q, k = cap.qk(*viz.head)
w = (q[rows] @ k[rows].T) * cap.scale
w = np.exp(w - w.max(axis=1, keepdims=True))
hidden = (t.special.values[rows].astype(bool) | (t.pos.values[rows] == 0)) if ${hide ? 'True' : 'False'} else np.zeros(len(rows), bool)
w[:, hidden] = 0
w = w / w.sum(axis=1, keepdims=True)
top = -np.sort(-w, axis=1)[:, :2]
# Q/K travel as float16: a weight within 0.002 of the 0.05 cut may fall either side of it.
print(json.dumps([int((top >= 0.052).sum()), int((top >= 0.048).sum())]))`;

test('labels: the highlighted tokens are labelled, all are once zoomed in, none when switched off', { timeout: 400_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/quickstart.ipynb?token=${lab.token}`);
  await runQuickstart(page);
  await runInKernel(page, 'import json');
  // The notebook's last cell selected every "the": few enough to label at once.
  await page.waitForFunction(() => Number(document.querySelector('.attentionviz').dataset.labels) > 0, null, { timeout: 30_000 });
  await root().screenshot({ path: join(DIR, 'labels-selected.png') });
  await runInKernel(page, 'viz.clear_selection()');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.labels === '0');
  // Zoomed out, the whole corpus is too dense to read: zoom in on the plot's centre.
  // (A wheel event on the canvas itself: the mouse wheel would scroll the notebook too.)
  for (let i = 0; i < 40 && Number(await data('labels')) === 0; i++) {
    await page.evaluate(() => {
      const canvas = document.querySelector('.attentionviz .av-plot canvas');
      const rect = canvas.getBoundingClientRect();
      const at = { clientX: rect.left + rect.width / 2, clientY: rect.top + rect.height / 2 };
      canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, ...at, bubbles: true, cancelable: true }));
    });
    await page.waitForTimeout(150);
  }
  const shown = Number(await data('labels'));
  assert.ok(shown > 5, `zoomed in, ${shown} labels are drawn`);
  await page.waitForTimeout(300);
  await root().screenshot({ path: join(DIR, 'labels-zoomed.png') });
  // Labels are in the SVG export too (the toolbar's SVG button: the same figure viz.save writes).
  const roots = await page.locator('.attentionviz').count();
  const [download] = await Promise.all([page.waitForEvent('download'), control('SVG').click()]);
  const svg = join(DIR, 'labels.svg');
  await download.saveAs(svg);
  const texts = readFileSync(svg, 'utf8').match(/<g class="labels"[^]*?<\/g>/)?.[0].match(/<text /g)?.length ?? 0;
  assert.equal(roots, 1, 'one view of the widget on the page');
  assert.equal(texts, Number(await data('labels')), 'the SVG has the labels on screen');
  await control('labels').locator('input').uncheck();
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.labels === '0');
  assert.equal(await pollKernel(page, 'print(json.dumps(viz.labels))', (v) => v === false), false);
  await root().screenshot({ path: join(DIR, 'labels-off.png') });
  await control('labels').locator('input').check();
  await page.locator('.attentionviz [data-control="reset"]').click();
});

test('colour by token frequency: the kernel sees it and the legend names it', { timeout: 120_000 }, async () => {
  await control('colour').locator('select').selectOption('frequency');
  assert.equal(await pollKernel(page, 'print(json.dumps(viz.color_by))', (v) => v === 'frequency'), 'frequency');
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.colorBy === 'frequency');
  const legend = await page.locator('.attentionviz .av-legend').textContent();
  assert.match(legend, /occurrences 1/);
  assert.match(legend, /log scale/);
  // The most frequent text is the highest value of the legend.
  const top = Number(await runInKernel(page, 'print(int(cap.tokens.text.value_counts().max()))'));
  assert.ok(legend.includes(`${top} (log scale)`), `legend "${legend}" tops at ${top}`);
  await root().screenshot({ path: join(DIR, 'colour-frequency.png') });
});

test('sentence-wide lines: every query of the clicked sentence to its top 2 keys >= 0.05', { timeout: 120_000 }, async () => {
  await control('lines').locator('select').selectOption('sentence');
  assert.equal(await pollKernel(page, 'print(json.dumps(viz.lines))', (v) => v === 'sentence'), 'sentence');
  const row = 40;
  await runInKernel(page, `viz.select([${row}])`);
  await page.waitForFunction(() => Number(document.querySelector('.attentionviz').dataset.lines) > 5);
  const lines = Number(await data('lines'));
  const [low, high] = JSON.parse(await runInKernel(page, linkCount(row, false)));
  assert.ok(low <= lines && lines <= high, `${lines} lines, the kernel counts ${low}..${high}`);
  await page.waitForTimeout(300);
  await root().screenshot({ path: join(DIR, 'sentence-lines.png') });
});

test('hide [CLS]/[SEP]: lines and the sentence view renormalize without the sinks', { timeout: 120_000 }, async () => {
  const row = 40;
  const before = Number(await data('lines'));
  await control('hide [CLS]/[SEP]').locator('input').check();
  assert.equal(await pollKernel(page, 'print(json.dumps(viz.hide_special))', (v) => v === true), true);
  await page.waitForFunction((n) => document.querySelector('.attentionviz').dataset.lines !== String(n), before, { timeout: 10_000 }).catch(() => {});
  const lines = Number(await data('lines'));
  const [low, high] = JSON.parse(await runInKernel(page, linkCount(row, true)));
  assert.ok(low <= lines && lines <= high, `${lines} lines with sinks hidden, the kernel counts ${low}..${high}`);
  // In the sentence view the sinks' keys are greyed and draw no line.
  const sinks = await page.locator('.attentionviz .av-sentence-key.av-sentence-hidden').allTextContents();
  assert.ok(sinks.includes('[CLS]') && sinks.includes('[SEP]'), `hidden keys: ${sinks}`);
  // Click a query in the sentence view: only its lines stay (toggle), then all again.
  const all = Number(await page.locator('.attentionviz .av-sentence:not(.av-image)').getAttribute('data-lines'));
  await page.locator('.attentionviz .av-sentence-query').nth(2).click();
  const one = Number(await page.locator('.attentionviz .av-sentence:not(.av-image)').getAttribute('data-lines'));
  assert.ok(one >= 1 && one < all, `toggled: ${one} of ${all} lines`);
  await page.waitForTimeout(300);
  await root().screenshot({ path: join(DIR, 'hide-special.png') });
  await page.locator('.attentionviz .av-sentence-query').nth(2).click();
  assert.equal(Number(await page.locator('.attentionviz .av-sentence:not(.av-image)').getAttribute('data-lines')), all);
  assert.deepEqual(appErrors(consoleErrors), []);
});
