// The head map in a real JupyterLab on the quickstart capture: the toolbar's view menu
// opens it (one point per head, from the kernel's `head-map` reply), hovering a point shows
// that head's label, numbers and thumbnail, clicking it opens the head; the standalone
// HTML export shows the same map without a kernel.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OUTPUT, appErrors, browser, consoleErrors, lab, newPage, page, pollKernel, runInKernel, runQuickstart, useLab } from './lab.mjs';

const DIR = join(OUTPUT, 'headmap');

useLab({ output: DIR });

/** Waits until the head map is drawn in `target`; returns its point count. */
async function mapReady(target) {
  await target.locator('.attentionviz[data-headmap="ready"]').waitFor({ timeout: 120_000 });
  return target.locator('.attentionviz .av-headmap-point').count();
}

/**
 * Points not covered by another (heads with alike attention overlap), with their page
 * coordinates: a user can hover and click exactly these.
 */
async function exposedPoints(target) {
  await target.locator('.attentionviz .av-headmap-svg').scrollIntoViewIfNeeded();
  return target.evaluate(() =>
    [...document.querySelectorAll('.attentionviz .av-headmap-point')].flatMap((circle) => {
      const box = circle.getBoundingClientRect();
      const x = box.left + box.width / 2;
      const y = box.top + box.height / 2;
      return document.elementFromPoint(x, y) === circle ? [{ layer: Number(circle.dataset.layer), head: Number(circle.dataset.head), x, y }] : [];
    }),
  );
}

test('the view menu opens the head map: one point per head', { timeout: 400_000 }, async () => {
  await page.goto(`${lab.url}/lab/tree/quickstart.ipynb?token=${lab.token}`);
  await runQuickstart(page);
  await page.locator('.attentionviz [data-control="view"] select').selectOption('headmap');
  const shape = JSON.parse(await runInKernel(page, 'import json\nprint(json.dumps([cap.n_layers * cap.n_heads]))'));
  assert.equal(await mapReady(page), shape[0]);
  assert.deepEqual(await pollKernel(page, 'print(json.dumps(viz.view))', (view) => view === 'headmap'), 'headmap');
  // the points spread over the plot (not all on one spot)
  const spread = await page.evaluate(() => {
    const xs = [...document.querySelectorAll('.attentionviz .av-headmap-point')].map((c) => Number(c.getAttribute('cx')));
    return Math.max(...xs) - Math.min(...xs);
  });
  assert.ok(spread > 200, `points span only ${spread}px`);
  await page.locator('.attentionviz').scrollIntoViewIfNeeded();
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'headmap.png') });
});

test('hover shows the head, its numbers and thumbnail; colour by entropy follows the trait', { timeout: 120_000 }, async () => {
  const exposed = await exposedPoints(page);
  assert.ok(exposed.length > 10, `only ${exposed.length} points can be hovered`);
  const target = exposed[Math.floor(exposed.length / 2)];
  await page.mouse.move(target.x, target.y);
  const tooltip = page.locator('.attentionviz .av-headmap-tooltip');
  await tooltip.waitFor({ state: 'visible' });
  const text = await tooltip.textContent();
  assert.match(text, new RegExp(`layer ${target.layer}, head ${target.head}`));
  assert.match(text, /entropy \(nats\): \d/);
  assert.match(text, /closest: L\d+ H\d+/);
  await tooltip.locator('canvas').waitFor({ timeout: 30_000 });
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'headmap-hover.png') });
  const fills = () => page.evaluate(() => [...document.querySelectorAll('.attentionviz .av-headmap-point')].map((c) => c.getAttribute('fill')).join());
  const before = await fills();
  await runInKernel(page, 'viz.headmap_color = "entropy"');
  await page.waitForFunction((old) => [...document.querySelectorAll('.attentionviz .av-headmap-point')].map((c) => c.getAttribute('fill')).join() !== old, before);
  assert.equal(await page.locator('.attentionviz [data-control="map colour"] select').inputValue(), 'entropy');
  await page.locator('.attentionviz').screenshot({ path: join(DIR, 'headmap-entropy.png') });
});

test('clicking a point opens that head', { timeout: 180_000 }, async () => {
  const exposed = await exposedPoints(page);
  const target = exposed.find((point) => point.layer !== 2 || point.head !== 3); // not the notebook's head
  await page.mouse.click(target.x, target.y);
  const shown = await pollKernel(page, 'print(json.dumps([viz.view, *viz.head]))', (value) => value[0] === 'head');
  assert.deepEqual(shown, ['head', target.layer, target.head]);
  await page.locator('.attentionviz[data-view="head"][data-ready="true"]').waitFor({ timeout: 120_000 });
});

test('the standalone HTML export shows the head map', { timeout: 300_000 }, async () => {
  const path = join(DIR, 'headmap.html');
  await runInKernel(page, `viz.view = "headmap"\nviz.save(${JSON.stringify(path)}, heads="current", progress=False)`);
  const exported = await newPage(browser, consoleErrors);
  try {
    await exported.goto(pathToFileURL(path).href);
    const shape = JSON.parse(await runInKernel(page, 'print(json.dumps(cap.n_layers * cap.n_heads))'));
    assert.equal(await mapReady(exported), shape);
    await exported.screenshot({ path: join(DIR, 'headmap-standalone.png') });
  } finally {
    await exported.close();
  }
});

test('no console errors', () => {
  assert.deepEqual(appErrors(consoleErrors), []);
});
