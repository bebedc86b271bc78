// Opens a standalone attentionviz page from file:// in Debian's Chromium and checks that
// the single-head view draws (non-blank canvas, no console errors); saves a screenshot.
// usage: node tests/wheel/draws.mjs page.html screenshot.png
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { canvasStats, launchBrowser, newPage } from '../../e2e/lab.mjs';

const [html, shot] = process.argv.slice(2);
const browser = await launchBrowser();
const errors = [];
try {
  const page = await newPage(browser, errors);
  await page.goto(pathToFileURL(html).href);
  await page.locator('.attentionviz[data-view="head"][data-ready="true"]').waitFor({ timeout: 120_000 });
  const stats = await canvasStats(page);
  await page.screenshot({ path: shot });
  assert.ok(stats.variance > 20, `the plot looks blank (luma variance ${stats.variance})`);
  assert.deepEqual(errors, [], 'console errors');
  console.log(`page draws from file:// (${stats.width}x${stats.height}, luma variance ${stats.variance.toFixed(0)})`);
} finally {
  await browser.close();
}
