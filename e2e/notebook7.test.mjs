// The quickstart in Jupyter Notebook 7 (the `notebook` package, served by the same
// server as JupyterLab): the widget draws, a lasso reaches viz.selection in the kernel,
// a DataFrame filter from Python shows as a highlight, and the widget follows
// Notebook 7's dark theme.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, canvasStats, consoleErrors, lab, lassoRect, page, pollKernel, runInKernel, runQuickstart, useLab } from './lab.mjs';

useLab();

// Notebook 7.6's own page throws this once or twice while loading its settings (the keyboard
// shortcuts plugin reads the schema of a plugin it does not have); it happens on its /tree
// page too, with every federated extension (ours, anywidget, ipywidgets) disabled.
const NOTEBOOK_OWN_ERROR = "TypeError: Cannot read properties of undefined (reading 'schema')";

test('Notebook 7: quickstart draws, lasso -> viz.selection, Python highlight, dark theme', { timeout: 300_000 }, async () => {
  await page.goto(`${lab.url}/notebooks/quickstart.ipynb?token=${lab.token}`);
  // Notebook 7's page, not JupyterLab's: one document, no Lab launcher or file browser.
  const { root, stats } = await runQuickstart(page);
  assert.match(await page.evaluate(() => window.jupyterapp.name), /Notebook/);
  await page.screenshot({ path: join(OUTPUT, 'notebook7.png') });

  await runInKernel(page, 'viz.clear_selection()');
  const expected = await lassoRect(page, '.attentionviz', [0.3, 0.3, 0.6, 0.7]);
  assert.ok(expected.length > 0, 'the lasso region holds points');
  const rows = await pollKernel(page, 'import json\nprint(json.dumps([int(r) for r in viz.selected_rows]))', (value) => value.length > 0);
  assert.deepEqual(rows, expected);

  await runInKernel(page, 'viz.select(cap.tokens[cap.tokens.text == "cat"])');
  const cats = Number(await runInKernel(page, 'print(int((cap.tokens.text == "cat").sum()))'));
  assert.ok(cats > 0);
  await page.waitForFunction((n) => document.querySelector('.attentionviz .av-status').textContent.includes(`${n} selected`), cats);

  assert.equal(await root.evaluate((el) => el.classList.contains('av-dark')), false);
  await page.evaluate(async () => void (await window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' })));
  await page.waitForFunction(() => document.querySelector('.attentionviz').classList.contains('av-dark'), null, { timeout: 60_000 });
  await page.waitForTimeout(500);
  const dark = await canvasStats(page);
  assert.ok(dark.mean < stats.mean, `the plot did not darken (mean luma ${stats.mean.toFixed(1)} -> ${dark.mean.toFixed(1)})`);
  await page.screenshot({ path: join(OUTPUT, 'notebook7-dark.png') });
  assert.deepEqual(appErrors(consoleErrors).filter((text) => text !== NOTEBOOK_OWN_ERROR), []);
});
