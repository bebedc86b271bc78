/**
 * Bench page for bench/view/run.mjs (headless Chromium). Three entry points on globalThis:
 *
 * - runRender: our ScatterScene vs a bare three.js Points scene (PointsMaterial), same
 *   canvas size, point count, point size and forcing (gl.finish + 1-pixel readPixels);
 *   timed in alternating blocks so shared-machine load hits both alike.
 * - runHover: PointIndex build and nearest() at 1M points vs a linear scan, pick radius
 *   = 8 CSS px at the zoom a ScatterScene of that canvas size fits the data to.
 * - runMatrix: mountStandalone on the exported state with view 'matrix' and projection
 *   'umap'; reads the root's data-matrix-* attributes, and records every layout worker
 *   job (start, stages from its progress messages, end) through a Worker wrapper.
 */
import * as THREE from 'three';
import { PointIndex } from '../../src/compute/spatial';
import { ScatterScene } from '../../src/render/scatter';
import { mountStandalone, type StandaloneState } from '../../src/standalone';
// Deterministic PRNG (mulberry32) and Box-Muller normals: every run sees the same points.
import { gaussian, mulberry32 as rng } from '../../tests/ts/helpers';


function uniformPoints(n: number, seed: number): Float32Array {
  const random = rng(seed);
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < 2 * n; i++) xy[i] = random();
  return xy;
}

/** UMAP-like: 40 Gaussian blobs of varied size and weight (dense spots are the hard case for hover). */
function clusteredPoints(n: number, seed: number): Float32Array {
  const random = rng(seed);
  const normal = gaussian(random);
  const blobs = Array.from({ length: 40 }, () => ({ x: random(), y: random(), s: 0.005 + 0.03 * random(), w: 0.2 + random() }));
  const total = blobs.reduce((sum, b) => sum + b.w, 0);
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    let pick = random() * total;
    let b = blobs[0];
    for (const blob of blobs) {
      b = blob;
      if ((pick -= blob.w) <= 0) break;
    }
    xy[2 * i] = b.x + b.s * normal();
    xy[2 * i + 1] = b.y + b.s * normal();
  }
  return xy;
}

function randomColors(n: number, seed: number): Float32Array {
  const random = rng(seed);
  const rgb = new Float32Array(3 * n);
  for (let i = 0; i < rgb.length; i++) rgb[i] = random();
  return rgb;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function container(width: number, height: number): HTMLElement {
  const el = document.createElement('div');
  el.style.cssText = `width:${width}px;height:${height}px;position:relative`;
  document.getElementById('stage')!.append(el);
  return el;
}

interface Renderable {
  render(): void;
  gl: WebGLRenderingContext | WebGL2RenderingContext;
  dispose(): void;
}

const pixel = new Uint8Array(4);
function finish(gl: WebGLRenderingContext | WebGL2RenderingContext): void {
  gl.finish();
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
}

function glOf(canvas: HTMLCanvasElement): WebGL2RenderingContext {
  // Same type as three.js created: returns its existing context.
  const gl = canvas.getContext('webgl2');
  if (!gl) throw new Error('no WebGL2 context on the canvas');
  return gl;
}

/** Bare three.js: PointsMaterial (opaque square points unless `transparent`), same renderer options as ScatterScene. */
function bareScene(width: number, height: number, xy: Float32Array, rgb: Float32Array, pointSize: number, transparent: boolean): Renderable {
  const el = container(width, height);
  const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: false, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(width, height, true);
  el.append(renderer.domElement);
  const n = xy.length / 2;
  const xyz = new Float32Array(3 * n);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    xyz[3 * i] = x;
    xyz[3 * i + 1] = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(xyz, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(rgb, 3));
  const material = new THREE.PointsMaterial({
    size: pointSize,
    sizeAttenuation: false,
    vertexColors: true,
    ...(transparent ? { transparent: true, opacity: 0.85, depthTest: false, depthWrite: false } : {}),
  });
  const points = new THREE.Points(geometry, material);
  points.frustumCulled = false;
  const scene = new THREE.Scene();
  scene.add(points);
  // Same framing as ScatterScene.fitToData/updateFrustum.
  const half = Math.max(maxX - minX, maxY - minY, 1e-6) * 0.55;
  const aspect = width / height;
  const hx = aspect >= 1 ? half * aspect : half, hy = aspect >= 1 ? half : half / aspect;
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  const camera = new THREE.OrthographicCamera(cx - hx, cx + hx, cy + hy, cy - hy, -1000, 1000);
  camera.position.set(0, 0, 10);
  return {
    render: () => renderer.render(scene, camera),
    gl: glOf(renderer.domElement),
    dispose: () => {
      geometry.dispose();
      material.dispose();
      renderer.dispose();
      renderer.forceContextLoss();
      el.remove();
    },
  };
}

function oursScene(width: number, height: number, xy: Float32Array, rgb: Float32Array): Renderable & { setPointsMs: number } {
  const el = container(width, height);
  const scene = new ScatterScene(el);
  scene.resize(width, height);
  const t0 = performance.now();
  scene.setPoints(xy, 2, rgb);
  const setPointsMs = performance.now() - t0;
  return { render: () => scene.renderNow(), gl: glOf(scene.canvas), dispose: () => scene.dispose(), setPointsMs };
}

export interface RenderSpec {
  points: number;
  width: number;
  height: number;
  /** Timed frames per method, in `rounds` alternating blocks. */
  frames: number;
  rounds: number;
  /** Also time the bare scene with transparent blending (attribution). */
  transparent: boolean;
}

async function runRender(spec: RenderSpec): Promise<Record<string, unknown>> {
  const { points, width, height, frames, rounds } = spec;
  const xy = uniformPoints(points, 1);
  const rgb = randomColors(points, 2);
  const pointSize = 6; // ScatterScene's default pointSize uniform (CSS px, times pixelRatio in both)
  const pr = Math.min(window.devicePixelRatio || 1, 2);
  const scenes: Record<string, Renderable> = {};
  const firstFrameMs: Record<string, number> = {};
  const build: Array<[string, () => Renderable]> = [
    ['ours', () => oursScene(width, height, xy, rgb)],
    ['bare', () => bareScene(width, height, xy, rgb, pointSize * pr, false)],
    ['bare-transparent', () => bareScene(width, height, xy, rgb, pointSize * pr, true)],
  ];
  if (!spec.transparent) build.pop();
  let setPointsMs = 0;
  for (const [name, make] of build) {
    const t0 = performance.now();
    const s = make();
    if ('setPointsMs' in s) setPointsMs = s.setPointsMs as number;
    s.render(); // upload + shader compile
    finish(s.gl);
    firstFrameMs[name] = performance.now() - t0;
    s.render();
    finish(s.gl); // one more untimed warm-up frame
    scenes[name] = s;
    await new Promise((r) => setTimeout(r, 0));
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(scenes).map((k) => [k, []]));
  const perBlock = Math.max(1, Math.round(frames / rounds));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? Object.keys(scenes).reverse() : Object.keys(scenes);
    for (const name of order) {
      const s = scenes[name];
      for (let f = 0; f < perBlock; f++) {
        const t0 = performance.now();
        s.render();
        finish(s.gl);
        times[name].push(performance.now() - t0);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  for (const s of Object.values(scenes)) s.dispose();
  const stats = Object.fromEntries(
    Object.entries(times).map(([name, t]) => [name, { medianMs: median(t), meanMs: t.reduce((a, b) => a + b, 0) / t.length, minMs: Math.min(...t), frames: t.length }]),
  );
  return { points, width, height, pixelRatio: pr, pointSize, stats, firstFrameMs, setPointsMs, renderer: rendererInfo() };
}

function rendererInfo(): string {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2');
  if (!gl) return 'no webgl2';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const info = ext ? `${gl.getParameter(ext.UNMASKED_VENDOR_WEBGL)} / ${gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)}` : String(gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return info;
}

export interface HoverSpec {
  points: number;
  width: number;
  height: number;
  queries: number;
  scanQueries: number;
}

/** World units per CSS px of a ScatterScene of this canvas size fitted to `xy` (fitToData + updateFrustum + worldPerPixel). */
function worldPerPixel(xy: Float32Array, width: number, height: number): number {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    minX = Math.min(minX, xy[i]);
    maxX = Math.max(maxX, xy[i]);
    minY = Math.min(minY, xy[i + 1]);
    maxY = Math.max(maxY, xy[i + 1]);
  }
  const half = Math.max(maxX - minX, maxY - minY, 1e-6) * 0.55;
  const aspect = width / height;
  const halfX = aspect >= 1 ? half * aspect : half;
  return (2 * halfX) / width;
}

function linearNearest(xy: Float32Array, x: number, y: number, radius: number): number {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0, n = xy.length >> 1; i < n; i++) {
    const dx = xy[2 * i] - x, dy = xy[2 * i + 1] - y;
    const distance = dx * dx + dy * dy;
    if (distance <= bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best;
}

async function runHover(spec: HoverSpec): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, xy] of [['uniform', uniformPoints(spec.points, 3)], ['clustered', clusteredPoints(spec.points, 4)]] as const) {
    const radius = 8 * worldPerPixel(xy, spec.width, spec.height);
    const builds: number[] = [];
    let index: PointIndex | null = null;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      index = new PointIndex(xy);
      builds.push(performance.now() - t0);
      await new Promise((res) => setTimeout(res, 0));
    }
    // Queries: half anywhere in the data's box, half on a random data point (a dense spot when clustered).
    const random = rng(5);
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < xy.length; i += 2) {
      minX = Math.min(minX, xy[i]); maxX = Math.max(maxX, xy[i]);
      minY = Math.min(minY, xy[i + 1]); maxY = Math.max(maxY, xy[i + 1]);
    }
    const qs = new Float32Array(2 * spec.queries);
    for (let q = 0; q < spec.queries; q++) {
      if (q % 2) {
        const i = Math.floor(random() * spec.points);
        qs[2 * q] = xy[2 * i] + (random() - 0.5) * radius;
        qs[2 * q + 1] = xy[2 * i + 1] + (random() - 0.5) * radius;
      } else {
        qs[2 * q] = minX + random() * (maxX - minX);
        qs[2 * q + 1] = minY + random() * (maxY - minY);
      }
    }
    // Warm-up, then the whole batch timed once (performance.now() is coarse without
    // cross-origin isolation) and each query timed alone for the worst case.
    let sink = 0;
    for (let q = 0; q < 200; q++) sink += index!.nearest(qs[2 * q], qs[2 * q + 1], radius);
    const results = new Int32Array(spec.queries);
    const t0 = performance.now();
    for (let q = 0; q < spec.queries; q++) results[q] = index!.nearest(qs[2 * q], qs[2 * q + 1], radius);
    const batchMs = performance.now() - t0;
    const each: number[] = [];
    for (let q = 0; q < spec.queries; q++) {
      const s = performance.now();
      sink += index!.nearest(qs[2 * q], qs[2 * q + 1], radius);
      each.push(performance.now() - s);
    }
    each.sort((a, b) => a - b);
    const worstMs = each[each.length - 1];
    const p99Ms = each[Math.floor(0.99 * (each.length - 1))];
    // Linear scan on the first scanQueries queries; must find the same distance.
    let mismatches = 0;
    for (let q = 0; q < 5; q++) sink += linearNearest(xy, qs[2 * q], qs[2 * q + 1], radius);
    const t1 = performance.now();
    const scan = new Int32Array(spec.scanQueries);
    for (let q = 0; q < spec.scanQueries; q++) scan[q] = linearNearest(xy, qs[2 * q], qs[2 * q + 1], radius);
    const scanMs = performance.now() - t1;
    for (let q = 0; q < spec.scanQueries; q++) {
      const a = results[q], b = scan[q];
      if (a === b) continue;
      const d = (i: number): number => (i < 0 ? -1 : (xy[2 * i] - qs[2 * q]) ** 2 + (xy[2 * i + 1] - qs[2 * q + 1]) ** 2);
      if (Math.abs(d(a) - d(b)) > 1e-12) mismatches++;
    }
    // Candidates kdbush returns per query (the cost driver of nearest()).
    let candidates = 0;
    const tree = (index as unknown as { tree: { within(x: number, y: number, r: number): number[] } }).tree;
    for (let q = 0; q < 200; q++) candidates += tree.within(qs[2 * q], qs[2 * q + 1], radius).length;
    out[name] = {
      radius,
      buildMs: median(builds),
      buildAllMs: builds,
      nearestMeanMs: batchMs / spec.queries,
      nearestWorstMs: worstMs,
      nearestP99Ms: p99Ms,
      scanMeanMs: scanMs / spec.scanQueries,
      hits: Array.from(results).filter((r) => r >= 0).length / spec.queries,
      meanCandidates: candidates / 200,
      mismatches,
      sink,
    };
  }
  return { points: spec.points, width: spec.width, height: spec.height, queries: spec.queries, scanQueries: spec.scanQueries, ...out };
}

interface JobRecord {
  worker: number;
  id: number;
  posted: number;
  /** When the worker thread got the job (its clock mapped to this page's). */
  received?: number;
  method?: string;
  stages: Array<[string, number]>;
  done?: number;
  seconds?: number;
  n?: number;
}

let nextWorkerCount = (): number => 0;
let idleTimer: { samples: number; medianMs: number; maxMs: number } | null = null;

/** Wraps Worker before the view creates its pool: records each job's post, stages and reply. */
function spyOnWorkers(): JobRecord[] {
  const jobs: JobRecord[] = [];
  const Native = globalThis.Worker;
  let nextWorker = 0;
  nextWorkerCount = () => nextWorker;
  class SpyWorker extends Native {
    private readonly index = nextWorker++;
    private readonly mine = new Map<number, JobRecord>();
    constructor(url: string | URL, options?: WorkerOptions) {
      // Same worker bundle, loaded by a shim that reports when each job reaches the worker
      // (id -1: the pool ignores replies for ids it is not running).
      const shim = `importScripts(${JSON.stringify(String(url))});
        const original = self.onmessage;
        self.onmessage = (event) => {
          postMessage({ id: -1, type: 'received', job: event.data.id, t: performance.timeOrigin + performance.now() });
          original(event);
        };`;
      super(URL.createObjectURL(new Blob([shim], { type: 'text/javascript' })), options);
      this.addEventListener('message', (event: MessageEvent) => {
        const reply = event.data as { id: number; type: string; stage?: string; seconds?: number; job?: number; t?: number };
        if (reply.id === -1 && reply.type === 'received') {
          const received = this.mine.get(reply.job!);
          if (received) received.received = reply.t! - performance.timeOrigin;
          return;
        }
        const job = this.mine.get(reply.id);
        if (!job) return;
        const now = performance.now();
        if (reply.type === 'progress' && reply.stage && job.stages.at(-1)?.[0] !== reply.stage) job.stages.push([reply.stage, now]);
        if (reply.type === 'done' || reply.type === 'error') {
          job.done = now;
          job.seconds = reply.seconds;
        }
      });
    }
    postMessage(...args: unknown[]): void {
      const message = args[0] as { id?: number; nTokens?: number; params?: { method: string; dims: number } };
      if (message && typeof message.id === 'number') {
        const job: JobRecord = { worker: this.index, id: message.id, posted: performance.now(), stages: [], n: message.nTokens, method: message.params && `${message.params.method}/${message.params.dims}D` };
        this.mine.set(message.id, job);
        jobs.push(job);
      }
      (super.postMessage as (...a: unknown[]) => void)(...args);
    }
  }
  globalThis.Worker = SpyWorker as typeof Worker;
  return jobs;
}

export interface MatrixSpec {
  /** Give up waiting for all UMAP layouts after this many seconds (then report progress). */
  timeoutSeconds: number;
  width: number;
}

let matrixState: {
  root: HTMLElement | null;
  jobs: JobRecord[];
  mountedAt: number;
  loadMs: number;
  unmount: (() => void) | null;
  pcaAt: number | null;
  timeline: Array<[number, number, number]>;
  lateness: number[];
} | null = null;

/** Fetches and parses the exported state (not timed as part of the view). */
async function startMatrix(spec: MatrixSpec): Promise<Record<string, unknown>> {
  const jobs = spyOnWorkers();
  const t0 = performance.now();
  const response = await fetch('data/state.json');
  if (!response.ok) throw new Error(`data/state.json: ${response.status}; run bench/view/make_data.py`);
  const state = (await response.json()) as StandaloneState;
  const loadMs = performance.now() - t0;
  // Baseline for the timer probe below: the same 50 ms timer for 3 s in this page before the view exists.
  const idleLateness: number[] = [];
  await new Promise<void>((done) => {
    const until = performance.now() + 3000;
    let expect = performance.now() + 50;
    const tick = (): void => {
      const now = performance.now();
      idleLateness.push(now - expect);
      expect = now + 50;
      if (now < until) setTimeout(tick, 50);
      else done();
    };
    setTimeout(tick, 50);
  });
  idleLateness.sort((a, b) => a - b);
  idleTimer = { samples: idleLateness.length, medianMs: idleLateness[idleLateness.length >> 1], maxMs: idleLateness.at(-1)! };
  loaded = { state, spec, jobs, loadMs };
  return { loadMs, nTokens: state.n_tokens, dHead: state.d_head, heads: Object.keys(state.heads).length, cores: navigator.hardwareConcurrency };
}

let loaded: { state: StandaloneState; spec: MatrixSpec; jobs: JobRecord[]; loadMs: number } | null = null;

/** Mounts the loaded state and returns at once; poll with matrixStatus(). */
function mountMatrix(): void {
  const { state, spec, jobs, loadMs } = loaded!;
  loaded = null;
  const el = container(spec.width, 800);
  el.style.height = 'auto';
  performance.mark('matrix-mount');
  const mountedAt = performance.now();
  const lateness: number[] = [];
  const unmount = mountStandalone(el, state);
  matrixState = { root: el.querySelector<HTMLElement>('[data-testid="attentionviz"]'), jobs, mountedAt, loadMs, unmount, pcaAt: null, timeline: [], lateness };
  // Main-thread responsiveness: lateness of a 50 ms timer while the view works.
  let expected = performance.now() + 50;
  const probe = (): void => {
    const now = performance.now();
    lateness.push(now - expected);
    expected = now + 50;
    if (matrixState && !matrixState.root?.dataset.matrixSeconds) setTimeout(probe, 50);
  };
  setTimeout(probe, 50);
  const poll = (): void => {
    const s = matrixState;
    if (!s?.root) return;
    const d = s.root.dataset;
    const pca = Number(d.matrixPca ?? 0), done = d.matrixPcaSeconds ? Number(d.matrixDone ?? 0) : 0;
    const last = s.timeline.at(-1);
    if (!last || last[1] !== pca || last[2] !== done) s.timeline.push([(performance.now() - s.mountedAt) / 1000, pca, done]);
    if (d.matrixPcaSeconds && s.pcaAt === null) {
      s.pcaAt = performance.now();
      performance.mark('matrix-pca-done');
    }
    if (!d.matrixSeconds) setTimeout(poll, 100);
  };
  poll();
}

function matrixStatus(): Record<string, unknown> {
  const s = matrixState;
  if (!s?.root) return { error: 'matrix not started' };
  const d = s.root.dataset;
  return {
    elapsed: (performance.now() - s.mountedAt) / 1000,
    pca: Number(d.matrixPca ?? 0),
    pcaSeconds: d.matrixPcaSeconds ? Number(d.matrixPcaSeconds) : null,
    done: d.matrixPcaSeconds ? Number(d.matrixDone ?? 0) : 0,
    seconds: d.matrixSeconds ? Number(d.matrixSeconds) : null,
    status: s.root.querySelector('.av-status')?.textContent ?? '',
  };
}

function matrixReport(): Record<string, unknown> {
  const s = matrixState!;
  const rel = (t: number | undefined): number | null => (t === undefined ? null : (t - s.mountedAt) / 1000);
  const jobs = s.jobs.map((j) => ({
    worker: j.worker,
    id: j.id,
    nTokens: j.n,
    method: j.method,
    posted: rel(j.posted),
    received: rel(j.received),
    done: rel(j.done),
    seconds: j.seconds ?? null,
    stages: j.stages.map(([name, t]) => [name, rel(t)]),
  }));
  const status = matrixStatus();
  s.unmount?.();
  const late = [...s.lateness].sort((a, b) => a - b);
  const timer = { samples: late.length, medianMs: late[late.length >> 1] ?? 0, p95Ms: late[Math.floor(0.95 * (late.length - 1))] ?? 0, maxMs: late.at(-1) ?? 0, visibility: document.visibilityState };
  return { ...status, loadMs: s.loadMs, timeline: s.timeline, jobs, timer, idleTimer, workersCreated: nextWorkerCount() };
}

Object.assign(globalThis, { runRender, runHover, startMatrix, mountMatrix, matrixStatus, matrixReport, benchReady: true });
