// Helpers for end-to-end tests: a real JupyterLab (and Notebook 7) on 127.0.0.1 (random port and
// token), Debian's Chromium driven by playwright-core, and code run in the kernel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = join(ROOT, 'test-output', 'e2e');
const JUPYTER = join(ROOT, '.venv', 'bin', 'jupyter');

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Start JupyterLab on a copy of examples/; resolves once its API answers. */
export async function startLab() {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'attentionviz-e2e-'));
  cpSync(join(ROOT, 'examples'), join(work, 'notebooks'), { recursive: true });
  // A private config dir: no news pop-up, no user settings leaking into the test.
  const config = join(work, 'config');
  mkdirSync(join(config, 'labconfig'), { recursive: true });
  writeFileSync(
    join(config, 'labconfig', 'page_config.json'),
    JSON.stringify({ disabledExtensions: { '@jupyterlab/apputils-extension:announcements': true } }),
  );
  const lab = spawn(
    JUPYTER,
    [
      'lab',
      '--no-browser',
      '--allow-root',
      '--LabApp.extension_manager=readonly',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${join(work, 'notebooks')}`,
      '--LabApp.expose_app_in_browser=True',
      // Notebook 7 (the `notebook` package) serves /tree and /notebooks from the same server.
      '--JupyterNotebookApp.expose_app_in_browser=True',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
    {
      env: { ...process.env, JUPYTER_CONFIG_DIR: config, HF_HUB_OFFLINE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  lab.stdout.on('data', (chunk) => (log += chunk));
  lab.stderr.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (lab.exitCode !== null) throw new Error(`JupyterLab exited early:\n${log}`);
    try {
      const response = await fetch(`${url}/api/status?token=${token}`);
      if (response.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`JupyterLab did not start in 90 s:\n${log}`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
  return {
    url,
    token,
    log: () => log,
    stop: async () => {
      lab.kill('SIGTERM');
      await new Promise((ok) => (lab.exitCode !== null ? ok() : lab.once('exit', ok)));
    },
  };
}

// The JupyterLab session of the test file that called useLab(). node --test runs each
// file in its own process, so these bindings belong to that file; its before hook fills
// them in (read them inside tests, not at import time).
export let lab = null;
export let browser = null;
export let page = null;
export const consoleErrors = [];

/**
 * The test file's before/after hooks: start JupyterLab on a copy of examples/, run
 * `prepare()` (write notebooks, upload files), then open Chromium on a page that
 * records console errors (`consoleErrors`) and hand it to `ready(page)`; close both
 * after the file's tests. (One hook: top-level before hooks do not wait for each other.)
 */
export function useLab({ output = OUTPUT, prepare, ready } = {}) {
  before(async () => {
    mkdirSync(output, { recursive: true });
    lab = await startLab();
    await prepare?.();
    browser = await launchBrowser();
    page = await newPage(browser, consoleErrors);
    ready?.(page);
  });
  after(async () => {
    await browser?.close();
    await lab?.stop();
  });
}

/**
 * Kernel code (lines) that loads the bundled all-MiniLM-L6-v2 offline and captures
 * `texts = sentences(n)` as `cap`; `captureOptions` is appended to av.capture's arguments.
 */
export function minilmCapture(n, captureOptions = '') {
  return [
    'import os, json',
    'os.environ.setdefault("HF_HUB_OFFLINE", "1")',
    'import attentionviz as av',
    'from attentionviz.corpus import sentences',
    'from attentionviz.demo import load_minilm',
    'model, tokenizer = load_minilm()',
    `texts = sentences(${n})`,
    `cap = av.capture(model, tokenizer, texts${captureOptions}, progress=False)`,
  ];
}

/** Debian's Chromium with CHROMIUM_ARGS, plus `extraArgs` (e.g. '--js-flags=--expose-gc'). */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROME_BIN || '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A new 1280x900 page whose console errors and uncaught exceptions are pushed to `errors`. */
export async function newPage(browser, errors) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return page;
}

/**
 * The console errors that are ours: all but the browser's own reports of a missing
 * favicon or another 404 resource (JupyterLab asks for a few that do not exist).
 */
export function appErrors(errors) {
  return errors.filter((text) => !/favicon|404 \(Not Found\)/.test(text));
}

/** Create (or overwrite) a notebook of `cells` (code sources) in the Lab's root folder. */
export async function putNotebook(lab, name, cells) {
  const content = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `cell-${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
  const response = await fetch(`${lab.url}/api/contents/${name}?token=${lab.token}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'notebook', format: 'json', content }),
  });
  if (!response.ok) throw new Error(`could not create ${name}: ${response.status} ${await response.text()}`);
}

/** Open `name` alone in the page (`reset`: no tabs restored) and wait for its kernel. */
export async function openNotebook(page, lab, name) {
  await page.goto(`${lab.url}/lab/tree/${name}?reset&token=${lab.token}`);
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, {
    timeout: 120_000,
  });
}

/**
 * Run every cell of the quickstart notebook open in `page` (JupyterLab or Notebook 7) and
 * wait until its widget shows UMAP (PCA comes first; UMAP runs in a web worker); assert the
 * plot is drawn and not blank. Returns the widget's locator and its canvas stats.
 */
export async function runQuickstart(page) {
  await page.waitForFunction(() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel, null, {
    timeout: 120_000,
  });
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  const root = page.locator('.attentionviz[data-ready="true"]');
  await root.waitFor({ timeout: 180_000 });
  await page.waitForFunction(() => document.querySelector('.attentionviz').dataset.method === 'umap', null, {
    timeout: 120_000,
  });
  await root.scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  const stats = await canvasStats(page);
  assert.ok(stats.width > 100 && stats.height > 100, `canvas is ${stats.width}x${stats.height}`);
  assert.ok(stats.variance > 20, `canvas looks blank (luma variance ${stats.variance.toFixed(2)})`);
  return { root, stats };
}

/**
 * Run `code` in the kernel of the notebook shown in the page and return its stdout
 * (through the Lab app exposed in the browser, i.e. the same kernel the widget talks to).
 */
export async function runInKernel(page, code) {
  return page.evaluate(async (source) => {
    const app = window.jupyterapp;
    const kernel = app.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({ code: source, store_history: false });
    let stdout = '';
    let error = '';
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === 'stream') stdout += msg.content.text;
      if (msg.header.msg_type === 'error') error = `${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    if (error) throw new Error(`kernel error: ${error}`);
    return stdout;
  }, code);
}

/**
 * Run `code` (which prints JSON) in short cells until `done(value)` holds, and return the
 * value. Short cells, not one sleeping cell: the kernel handles the view's messages
 * (selection, traits) between cells, never while a cell runs.
 */
export async function pollKernel(page, code, done, { timeout = 20_000, interval = 200 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = JSON.parse(await runInKernel(page, code));
    if (done(value) || Date.now() > deadline) return value;
    await page.waitForTimeout(interval);
  }
}

/**
 * Pixel statistics of a plot's WebGL canvas, read back after a synchronous render: the
 * plot whose `attentionviz` handle is on the first element matching `selector` (the
 * view's root by default; a compare panel is `.av-compare-panel[data-side="right"]`).
 */
export async function canvasStats(page, selector = '.attentionviz') {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel).attentionviz.snapshot();
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const context = copy.getContext('2d');
    context.drawImage(canvas, 0, 0);
    const { data } = context.getImageData(0, 0, copy.width, copy.height);
    let sum = 0;
    let sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const luma = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += luma;
      sumSq += luma * luma;
    }
    const mean = sum / n;
    return { width: copy.width, height: copy.height, mean, variance: sumSq / n - mean * mean };
  }, selector);
}

/**
 * Shift-drag a lasso around the rectangle [fx0, fy0, fx1, fy1] (fractions of the plot)
 * of the plot under `selector` (the element with the `attentionviz` handle, whose
 * `.av-plot` is drawn on), and return the token rows whose points lie inside, sorted:
 * what the selection must then be.
 */
export async function lassoRect(page, selector, [fx0, fy0, fx1, fy1]) {
  const box = await page.locator(`${selector} .av-plot`).first().boundingBox();
  const [x0, y0, x1, y1] = [box.width * fx0, box.height * fy0, box.width * fx1, box.height * fy1];
  const inside = await page.evaluate(
    ([sel, ax, ay, bx, by]) => {
      const handle = document.querySelector(sel).attentionviz;
      const rows = new Set();
      for (let i = 0; i < handle.pointCount(); i++) {
        const [x, y] = handle.canvasPosition(i);
        if (x > ax && x < bx && y > ay && y < by) rows.add(handle.tokenRow(i));
      }
      return [...rows].sort((a, b) => a - b);
    },
    [selector, x0, y0, x1, y1],
  );
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + x0, box.y + y0);
  await page.mouse.down();
  for (const [x, y] of [[x1, y0], [x1, y1], [x0, y1], [x0, y0 + 1]]) {
    await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
  }
  await page.mouse.up();
  await page.keyboard.up('Shift');
  return inside;
}
