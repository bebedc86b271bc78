// examples/generation.ipynb in a real JupyterLab: a generation captured through the KV cache
// (tiny random Llama, MiniLM's tokenizer, offline) shown coloured by `generated`, and a chat
// prompt coloured by `role`; the legends name the column's values.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, canvasStats, consoleErrors, lab, page, runInKernel, useLab } from './lab.mjs';

useLab();

/** Legend labels of the n-th widget on the page. */
function legendLabels(index) {
  return page.evaluate((i) => {
    const root = document.querySelectorAll('.attentionviz')[i];
    return root.querySelector('.av-legend').textContent;
  }, index);
}

test('the generation notebook runs and shows generated tokens and chat roles coloured', { timeout: 300_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/generation.ipynb?reset&token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, {
    timeout: 120_000,
  });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await page.waitForFunction(() => document.querySelectorAll('.attentionviz[data-ready="true"]').length === 2, null, {
    timeout: 240_000,
  });
  const roots = page.locator('.attentionviz');
  const first = roots.nth(0);
  await first.scrollIntoViewIfNeeded();
  await page.waitForTimeout(1000);
  const stats = await canvasStats(page);
  assert.ok(stats.variance > 20, `canvas looks blank (luma variance ${stats.variance.toFixed(2)})`);
  assert.equal(await first.getAttribute('data-view'), 'head');
  // a categorical colouring of the boolean column: its two values in the legend
  const legend = (await legendLabels(0)).toLowerCase();
  assert.match(legend, /true/);
  assert.match(legend, /false/);
  const counts = JSON.parse(await runInKernel(page, 'import json\nprint(json.dumps([int(cap.tokens.generated.sum()), len(cap)]))'));
  assert.equal(counts[0], 3 * 24, 'every generated token is in the token table');
  await first.screenshot({ path: join(OUTPUT, 'generation-widget.png') });

  const chat = roots.nth(1);
  await chat.scrollIntoViewIfNeeded();
  await page.waitForTimeout(1000);
  const roles = await legendLabels(1);
  for (const role of ['system', 'user', 'assistant']) assert.ok(roles.includes(role), `legend names ${role}: ${roles}`);
  await chat.screenshot({ path: join(OUTPUT, 'generation-chat-roles.png') });
  await page.screenshot({ path: join(OUTPUT, 'generation-lab.png') });
});

test('no errors in the browser console', () => {
  assert.deepEqual(appErrors(consoleErrors), []);
});
