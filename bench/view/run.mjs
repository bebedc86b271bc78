// View benchmark: rendering (ScatterScene vs a bare three.js Points scene), hover lookup
// (PointIndex vs a linear scan) and the matrix view (all PCA, all UMAP) for
// all-MiniLM-L6-v2 on 1,000 sentences, in Debian's headless Chromium, baselines in the same run.
// Usage: node bench/view/run.mjs [--quick] [--skip-build] [--only=render,hover,matrix] [--matrix-timeout=SECONDS]
//        [--out=<markdown file>] [--json=<file>] [--mode=quick|full]   (--json: figures for bench/run_all.py)
//        [--screenshot=<png>]   (the matrix page once every layout is done)
//   (first: HF_HUB_OFFLINE=1 PYTHONPATH=python_shim .venv/bin/python bench/view/make_data.py)
// Prints a markdown table and writes it to bench/RESULTS-view.md. Not a timed test.
import { createServer } from 'node:http';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { jsonArg, row, writeReport, writeResult } from '../results.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const quick = flag('quick');
const only = new Set(option('only', 'render,hover,matrix').split(','));
const MATRIX_TIMEOUT = Number(option('matrix-timeout', quick ? 60 : 300));
const OUT = option('out', path.join(root, 'bench', 'RESULTS-view.md'));
const SCREENSHOT = option('screenshot', null);
// The thumbnails' UMAP epochs, as src/views/matrix.ts sets them (for the report text).
const THUMBNAIL_EPOCHS_TEXT = (() => {
  const match = /THUMBNAIL_EPOCHS = (\d+)/.exec(require('node:fs').readFileSync(path.join(root, 'src/views/matrix.ts'), 'utf8'));
  return match ? `${match[1]} epochs each` : 'epochs as the view sets them';
})();

const WIDTH = 800;
const HEIGHT = 600;
const RENDER_CASES = quick
  ? [{ points: 100_000, frames: 6, rounds: 2, transparent: true }]
  : [
      { points: 100_000, frames: 12, rounds: 2, transparent: true },
      // SwiftShader takes seconds per 1M-point frame on this shared CPU: fewer frames, no attribution variant.
      { points: 1_000_000, frames: 6, rounds: 2, transparent: false },
    ];
const HOVER = { points: quick ? 100_000 : 1_000_000, queries: 4000, scanQueries: quick ? 50 : 100 };

const log = (...a) => console.error('[bench]', ...a);

async function build() {
  const webpack = require('webpack');
  const config = require('./webpack.config.cjs')({ mode: 'production' });
  await new Promise((resolve, reject) =>
    webpack(config, (err, stats) => (err || stats.hasErrors() ? reject(err || new Error(stats.toString('errors-only'))) : resolve())),
  );
}

function serve() {
  const types = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x').pathname;
    const file = url === '/' ? path.join(here, 'index.html') : url.startsWith('/data/') ? path.join(here, url) : path.join(here, 'dist', url);
    if (!file.startsWith(here)) return res.writeHead(403).end();
    try {
      const info = await stat(file);
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'content-length': info.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' / ');

/** Self time per function from a CDP CPU profile, top `n`. */
function topFunctions(profile, n = 12) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const f = node.callFrame;
    const file = f.url ? f.url.split('/').pop() : '';
    const name = `${f.functionName || '(anonymous)'}${file ? ` (${file}:${f.lineNumber + 1})` : ''}`;
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  return { totalMs: total, top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, ms })) };
}

async function newPage(browser, port) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    const text = m.text();
    if ((m.type() === 'error' && !text.includes('404')) || text.startsWith('[bench]')) console.error('page:', text);
  });
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => globalThis.benchReady === true);
  return page;
}

async function runMatrix(browser, port) {
  const page = await newPage(browser, port);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  const info = await page.evaluate(() => globalThis.startMatrix({ timeoutSeconds: 0, width: 1200 }));
  log(`matrix: state loaded in ${(info.loadMs / 1000).toFixed(1)} s (${info.heads} heads, ${info.nTokens} tokens, d_head ${info.dHead}); load ${load()}`);
  // Profile the main thread from mount through the PCA phase.
  await cdp.send('Profiler.start');
  await page.evaluate(() => globalThis.mountMatrix());
  let status;
  for (;;) {
    status = await page.evaluate(() => globalThis.matrixStatus());
    if (status.pcaSeconds !== null || status.elapsed > MATRIX_TIMEOUT) break;
    await sleep(200);
  }
  const { profile } = await cdp.send('Profiler.stop');
  const pcaProfile = topFunctions(profile);
  log(`matrix: all PCA in ${status.pcaSeconds} s; load ${load()}`);
  let lastLog = 0;
  for (;;) {
    status = await page.evaluate(() => globalThis.matrixStatus());
    if (status.seconds !== null || status.elapsed > MATRIX_TIMEOUT) break;
    if (status.elapsed - lastLog > 30) {
      lastLog = status.elapsed;
      log(`matrix: ${status.elapsed.toFixed(0)} s, UMAP ${status.done}/72; load ${load()}`);
    }
    await sleep(1000);
  }
  if (SCREENSHOT) {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    log(`matrix: screenshot ${SCREENSHOT}`);
  }
  const report = await page.evaluate(() => globalThis.matrixReport());
  await page.close();
  return { ...info, ...report, pcaProfile };
}

function summarizeJobs(report) {
  const jobs = report.jobs.filter((j) => j.done !== null && j.method?.startsWith('umap'));
  const stageTotals = {};
  for (const j of jobs) {
    const marks = [['queued->start', j.posted], ...j.stages, ['end', j.done]];
    for (let i = 1; i < marks.length; i++) {
      const [name] = marks[i - 1];
      const label = i === 1 ? (j.stages[0]?.[0] === 'knn' ? 'knn' : 'first stage') : name;
      // Stage i-1 lasts from its mark to the next mark; the first mark is the post (worker starts on receipt).
      const key = i === 1 ? 'post->first progress' : label;
      stageTotals[key] = (stageTotals[key] ?? 0) + (marks[i][1] - marks[i - 1][1]);
    }
  }
  const workerSeconds = jobs.reduce((s, j) => s + (j.seconds ?? 0), 0);
  const workers = new Set(report.jobs.map((j) => j.worker)).size;
  const poolSize = Math.max(2, Math.min(4, (report.cores || 2) - 1));
  const waits = report.jobs.filter((j) => j.received !== null).map((j) => j.received - j.posted);
  const first = Math.min(...report.jobs.map((j) => j.posted));
  return { completed: jobs.length, posted: report.jobs.length, workerSeconds, perHead: jobs.length ? workerSeconds / jobs.length : NaN, workers, poolSize, constructed: report.workersCreated, firstPost: first, stageTotals, meanPostToReceived: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : NaN };
}

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));

async function main() {
  if (flag('report-only')) {
    const saved = JSON.parse(await readFile(path.join(here, 'data', 'last-run.json'), 'utf8'));
    return report(saved);
  }
  if (only.has('matrix')) {
    await stat(path.join(here, 'data', 'state.json')).catch(() => {
      throw new Error('no matrix data: run bench/view/make_data.py first (or --only=render,hover)');
    });
  }
  const manifest = only.has('matrix') ? JSON.parse(await readFile(path.join(here, 'data', 'manifest.json'), 'utf8')) : null;
  if (!flag('skip-build')) {
    log('building bench/view bundle');
    await build();
  }
  const server = await serve();
  const port = server.address().port;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    ],
  });
  const started = new Date();
  const loads = { start: load() };
  const results = { render: [], hover: null, matrix: null };
  try {
    if (only.has('render') || only.has('hover')) {
      const page = await newPage(browser, port);
      if (only.has('render')) {
        for (const c of RENDER_CASES) {
          log(`render ${c.points.toLocaleString('en-US')} points; load ${load()}`);
          const r = await page.evaluate((s) => globalThis.runRender(s), { ...c, width: WIDTH, height: HEIGHT });
          r.load = os.loadavg()[0];
          results.render.push(r);
          log(JSON.stringify(r.stats));
        }
      }
      if (only.has('hover')) {
        log(`hover ${HOVER.points.toLocaleString('en-US')} points; load ${load()}`);
        results.hover = await page.evaluate((s) => globalThis.runHover(s), { ...HOVER, width: WIDTH, height: HEIGHT });
        log(JSON.stringify(results.hover));
      }
      await page.close();
    }
    loads.afterRenderHover = load();
    if (only.has('matrix')) {
      results.matrix = await runMatrix(browser, port);
      loads.afterMatrix = load();
    }
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }
  const chromiumVersion = browser.version();
  const saved = { started: started.toISOString(), argv, chromiumVersion, manifest, loads, results };
  await writeFile(path.join(here, 'data', 'last-run.json'), JSON.stringify(saved)).catch(() => {});
  await report(saved);
}

/** The table and RESULTS-view.md from one run's results (also: --report-only rewrites them from data/last-run.json). */
async function report({ started, argv, chromiumVersion, manifest, loads, results }) {

  // ---- table ----
  const rows = [];
  const renderer = results.render[0]?.renderer ?? '';
  for (const r of results.render) {
    const ours = r.stats.ours.medianMs, bare = r.stats.bare.medianMs;
    rows.push({
      figure: `frame time, ${r.points.toLocaleString('en-US')} points (median of ${r.stats.ours.frames} frames, ${r.width}x${r.height})`,
      ours: `${fmt(ours, 1)} ms`, base: `${fmt(bare, 1)} ms (bare three.js Points)`, ratio: `${fmt(ours / bare)}x`,
      goal: '<= 1.2x', met: ours / bare <= 1.2 ? 'yes' : 'no',
    });
  }
  if (results.hover) {
    for (const name of ['uniform', 'clustered']) {
      const h = results.hover[name];
      void h;
      rows.push({
        figure: `hover nearest(), ${HOVER.points.toLocaleString('en-US')} ${name} points, 8 px radius (mean of ${HOVER.queries})`,
        ours: `${fmt(h.nearestMeanMs, 3)} ms (p99 ${fmt(h.nearestP99Ms, 1)}, max ${fmt(h.nearestWorstMs, 0)} ms)`, base: `${fmt(h.scanMeanMs, 2)} ms (linear scan)`,
        ratio: `${fmt(h.scanMeanMs / h.nearestMeanMs, 0)}x faster`, goal: '< 1 ms', met: h.nearestMeanMs < 1 ? 'yes' : 'no',
      });
      rows.push({
        figure: `PointIndex build, ${HOVER.points.toLocaleString('en-US')} ${name} points (median of 3)`,
        ours: `${fmt(h.buildMs, 0)} ms`, base: '—', ratio: '—', goal: '—', met: '—',
      });
    }
  }
  const m = results.matrix;
  let jobSummary = null;
  if (m) {
    jobSummary = summarizeJobs(m);
    const heads = m.heads;
    rows.push({
      figure: `matrix: all PCA, ${manifest.n_layers} x ${manifest.n_heads} heads, ${m.nTokens.toLocaleString('en-US')} tokens`,
      ours: m.pcaSeconds === null ? `not done in ${MATRIX_TIMEOUT} s (${m.pca}/${heads})` : `${fmt(m.pcaSeconds)} s`,
      base: '—', ratio: '—', goal: '< 1 s', met: m.pcaSeconds !== null && m.pcaSeconds < 1 ? 'yes' : 'no',
    });
    // Remaining heads at the measured worker seconds per UMAP head, spread over the pool.
    const projected = jobSummary.completed ? (jobSummary.perHead * (heads - m.done)) / jobSummary.poolSize : NaN;
    rows.push({
      figure: `matrix: all UMAP (${heads} heads, pool of ${jobSummary.poolSize} workers)`,
      ours: m.seconds !== null
        ? `${fmt(m.seconds, 1)} s`
        : `not done: ${m.done}/${heads} after ${fmt(m.elapsed, 0)} s (projected ~${fmt(m.elapsed + projected, 0)} s)`,
      base: '—', ratio: '—', goal: '< 60 s', met: m.seconds !== null && m.seconds < 60 ? 'yes' : 'no',
    });
  }
  const table = [
    '| figure | ours | baseline | ratio | goal | met? |',
    '|---|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.ours} | ${r.base} | ${r.ratio} | ${r.goal} | ${r.met} |`),
  ].join('\n');
  console.log(table);

  // ---- details ----
  const details = [];
  for (const r of results.render) {
    const s = r.stats;
    details.push(
      `- ${r.points.toLocaleString('en-US')} points: median / mean / min frame ms — ours ${fmt(s.ours.medianMs, 1)} / ${fmt(s.ours.meanMs, 1)} / ${fmt(s.ours.minMs, 1)}; ` +
        `bare ${fmt(s.bare.medianMs, 1)} / ${fmt(s.bare.meanMs, 1)} / ${fmt(s.bare.minMs, 1)}; ` +
        (s['bare-transparent']
          ? `bare + transparent blending ${fmt(s['bare-transparent'].medianMs, 1)} / ${fmt(s['bare-transparent'].meanMs, 1)} / ${fmt(s['bare-transparent'].minMs, 1)} ` +
            `(ratio ours / bare-transparent ${fmt(s.ours.medianMs / s['bare-transparent'].medianMs)}x). `
          : '(bare + transparent not run at this size). ') +
        `First frame (build + upload + compile): ours ${fmt(r.firstFrameMs.ours, 0)} ms, bare ${fmt(r.firstFrameMs.bare, 0)} ms; ` +
        `of which ScatterScene.setPoints ${fmt(r.setPointsMs, 0)} ms. Load avg ${fmt(r.load, 1)}.`,
    );
  }
  if (results.hover) {
    for (const name of ['uniform', 'clustered']) {
      const h = results.hover[name];
      details.push(
        `- hover, ${name}: radius ${h.radius.toExponential(3)} world units (8 px); mean kdbush candidates per query ${fmt(h.meanCandidates, 0)}; ` +
          `hit rate ${fmt(100 * h.hits, 0)}%; index vs scan disagreements on ${HOVER.scanQueries} queries: ${h.mismatches}; builds ${h.buildAllMs.map((v) => v.toFixed(0)).join(', ')} ms.`,
      );
    }
  }
  let matrixText = '';
  if (m) {
    const js = jobSummary;
    const stages = Object.entries(js.stageTotals).map(([k, v]) => `${k} ${fmt(v / Math.max(js.completed, 1), 1)} s`).join(', ');
    const pcaTop = m.pcaProfile.top.map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${fmt(f.ms, 0)} |`).join('\n');
    const perHeadList = m.jobs.filter((j) => j.seconds !== null && j.method?.startsWith('umap')).map((j) => j.seconds.toFixed(1));
    const firstPosted = Math.min(...m.jobs.map((j) => j.posted ?? Infinity));
    const pcaDrawnAt = m.timeline.find(([, p]) => p === m.heads)?.[0] ?? null;
    matrixText = `
## Matrix view details

State JSON (${m.heads} heads, fp16 base64, as \`to_html\` embeds it) fetched and parsed in ${fmt(m.loadMs / 1000, 1)} s (not counted).
Times from the view's own \`data-matrix-pca-seconds\` / \`data-matrix-seconds\` (measured from the start of \`MatrixView.fill\`).
Timeline (s since mount, PCA done, UMAP done): ${m.timeline.filter((_, i, a) => i % Math.max(1, Math.ceil(a.length / 24)) === 0 || i === a.length - 1).map(([t, p, d]) => `${fmt(t, 1)}: ${p}/${d}`).join('; ')}.

**Layout workers**: pool size ${js.poolSize} (\`max(2, min(4, hardwareConcurrency - 1))\`, hardwareConcurrency = ${m.cores}); ${js.workers} used, ${js.constructed} Worker objects constructed
(the pool respawns a worker it terminates on cancel); ${js.posted} jobs posted (PCA and UMAP), ${js.completed} UMAP jobs finished in the time allowed.
First job posted ${fmt(firstPosted, 1)} s after mount; every PCA thumbnail drawn by ${fmt(pcaDrawnAt, 1)} s after mount (timeline; the matrix view posts its
UMAP jobs, ${THUMBNAIL_EPOCHS_TEXT}, only once all PCA thumbnails are drawn). Worker-reported seconds per UMAP head: mean ${fmt(js.perHead, 1)} s
(${perHeadList.join(', ')}). Mean per job by stage (main-thread receipt of the worker's progress messages): ${stages};
mean post -> worker receipt ${fmt(js.meanPostToReceived, 2)} s. Jobs: ${m.jobs.map((j) => `${j.method} posted ${fmt(j.posted, 1)} s, started ${fmt(j.received, 1)} s, done ${fmt(j.done, 1)} s`).join('; ')}.

**Main-thread timer lateness** (a 50 ms setTimeout probe during the whole run, page ${m.timer.visibility}): median ${fmt(m.timer.medianMs, 0)} ms,
p95 ${fmt(m.timer.p95Ms, 0)} ms, max ${fmt(m.timer.maxMs, 0)} ms over ${m.timer.samples} samples; the same probe for 3 s in the same page just before mounting
(no view yet, same machine load): median ${fmt(m.idleTimer?.medianMs, 0)} ms, max ${fmt(m.idleTimer?.maxMs, 0)} ms over ${m.idleTimer?.samples} samples.

**Main thread during the PCA phase** (CPU profile, self time, top functions; total sampled ${fmt(m.pcaProfile.totalMs, 0)} ms):

| function | self ms |
|---|---:|
${pcaTop}
`;
  }
  const text = `# View benchmark (bench/view)

Measured ${started} by \`node bench/view/run.mjs${argv.length ? ' ' + argv.join(' ') : ''}\`: headless Chromium ${chromiumVersion} (Debian \`/usr/bin/chromium\`,
\`--use-angle=swiftshader\`), WebGL renderer "${renderer}". Machine: ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'}), **shared with other jobs**:
load average (1 / 5 / 15 min) at start ${loads.start}, after render + hover ${loads.afterRenderHover ?? '—'}, after the matrix view ${loads.afterMatrix ?? '—'}.
Absolute times are inflated and noisy; each baseline ran in the same page and run as what it is compared with.

**There is no GPU here**: SwiftShader is Chromium's CPU implementation of the GPU (vertex and fragment shaders JIT-compiled to
CPU code, rasterised on CPU threads). Frame times therefore measure CPU rasterisation of ${'~'}${6}x${6} px point sprites, not a GPU;
the ratio ours / bare says what our shader and blend state cost relative to the simplest three.js Points draw on the same
rasteriser, which is fill-bound here. On a real GPU both are far faster and the per-fragment difference is mostly hidden.

${table}

## Rendering and hover details

Rendering: canvas ${WIDTH}x${HEIGHT} CSS px, devicePixelRatio ${results.render[0]?.pixelRatio ?? '—'}, uniform random 2D points and random colours, point size ${6} px in all scenes.
Ours = \`ScatterScene\` (ShaderMaterial: round sprite with \`discard\` + smoothstep edge, alpha blending, emphasis attribute).
Bare = three.js \`Points\` + \`PointsMaterial\` (\`sizeAttenuation: false\`, vertex colours, opaque square sprites), same renderer
options as ScatterScene (\`antialias: true, preserveDrawingBuffer: true\`) and same camera framing. "bare + transparent" = the same with
\`transparent: true, opacity 0.85\`, to split blending from shader cost. Each frame = \`renderNow()\` (or \`renderer.render\`) + \`gl.finish()\` +
1-pixel \`readPixels\`; two untimed warm-up frames; frames timed in alternating blocks (ours, bare, bare-transparent, then reversed).

Hover: \`new PointIndex(xy)\` and \`nearest(x, y, 8 * worldPerPixel)\` where worldPerPixel is what a ${WIDTH}x${HEIGHT} ScatterScene fitted to the
points gives at zoom 1; queries half uniform over the data box, half next to a random data point. "uniform" = points uniform
in the unit square; "clustered" = 40 Gaussian blobs (UMAP-like dense spots). Linear scan = the same test over all points.

${details.join('\n')}
${matrixText}`;
  writeReport(OUT, text);
  log(`wrote ${path.relative(root, OUT)}`);
  writeResult(jsonArg(), {
    bench: 'view',
    title: 'Rendering, hover and the matrix view in headless Chromium (SwiftShader)',
    rows: rows.map((r) => row(r.figure, r.ours, { baseline: r.base, ratio: r.ratio, goal: r.goal, met: r.met === '—' ? null : r.met === 'yes' })),
    started: new Date(started),
    details: path.relative(root, OUT),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
