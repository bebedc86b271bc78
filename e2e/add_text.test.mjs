// Text typed into the widget in a real JupyterLab: the kernel exports the real MiniLM to
// ONNX, the view fetches it (binary chunks over the widget's custom messages), runs it in
// the browser (onnxruntime-web, WASM here), and places the new tokens into the shown head
// (and the compare panels, and every matrix thumbnail).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT, appErrors, canvasStats, consoleErrors, lab, minilmCapture, page, putNotebook, runInKernel, useLab } from './lab.mjs';

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const NOTEBOOK = 'add_text.ipynb';

useLab({
  prepare: () => {
    const setup = [
      ...minilmCapture(12, ', metadata={"sentence": texts}'),
      'import tempfile, pathlib',
      'from attentionviz.onnx import export',
      'onnx_dir = pathlib.Path(tempfile.mkdtemp(prefix="attnviz-add-text-"))',
      'export(model, tokenizer, onnx_dir / "model.onnx")',
    ].join('\n');
    return putNotebook(lab, NOTEBOOK, [setup, 'viz = av.AttentionViz(cap, head=(2, 3), onnx=onnx_dir)\nviz']);
  },
});

const root = () => page.locator('.attentionviz');
const data = (name) => page.evaluate((key) => document.querySelector('.attentionviz').dataset[key], name);

test('typed text: its tokens appear in the head layout, in viz.added_tokens, with a tooltip', { timeout: 900_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/${NOTEBOOK}?token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await page.locator('.attentionviz[data-ready="true"]').waitFor({ timeout: 400_000 });
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.method === 'umap', null, { timeout: 180_000 });
  const before = await page.evaluate(() => document.querySelector('.attentionviz').attentionviz.pointCount());
  const nCapture = Number(await runInKernel(page, 'print(len(cap.tokens))'));
  assert.equal(before, 2 * nCapture);
  assert.equal(await data('added'), '0');

  const input = root().locator('.av-addtext input');
  await input.scrollIntoViewIfNeeded();
  await input.fill(SENTENCE);
  const started = Date.now();
  await input.press('Enter');
  // The status names each stage; the model download shows its progress.
  await page.waitForFunction(() => /loading model|starting|computing/.test(document.querySelector('.attentionviz .av-addtext-status').textContent), null, { timeout: 60_000 });
  await page.waitForFunction(() => Number(document.querySelector('.attentionviz').dataset.added) > 0, null, { timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  const status = await root().locator('.av-addtext-status').textContent();
  console.log(`# first text added in ${seconds.toFixed(1)} s (model transfer + onnxruntime start + run); status: ${status}`);
  assert.match(status, /added \d+ tokens · (WASM|WebGPU)/);

  const expected = JSON.parse(await runInKernel(page, `import json\nprint(json.dumps(tokenizer(${JSON.stringify(SENTENCE)})["input_ids"]))`));
  const added = Number(await data('added'));
  assert.equal(added, expected.length, 'one new token per token of the Python tokenizer');
  assert.equal(await page.evaluate(() => document.querySelector('.attentionviz').attentionviz.pointCount()), 2 * (nCapture + added));

  // Python knows the rows (the view sends them; poll with short cells).
  let table = null;
  for (let i = 0; i < 60 && !table; i++) {
    const out = JSON.parse(await runInKernel(page, 'import json\nt = viz.added_tokens\nprint(json.dumps({"n": len(t), "ids": t.token_id.tolist(), "text": t.text.tolist(), "index": t.index.tolist(), "sentence": t.sentence.unique().tolist(), "source": t.source.unique().tolist()}))'));
    if (out.n) table = out;
    else await page.waitForTimeout(500);
  }
  assert.ok(table, 'viz.added_tokens stayed empty');
  assert.deepEqual(table.ids, expected);
  assert.deepEqual(table.index, Array.from({ length: added }, (_, i) => nCapture + i));
  assert.deepEqual(table.sentence, [SENTENCE]);
  assert.deepEqual(table.source, ['browser']);
  assert.ok(table.text.includes('fox') && table.text.includes('lazy'), table.text.join(' '));

  // Hover an added query whose point no other point covers: the tooltip shows the sentence.
  // The whole plot on screen first (the toolbar and the text box push it below the fold).
  await page.locator('.attentionviz .av-plot').scrollIntoViewIfNeeded();
  const target = await page.evaluate(([n, m]) => {
    const handle = document.querySelector('.attentionviz').attentionviz;
    const all = Array.from({ length: handle.pointCount() }, (_, i) => handle.canvasPosition(i));
    for (let row = n + 1; row < n + m - 1; row++) {
      const [x, y] = all[row];
      if (all.every(([px, py], j) => j === row || Math.hypot(px - x, py - y) > 10)) return { row, x, y };
    }
    const [x, y] = all[n + 1];
    return { row: n + 1, x, y };
  }, [nCapture, added]);
  const box = await page.locator('.attentionviz .av-plot').boundingBox();
  await page.mouse.move(box.x + target.x, box.y + target.y);
  const tooltip = root().locator('.av-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  assert.equal(Number(await data('hover')), target.row);
  const context = await tooltip.locator('.av-tooltip-context').textContent();
  for (const word of ['quick', 'brown', 'fox', 'lazy', 'dog']) assert.ok(context.includes(word), `tooltip context "${context}" lacks ${word}`);
  assert.match(await tooltip.locator('.av-tooltip-detail').textContent(), /typed in/);
  // (an element screenshot would scroll the page and move the point away from the mouse)
  await page.screenshot({ path: join(OUTPUT, 'add-text-hover.png') });

  // Click it: the selection in Python is that added row.
  await page.mouse.click(box.x + target.x, box.y + target.y);
  await page.waitForFunction(() => / 1 selected/.test(document.querySelector('.attentionviz .av-status').textContent), null, { timeout: 30_000 });
  let selected = { rows: [] };
  for (let i = 0; i < 60 && !selected.rows.length; i++) {
    selected = JSON.parse(await runInKernel(page, 'import json\ns = viz.selection\nprint(json.dumps({"rows": [int(r) for r in viz.selected_rows], "source": s["source"].tolist() if "source" in s else []}))'));
    if (!selected.rows.length) await page.waitForTimeout(500);
  }
  assert.deepEqual(selected.rows, [target.row]);
  assert.deepEqual(selected.source, ['browser']);
  await root().screenshot({ path: join(OUTPUT, 'add-text-selected.png') });
  const stats = await canvasStats(page);
  assert.ok(stats.variance > 20, `canvas looks blank (luma variance ${stats.variance})`);
});

test('changing the head re-places the added tokens from their stored Q/K', { timeout: 300_000 }, async () => {
  const n = Number(await runInKernel(page, 'print(len(cap.tokens))'));
  const added = Number(await data('added'));
  const positions = () =>
    page.evaluate(([n, m]) => {
      const handle = document.querySelector('.attentionviz').attentionviz;
      return Array.from({ length: m }, (_, i) => handle.canvasPosition(n + i));
    }, [n, added]);
  const before = await positions();
  await runInKernel(page, 'viz.clear_selection()\nviz.projection = "pca"\nviz.head = (4, 7)');
  await page.waitForFunction(() => {
    const d = document.querySelector('.attentionviz').dataset;
    return d.head === '7' && d.layer === '4' && d.method === 'pca';
  }, null, { timeout: 120_000 });
  assert.equal(Number(await data('added')), added, 'the added tokens are still shown');
  const after = await positions();
  assert.ok(after.some(([x, y], i) => Math.hypot(x - before[i][0], y - before[i][1]) > 1), 'placements were not recomputed');
  await root().screenshot({ path: join(OUTPUT, 'add-text-head-4-7-pca.png') });
});

test('the compare view shows the added tokens in both panels', { timeout: 300_000 }, async () => {
  const added = await data('added');
  await runInKernel(page, 'viz.compare(4, 6)');
  await page.waitForFunction(
    (m) => {
      const panels = [...document.querySelectorAll('.attentionviz .av-compare-panel')];
      return panels.length === 2 && panels.every((panel) => panel.dataset.ready === 'true' && panel.dataset.added === m);
    },
    added,
    { timeout: 120_000 },
  );
  assert.deepEqual(
    await page.evaluate(() => [...document.querySelectorAll('.attentionviz .av-compare-panel')].map((panel) => `${panel.dataset.layer}/${panel.dataset.head}`)),
    ['4/7', '4/6'],
  );
  await root().screenshot({ path: join(OUTPUT, 'add-text-compare.png') });
});

test('the matrix view shows the added tokens in every thumbnail', { timeout: 300_000 }, async () => {
  const added = await data('added');
  await runInKernel(page, 'viz.view = "matrix"');
  const cells = Number(await runInKernel(page, 'print(viz.n_layers * viz.n_heads)'));
  await page.waitForFunction(
    ([n, m]) => {
      const found = [...document.querySelectorAll('.attentionviz .av-cell')];
      return found.length === n && found.every((cell) => cell.dataset.method && cell.dataset.added === m);
    },
    [cells, added],
    { timeout: 180_000 },
  );
  await root().screenshot({ path: join(OUTPUT, 'add-text-matrix.png') });
});

test('no errors in the browser console', () => {
  assert.deepEqual(appErrors(consoleErrors), []);
});
