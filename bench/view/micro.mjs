// Micro-benchmark of the matrix view's per-head main-thread work (PCA thumbnail layout,
// head statistics, eigen-solver) in Node, current code vs the frozen baseline of
// bench/view/baseline.ts, in the same run, on real Q/K (bench/layout/data: all-MiniLM-L6-v2
// layer 2, d_head 32 and 64). Also checks that both give the same numbers.
// Then UMAP of a thumbnail (1,500 tokens = 3,000 points) with the matrix view's THUMBNAIL_EPOCHS
// against umap-learn's default 500: time and trustworthiness (k = 10), with a second 500-epoch
// seed as the scale of run-to-run differences.
// Usage: node bench/view/micro.mjs [--rounds=N] [--skip-umap] [--out=<markdown file>]   (first: bench/layout/make_data.py)
// Not a timed test: prints times and ratios.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 15);
const skipUmap = process.argv.includes('--skip-umap');
const OUT = process.argv.find((a) => a.startsWith('--out='))?.split('=')[1];

/** Transpile the sources this bench needs to CommonJS in a temp folder and load them. */
function load() {
  const out = mkdtempSync(path.join(os.tmpdir(), 'av-micro-'));
  const compute = ['attention', 'normalize', 'stats', 'random'].map((f) => `src/compute/${f}.ts`);
  const layout = ['pca', 'joint', 'projectors', 'umap', 'umap_sgd', 'tsne', 'knn', 'trustworthiness'].map((f) => `src/layout/${f}.ts`);
  const files = [...compute, ...layout, 'bench/view/baseline.ts'];
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(path.join(root, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    const target = path.join(out, file.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(path.join(out, 'package.json'), '{"type": "commonjs"}');
  const modules = {
    pca: require(path.join(out, 'src/layout/pca.js')),
    stats: require(path.join(out, 'src/compute/stats.js')),
    normalize: require(path.join(out, 'src/compute/normalize.js')),
    layout: require(path.join(out, 'src/layout/joint.js')),
    baseline: require(path.join(out, 'bench/view/baseline.js')),
    trust: require(path.join(out, 'src/layout/trustworthiness.js')),
  };
  rmSync(out, { recursive: true, force: true });
  return modules;
}

function readMatrix(file, rows, cols) {
  const bytes = readFileSync(path.join(root, 'bench/layout/data', file));
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return all.slice(0, rows * cols);
}

/** Deterministic sequence lengths 8..40 (the view's corpus averages 21 tokens per sentence). */
function sequencesOf(nTokens) {
  const sequences = [];
  let seed = 7;
  for (let start = 0; start < nTokens; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const length = Math.min(8 + (seed % 33), nTokens - start);
    sequences.push(Array.from({ length }, (_, i) => start + i));
    start += length;
  }
  return sequences;
}

/** Median ms per call of each function, timed in alternating rounds. */
function time(cases) {
  const samples = cases.map(() => []);
  for (const c of cases) for (let i = 0; i < 3; i++) c.run(); // warm up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...cases.keys()].reverse() : [...cases.keys()];
    for (const i of order) {
      const t0 = performance.now();
      cases[i].run();
      samples[i].push(performance.now() - t0);
    }
  }
  return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
}

const maxAbs = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

const { pca, stats, normalize, layout, baseline, trust } = load();
const TOKENS = 1500; // THUMBNAIL_TOKENS of src/views/matrix.ts
const lines = [];
const print = (line) => {
  lines.push(line);
  console.log(line);
};
print(`node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}; median of ${rounds} rounds`);
print('| work | d | before ms | after ms | speed-up | max difference |');
print('|---|---:|---:|---:|---:|---:|');
for (const d of [32, 64]) {
  const queries = readMatrix(`q_d${d}.bin`, TOKENS, d);
  const keys = readMatrix(`k_d${d}.bin`, TOKENS, d);
  const sequences = sequencesOf(TOKENS);
  const params = { method: 'pca', dims: 2, normalize: true, seed: 42 };
  const joint = () => {
    const n = normalize.normalizeQK(queries, keys, TOKENS, d, { translate: true, scale: true });
    return normalize.jointRows(n.queries, n.keys);
  };
  const data = joint();
  const rows = 2 * TOKENS;
  // Covariance + eigen-solver.
  const basisBefore = baseline.pcaBasisBefore(data, rows, d);
  const basisAfter = pca.pcaBasis(data, rows, d);
  const [b1, a1] = time([{ run: () => baseline.pcaBasisBefore(data, rows, d) }, { run: () => pca.pcaBasis(data, rows, d) }]);
  print(`| pcaBasis (covariance + eigen), ${rows} rows | ${d} | ${b1.toFixed(2)} | ${a1.toFixed(2)} | ${(b1 / a1).toFixed(1)}x | eigenvalues ${maxAbs(basisBefore.values, basisAfter.values).toExponential(1)} |`);
  // The whole PCA thumbnail layout (normalize, stack, PCA, project).
  const before = () => baseline.pcaBefore(joint(), rows, d, 2);
  const after = () => layout.jointLayout(queries, keys, TOKENS, d, params);
  const [b2, a2] = time([{ run: before }, { run: after }]);
  print(`| jointLayout PCA 2D, ${TOKENS} tokens | ${d} | ${b2.toFixed(2)} | ${a2.toFixed(2)} | ${(b2 / a2).toFixed(1)}x | coordinates ${maxAbs(before(), after()).toExponential(1)} |`);
  // Head statistics.
  for (const causal of [false, true]) {
    const run0 = () => baseline.headStatsBefore(queries, keys, TOKENS, d, sequences, 0.17, causal);
    const run1 = () => stats.headStats(queries, keys, TOKENS, d, sequences, 0.17, causal);
    const s0 = run0();
    const s1 = run1();
    const diff = Math.max(...['entropy', 'distance', 'offset'].map((k) => Math.abs(s0[k] - s1[k])));
    const [b3, a3] = time([{ run: run0 }, { run: run1 }]);
    print(`| headStats (${causal ? 'causal' : 'bidirectional'}), ${sequences.length} sequences | ${d} | ${b3.toFixed(2)} | ${a3.toFixed(2)} | ${(b3 / a3).toFixed(1)}x | ${diff.toExponential(1)} |`);
  }
}
// Eigen-solvers alone on random symmetric matrices.
for (const d of [32, 64, 128]) {
  let seed = d;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = random();
  const [b, n] = time([{ run: () => pca.jacobiEigen(a, d) }, { run: () => pca.symmetricEigen(a, d) }]);
  const diff = maxAbs(pca.jacobiEigen(a, d).values, pca.symmetricEigen(a, d).values);
  print(`| eigen-solver, random symmetric (Jacobi -> tred2/tql2) | ${d} | ${b.toFixed(2)} | ${n.toFixed(2)} | ${(b / n).toFixed(1)}x | eigenvalues ${diff.toExponential(1)} |`);
}

if (!skipUmap) {
  // THUMBNAIL_EPOCHS of src/views/matrix.ts (read from the source: this bench does not bundle the view).
  const epochs = Number(/THUMBNAIL_EPOCHS = (\d+)/.exec(readFileSync(path.join(root, 'src/views/matrix.ts'), 'utf8'))[1]);
  print('');
  print(`UMAP of a thumbnail (${TOKENS} tokens, ${2 * TOKENS} points, 2D, normalized), ${epochs} epochs vs 500; trustworthiness k = 10 against the normalized Q/K`);
  print('| data | d | s @500 | s @' + epochs + ' | T @500 (seed 42) | T @500 (seed 43) | T @' + epochs + ' | T@500 - T@' + epochs + ' |');
  print('|---|---:|---:|---:|---:|---:|---:|---:|');
  const differences = [];
  for (const [d, start] of [[32, 0], [32, 10_000], [32, 30_000], [64, 0]]) {
    const queries = readMatrix(`q_d${d}.bin`, start + TOKENS, d).slice(start * d);
    const keys = readMatrix(`k_d${d}.bin`, start + TOKENS, d).slice(start * d);
    const n = normalize.normalizeQK(queries, keys, TOKENS, d, { translate: true, scale: true });
    const high = normalize.jointRows(n.queries, n.keys);
    const run = (nEpochs, seed) => {
      const t0 = performance.now();
      const low = layout.jointLayout(queries, keys, TOKENS, d, { method: 'umap', dims: 2, normalize: true, seed, nEpochs });
      return { low, seconds: (performance.now() - t0) / 1000 };
    };
    const full = run(500, 42);
    const other = run(500, 43);
    const thumb = run(epochs, 42);
    const [t500, t500b, tThumb] = trust.trustworthinessMany(high, [full.low, other.low, thumb.low], 2 * TOKENS, d, 2, 10);
    differences.push(t500 - tThumb);
    print(`| MiniLM L2 tokens ${start}..${start + TOKENS} | ${d} | ${full.seconds.toFixed(2)} | ${thumb.seconds.toFixed(2)} | ${t500.toFixed(4)} | ${t500b.toFixed(4)} | ${tThumb.toFixed(4)} | ${(t500 - tThumb).toFixed(4)} |`);
  }
  print(`max |T@500 - T@${epochs}| = ${Math.max(...differences.map(Math.abs)).toFixed(4)} (goal <= 0.005); load ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')}`);
}
if (OUT) {
  writeFileSync(OUT, `# Matrix view per-head work (bench/view/micro.mjs)\n\nMeasured ${new Date().toISOString()} by \`node bench/view/micro.mjs ${process.argv.slice(2).join(' ')}\`.\n\n${lines.join('\n')}\n`);
  console.log(`wrote ${OUT}`);
}
