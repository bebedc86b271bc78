// Matrix-view scale benchmark (issue #15): the Llama-3.2-1B-shaped capture (16 x 32 heads,
// 8 KV heads, d_head 64, 32,000 tokens, fp16) in a real JupyterLab and Debian's headless
// Chromium at 1,280 px, today's view (the bundle of BASELINE_COMMIT, built here) against
// this tree's, in the same run. Figures: every head drawn (first picture), every UMAP
// thumbnail, JS heap, heads of L0 visible without scrolling, zoom frame time.
// Usage: node bench/matrix_scale/run.mjs [--shape=1b|8b] [--skip-baseline] [--umap-timeout=SECONDS]
//        [--baseline-commit=<sha>] [--out=<md>] [--json=<file>] [--mode=quick|full]
//   (first: PYTHONPATH=python_shim .venv/bin/python bench/matrix_scale/make_data.py --shape 1b)
// Not a timed test: prints a table and writes bench/RESULTS-matrix.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, openNotebook, putNotebook, startLab } from '../../e2e/lab.mjs';
import { jsonArg, row, writeReport, writeResult } from '../results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const option = (name, fallback) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const SHAPE = option('shape', '1b');
const UMAP_TIMEOUT = Number(option('umap-timeout', 420)) * 1000;
// The commit before issue #15's matrix work (the view the issue measured).
const BASELINE_COMMIT = option('baseline-commit', 'be8893b');
const OUT = option('out', path.join(root, 'bench', 'RESULTS-matrix.md'));
const DATA = path.join(here, 'data', `${SHAPE}.attnviz`);
const log = (...a) => console.error('[bench]', ...a);

/** widget.js of BASELINE_COMMIT, built once into a temporary tree with this tree's node_modules. */
function baselineBundle() {
  const dir = path.join(os.tmpdir(), `attentionviz-matrix-baseline-${BASELINE_COMMIT}`);
  const bundle = path.join(dir, 'python_shim/attentionviz/static/widget.js');
  if (existsSync(bundle)) return bundle;
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['-C', root, 'archive', BASELINE_COMMIT, 'src', 'webpack.config.js', 'tsconfig.json', 'package.json'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  log(`building the baseline bundle of ${BASELINE_COMMIT} in ${dir}`);
  execFileSync(path.join(root, 'node_modules/.bin/webpack'), ['--mode=production'], { cwd: dir, stdio: 'inherit' });
  return bundle;
}

/** Open the capture in a fresh notebook and page; measure until every UMAP thumbnail (or timeout). */
async function measure(browser, lab, variant, bundle) {
  const name = `matrix-${variant}.ipynb`;
  // Today's view: the old bundle as the trait's default, so the model opens with it
  // (anywidget's initialize imports the bundle before any later trait update arrives).
  const cls = bundle
    ? `import traitlets\nclass View(av.AttentionViz):\n    _bundle = traitlets.Bytes(open(${JSON.stringify(bundle)}, "rb").read()).tag(sync=True)\n`
    : 'View = av.AttentionViz\n';
  await putNotebook(lab, name, [`import attentionviz as av\n${cls}cap = av.load(${JSON.stringify(DATA)})\nviz = View(cap)\nviz`]);
  const errors = [];
  const page = await newPage(browser, errors);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await openNotebook(page, lab, name);
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  await page.waitForSelector('.attentionviz', { timeout: 300_000 });
  const appeared = Date.now();
  const result = { variant };
  await page.waitForFunction(() => document.querySelector('.attentionviz')?.dataset.matrixPcaSeconds, null, { timeout: 600_000, polling: 100 });
  result.firstPicture = (Date.now() - appeared) / 1000;
  result.pcaSeconds = Number(await page.evaluate(() => document.querySelector('.attentionviz').dataset.matrixPcaSeconds));
  // Heads of layer 0 fully inside the view's box without scrolling, and a horizontal scrollbar.
  Object.assign(result, await page.evaluate(() => {
    const view = document.querySelector('.attentionviz');
    const box = view.getBoundingClientRect();
    const row = [...view.querySelectorAll('.av-cell[data-layer="0"]')];
    const scroller = view.querySelector('.av-matrix-scroll') ?? view.querySelector('.av-matrix');
    return { visibleHeads: row.filter((c) => c.getBoundingClientRect().right <= Math.min(box.right, window.innerWidth) + 0.5).length, heads: row.length, hScroll: scroller.scrollWidth > scroller.clientWidth + 1 };
  }));
  try {
    await page.waitForFunction(() => document.querySelector('.attentionviz')?.dataset.matrixSeconds, null, { timeout: UMAP_TIMEOUT, polling: 500 });
    result.umapSeconds = Number(await page.evaluate(() => document.querySelector('.attentionviz').dataset.matrixSeconds));
  } catch {
    result.umapSeconds = null;
    result.umapDone = await page.evaluate(() => document.querySelector('.attentionviz').dataset.matrixDone);
  }
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  result.heapMB = metrics.JSHeapUsedSize / 2 ** 20;
  if (!bundle) result.zoom = await zoomFrames(page);
  result.errors = errors.filter((e) => !/favicon|404/.test(e)).length;
  mkdirSync(path.join(root, 'test-output'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-output', `matrix-scale-${SHAPE}-${variant}.png`) });
  await page.close();
  return result;
}

/** ctrl+wheel zoom steps in and out over the grid: ms from the event to the next frame. */
function zoomFrames(page) {
  return page.evaluate(async () => {
    const scroller = document.querySelector('.attentionviz .av-matrix-scroll');
    const box = scroller.getBoundingClientRect();
    const frames = [];
    for (let i = 0; i < 24; i++) {
      const start = performance.now();
      scroller.dispatchEvent(new WheelEvent('wheel', { deltaY: i < 12 ? -120 : 120, ctrlKey: true, clientX: box.left + 200, clientY: box.top + 100, bubbles: true, cancelable: true }));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      frames.push(performance.now() - start);
    }
    frames.sort((a, b) => a - b);
    return { median: frames[12], max: frames[frames.length - 1] };
  });
}

const started = Date.now();
if (!existsSync(DATA)) throw new Error(`${DATA} is missing: run bench/matrix_scale/make_data.py --shape ${SHAPE} first`);
const bundle = argv.includes('--skip-baseline') ? null : baselineBundle();
const lab = await startLab();
const browser = await launchBrowser();
const results = {};
try {
  if (bundle) results.baseline = await measure(browser, lab, 'baseline', bundle);
  log('baseline', JSON.stringify(results.baseline));
  results.new = await measure(browser, lab, 'new', null);
  log('new', JSON.stringify(results.new));
} finally {
  await browser.close();
  await lab.stop();
}
const b = results.baseline ?? {};
const n = results.new;
const fmt = (v, unit, digits = 1) => (v === null || v === undefined ? '—' : `${v.toFixed(digits)} ${unit}`);
const ratio = (old, now) => (old && now ? `${(old / now).toFixed(1)}x faster` : '—');
const heads = n.heads * (SHAPE === '8b' ? 32 : 16);
const rows = [
  row(`${heads} heads: every head drawn, from the view's mount (its own clock)`, fmt(n.pcaSeconds, 's', 2), { baseline: fmt(b.pcaSeconds, 's', 2), ratio: ratio(b.pcaSeconds, n.pcaSeconds), goal: SHAPE === '1b' ? '<= 3 s' : '—', met: SHAPE === '1b' ? n.pcaSeconds <= 3 : null }),
  row(`${heads} heads: every head drawn, from the widget's element appearing (polled every 100 ms)`, fmt(n.firstPicture, 's'), { baseline: fmt(b.firstPicture, 's'), ratio: ratio(b.firstPicture, n.firstPicture) }),
  row(`${heads} heads: every UMAP thumbnail`, n.umapSeconds === null ? `not done in ${UMAP_TIMEOUT / 1000} s (${n.umapDone})` : fmt(n.umapSeconds, 's'), { baseline: b.umapSeconds === null ? `not done in ${UMAP_TIMEOUT / 1000} s (${b.umapDone})` : fmt(b.umapSeconds, 's'), ratio: ratio(b.umapSeconds, n.umapSeconds), goal: SHAPE === '1b' ? '<= 60 s' : '—', met: SHAPE === '1b' ? n.umapSeconds !== null && n.umapSeconds <= 60 : null }),
  row('page JS heap when filled', fmt(n.heapMB, 'MB', 0), { baseline: fmt(b.heapMB, 'MB', 0), goal: SHAPE === '1b' ? '<= 500 MB' : '<= 1 GB', met: n.heapMB <= (SHAPE === '1b' ? 500 : 1024) }),
  row('heads of layer 0 in view at 1,280 px (no horizontal scroll)', `${n.visibleHeads}/${n.heads}${n.hScroll ? ' (scrollbar)' : ''}`, { baseline: results.baseline ? `${b.visibleHeads}/${b.heads}${b.hScroll ? ' (scrollbar)' : ''}` : '—', goal: 'all', met: n.visibleHeads === n.heads && !n.hScroll }),
  row('zoom step (ctrl+wheel) to the next frame, median / max', `${n.zoom.median.toFixed(0)} / ${n.zoom.max.toFixed(0)} ms`, { goal: '< 50 ms', met: n.zoom.max < 50 }),
];
const table = ['| figure | this tree | baseline | ratio | goal | met |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.goal} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} |`)].join('\n');
console.log(table);
writeReport(OUT, `# Matrix view at LLM scale (${SHAPE})\n\nMeasured ${new Date(started).toISOString()} by \`node bench/matrix_scale/run.mjs ${argv.join(' ')}\` in JupyterLab + headless Chromium 1,280 px; baseline = the bundle of ${BASELINE_COMMIT} in the same run; load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} (machine shared: timings are noisy).\n\n${table}\n\nRaw: \`${JSON.stringify(results)}\`\n`);
writeResult(jsonArg(), { bench: 'matrix_scale', title: `Matrix view at LLM scale (${SHAPE})`, rows, started, details: path.relative(root, OUT) });
