/**
 * Bench page (bench/layout/run.mjs drives it in headless Chromium): loads the real
 * joint Q/K data written by make_data.py, normalises it exactly as the widget does
 * (normalizeQK, then Q rows followed by K rows), runs each layout method on the main
 * thread and times it with performance.now(), and scores every layout by
 * trustworthiness (k = 10) against exact Euclidean neighbours in the high-dimensional
 * (normalised) space.
 */
import { UMAP } from 'umap-js';
import { createUMAP } from 'embedding-atlas-umap';
import { jointRows, normalizeQK } from '../../src/compute/normalize';
import { defaultEpochs, umap } from '../../src/layout/umap';
import { tsne } from '../../src/layout/tsne';
import { trustworthinessMany } from '../../src/layout/trustworthiness';
import { Random } from '../../src/compute/random';

export interface CaseSpec {
  points: number;
  d: 32 | 64;
  methods: string[];
  /** Evaluate trustworthiness on this many random points (all points when absent). */
  sample?: number;
}

export interface MethodResult {
  method: string;
  seconds: number;
  epochs?: number;
  note?: string;
}

async function loadJoint(points: number, d: number): Promise<Float32Array> {
  const tokens = points / 2;
  const read = async (name: string): Promise<Float32Array> => {
    const response = await fetch(`data/${name}_d${d}.bin`);
    if (!response.ok) throw new Error(`data/${name}_d${d}.bin: ${response.status}; run bench/layout/make_data.py`);
    const all = new Float32Array(await response.arrayBuffer());
    if (all.length < tokens * d) throw new Error(`data/${name}_d${d}.bin holds ${all.length / d} tokens, need ${tokens}`);
    return all.slice(0, tokens * d);
  };
  const [q, k] = await Promise.all([read('q'), read('k')]);
  const normalised = normalizeQK(q, k, tokens, d, { translate: true, scale: true });
  return jointRows(normalised.queries, normalised.keys);
}

async function runMethod(method: string, x: Float32Array, n: number, d: number): Promise<{ y: Float32Array; result: MethodResult }> {
  const t0 = performance.now();
  let y: Float32Array;
  let epochs: number | undefined;
  let note: string | undefined;
  if (method === 'umap-js') {
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(Array.from(x.subarray(i * d, (i + 1) * d)));
    const rng = new Random(42);
    const model = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, random: () => rng.float() });
    const out = model.fit(rows);
    epochs = model.getNEpochs();
    y = new Float32Array(n * 2);
    out.forEach((p, i) => {
      y[2 * i] = p[0];
      y[2 * i + 1] = p[1];
    });
  } else if (method === 'embedding-atlas') {
    const model = await createUMAP(n, d, 2, x, { metric: 'euclidean', nNeighbors: 15, minDist: 0.1, seed: 42 });
    await model.run();
    y = new Float32Array(model.embedding);
    epochs = model.epoch;
    model.destroy();
  } else if (method === 'ours-tsne') {
    y = tsne(x, n, d, { nComponents: 2, seed: 42 });
    note = '750 iterations';
  } else if (method === 'ours' || method.startsWith('ours@')) {
    // 'ours' = defaults (defaultEpochs: umap-js's schedule); 'ours@N' = N epochs.
    const fixed = method.includes('@') ? Number(method.split('@')[1]) : undefined;
    epochs = fixed ?? defaultEpochs(n);
    y = umap(x, n, d, { nComponents: 2, seed: 42, nEpochs: fixed });
  } else throw new Error(`unknown method ${method}`);
  const seconds = (performance.now() - t0) / 1000;
  return { y, result: { method, seconds, epochs, note } };
}

const warmed = new Set<string>();

async function runCase(spec: CaseSpec): Promise<{ results: (MethodResult & { trust: number })[]; evalSeconds: number }> {
  const x = await loadJoint(spec.points, spec.d);
  const n = spec.points;
  const results: MethodResult[] = [];
  const layouts: Float32Array[] = [];
  for (const method of spec.methods) {
    if (!warmed.has(method)) {
      // Untimed warm-up on 300 points: JIT compilation and WASM instantiation happen once per page.
      await runMethod(method, x.slice(0, 300 * spec.d), 300, spec.d);
      warmed.add(method);
    }
    const { y, result } = await runMethod(method, x, n, spec.d);
    console.log(`[bench] ${n} d${spec.d} ${method}: ${result.seconds.toFixed(2)} s`);
    results.push(result);
    layouts.push(y);
  }
  const t0 = performance.now();
  let sample: Int32Array | undefined;
  if (spec.sample && spec.sample < n) {
    // Fixed random subset (seeded partial Fisher-Yates), the same for every method.
    const rng = new Random(2024);
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < spec.sample; i++) {
      const j = i + rng.int(n - i);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    sample = perm.slice(0, spec.sample);
  }
  const trust = trustworthinessMany(x, layouts, n, spec.d, 2, 10, sample);
  return { results: results.map((r, i) => ({ ...r, trust: trust[i] })), evalSeconds: (performance.now() - t0) / 1000 };
}

(globalThis as unknown as Record<string, unknown>).runCase = runCase;
(globalThis as unknown as Record<string, unknown>).benchReady = true;
