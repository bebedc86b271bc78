/**
 * The view as a user meets it: mounted through the anywidget entry (or mountView) on an
 * in-memory model holding what the kernel would send, drawn with real WebGL
 * (SwiftShader), driven with pointer events.
 */
import type { RenderProps } from '@anywidget/types';
import widget, { MemoryModel, mountView } from '../../src/index';
import { decodeRows, encodeRows } from '../../src/model/decode';
import { DEFAULT_TRAITS, type QKMeta, type ViewTraits } from '../../src/model/traits';
import type { ViewHandle } from '../../src/view';
import { dispatchPointer, gaussian, mulberry32, tokenTable as sharedTokenTable, waitFor } from './helpers';

const N_TOKENS = 40;
const D_HEAD = 8;
const TOKENS_PER_SEQ = 10;
const XSS = '<img src=x onerror="window.__xss=1">';
const XSS_ROW = 13;
/** Layouts run in a worker pool: generous per-spec timeouts for a loaded 2-core machine. */
const VIEW_TIMEOUT = 20000;

declare global {
  interface Window {
    __xss?: number;
  }
}

// ---------------------------------------------------------------- fixture data

function tokenTable(): DataView {
  const words = ['The', ' cat', ' sat', ' on', ' the', ' mat', ' and', ' then', ' it', '.'];
  return sharedTokenTable(N_TOKENS, TOKENS_PER_SEQ, (i) => (i === XSS_ROW ? XSS : words[i % TOKENS_PER_SEQ]));
}

/**
 * Q and K values on a 1/64 grid in (-16, 16), so they are exact in fp16 and fp32.
 * Queries and keys have different offsets (normalization has work to do) and a spread
 * so the 2N points fill the plot.
 */
function qkValues(seed: number): { queries: number[]; keys: number[] } {
  const normal = gaussian(mulberry32(seed));
  const grid = (v: number): number => Math.max(-1000, Math.min(1000, Math.round(v * 64))) / 64;
  const queryOffset = Array.from({ length: D_HEAD }, () => normal());
  const keyOffset = Array.from({ length: D_HEAD }, () => 3 * normal());
  const queries: number[] = [];
  const keys: number[] = [];
  for (let i = 0; i < N_TOKENS; i++) {
    for (let c = 0; c < D_HEAD; c++) {
      queries.push(grid(queryOffset[c] + 1.5 * normal()));
      keys.push(grid(keyOffset[c] + 1.5 * normal()));
    }
  }
  return { queries, keys };
}

function float32View(values: number[]): DataView {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return view;
}

/** fp16 bits of a value that is exactly representable as a normal fp16 number (or zero). */
function float16Bits(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log2(magnitude));
  const mantissa = (magnitude / 2 ** exponent - 1) * 1024;
  if (!Number.isInteger(mantissa) || exponent < -14 || exponent > 15) throw new Error(`${value} is not an fp16 normal`);
  return sign | ((exponent + 15) << 10) | mantissa;
}

function float16View(values: number[]): DataView {
  // Put the matrix at an offset inside a bigger buffer, as a message frame would.
  const view = new DataView(new ArrayBuffer(6 + 2 * values.length), 6, 2 * values.length);
  values.forEach((v, i) => view.setUint16(2 * i, float16Bits(v), true));
  return view;
}

function headBuffers(
  layer: number,
  head: number,
  dtype: QKMeta['dtype'],
  seed: number,
): Pick<ViewTraits, '_queries' | '_keys' | '_qk_meta'> {
  const { queries, keys } = qkValues(seed);
  const encode = dtype === 'float16' ? float16View : float32View;
  return {
    _queries: encode(queries),
    _keys: encode(keys),
    _qk_meta: { layer, head, n_tokens: N_TOKENS, d_head: D_HEAD, dtype },
  };
}

function initialState(overrides: Partial<ViewTraits> = {}): ViewTraits {
  return {
    ...DEFAULT_TRAITS,
    // the single-head view (the joint scatterplot), PCA, 2D: what these tests exercise
    view: 'head',
    projection: 'pca',
    n_layers: 2,
    n_heads: 2,
    top_k: 3,
    scale: 1 / Math.sqrt(D_HEAD),
    mask: 'causal',
    _capture_id: 'view-spec',
    theme: 'light',
    model_name: 'tiny-test-model <b>bold?</b>',
    _tokens: tokenTable(),
    ...headBuffers(0, 0, 'float32', 1),
    ...overrides,
  };
}

// ---------------------------------------------------------------- helpers

type Model = MemoryModel<ViewTraits>;
type ViewRoot = HTMLElement & { attentionviz: ViewHandle };

const containers: HTMLElement[] = [];
const cleanups: Array<() => void> = [];

function container(): HTMLElement {
  const el = document.createElement('div');
  el.style.cssText = 'width: 600px; height: 400px; position: relative;';
  document.body.append(el);
  containers.push(el);
  return el;
}

async function ready(el: HTMLElement): Promise<ViewRoot> {
  return waitFor(() => el.querySelector<ViewRoot>('.attentionviz[data-ready="true"]'), 'a ready view');
}

async function mounted(overrides: Partial<ViewTraits> = {}): Promise<{ model: Model; el: HTMLElement; root: ViewRoot; unmount: () => void }> {
  const model = new MemoryModel<ViewTraits>(initialState(overrides));
  const el = container();
  const unmount = mountView(model, el);
  cleanups.push(unmount);
  const root = await ready(el);
  return { model, el, root, unmount };
}

function plotOf(root: HTMLElement): HTMLElement {
  const plot = root.querySelector<HTMLElement>('.av-plot');
  if (!plot) throw new Error('no .av-plot');
  return plot;
}

interface Pixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
  /** Device pixels per CSS pixel of the canvas. */
  scale: number;
}

/** Renders the view now and reads its pixels through a 2D canvas. */
function snapshotPixels(root: ViewRoot): Pixels {
  const canvas = root.attentionviz.snapshot();
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext('2d');
  if (!ctx) throw new Error('no 2D context');
  ctx.drawImage(canvas, 0, 0);
  const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
  return { data, width: copy.width, height: copy.height, scale: canvas.width / canvas.getBoundingClientRect().width };
}

function luminanceVariance(pixels: Pixels): number {
  let sum = 0;
  let sumSq = 0;
  const count = pixels.width * pixels.height;
  for (let i = 0; i < pixels.data.length; i += 4) {
    const y = 0.299 * pixels.data[i] + 0.587 * pixels.data[i + 1] + 0.114 * pixels.data[i + 2];
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / count;
  return sumSq / count - mean * mean;
}

function pixelAt(pixels: Pixels, cssX: number, cssY: number): [number, number, number] {
  const x = Math.round(cssX * pixels.scale);
  const y = Math.round(cssY * pixels.scale);
  const i = 4 * (y * pixels.width + x);
  return [pixels.data[i], pixels.data[i + 1], pixels.data[i + 2]];
}

function expectNotBlank(pixels: Pixels): void {
  expect(pixels.width).toBeGreaterThan(0);
  expect(luminanceVariance(pixels)).toBeGreaterThan(0);
  let painted = 0;
  for (let i = 0; i < pixels.data.length; i += 4) {
    if (pixels.data[i] < 240 || pixels.data[i + 1] < 240 || pixels.data[i + 2] < 240) painted++;
  }
  // 80 points of ~6 px diameter: hundreds of coloured pixels on a white background.
  expect(painted).toBeGreaterThan(200);
}

function positions(root: ViewRoot): Array<[number, number]> {
  const handle = root.attentionviz;
  return Array.from({ length: handle.pointCount() }, (_, i) => handle.canvasPosition(i));
}

/** Point whose nearest other point is furthest away (on screen), so a click on it is unambiguous. */
function mostIsolated(points: Array<[number, number]>, among: number[]): number {
  let best = -1;
  let bestGap = -1;
  for (const i of among) {
    let gap = Infinity;
    points.forEach(([x, y], j) => {
      if (j !== i) gap = Math.min(gap, Math.hypot(x - points[i][0], y - points[i][1]));
    });
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  return best;
}

/** A spot on the plot at least `clearance` CSS px from every point. */
function emptySpot(root: ViewRoot, clearance: number): [number, number] {
  const points = positions(root);
  const { width, height } = plotOf(root).getBoundingClientRect();
  for (let y = 10; y < height - 10; y += 5) {
    for (let x = 10; x < width - 10; x += 5) {
      if (points.every(([px, py]) => Math.hypot(px - x, py - y) > clearance)) return [x, y];
    }
  }
  throw new Error('no empty spot on the plot');
}

function pointer(root: ViewRoot, type: string, x: number, y: number, init: PointerEventInit = {}): void {
  dispatchPointer(plotOf(root), type, x, y, init);
}

function click(root: ViewRoot, x: number, y: number): void {
  pointer(root, 'pointerdown', x, y);
  pointer(root, 'pointerup', x, y);
}

function selected(model: Model): number[] {
  return Array.from(decodeRows(model.get('_selected_rows')));
}

function messageOf(root: HTMLElement): HTMLElement | null {
  return root.querySelector<HTMLElement>('.av-message.av-visible');
}

// ---------------------------------------------------------------- specs

describe('view', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    for (const el of containers.splice(0)) el.remove();
    delete window.__xss;
  });

  it('(a) renders through the anywidget entry: a canvas with points where the handle says', async () => {
    expect(typeof widget.render).toBe('function');
    const model = new MemoryModel<ViewTraits>(initialState());
    const el = container();
    const controller = new AbortController();
    const noKernel = (): Promise<never> => Promise.reject(new Error('no kernel in this test'));
    const props: RenderProps<ViewTraits> = {
      model,
      el,
      signal: controller.signal,
      host: { getWidget: noKernel, getModel: noKernel },
      experimental: { invoke: noKernel },
    };
    const cleanup = await widget.render!(props);
    expect(typeof cleanup).toBe('function');
    cleanups.push(() => void (cleanup as () => void)());

    const root = await ready(el);
    expect(root.querySelector('canvas')).not.toBeNull();
    expect(root.attentionviz.pointCount()).toBe(2 * N_TOKENS);
    const pixels = snapshotPixels(root);
    expectNotBlank(pixels);

    // Points are drawn where canvasPosition says, and empty space is background.
    const points = positions(root);
    for (const i of [mostIsolated(points, [...Array(N_TOKENS).keys()]), mostIsolated(points, points.map((_, j) => j).slice(N_TOKENS))]) {
      const [r, g, b] = pixelAt(pixels, ...points[i]);
      expect(r + g + b).withContext(`point ${i} at ${points[i]}`).toBeLessThan(3 * 240);
    }
    expect(pixelAt(pixels, ...emptySpot(root, 20))).toEqual([255, 255, 255]);
    // The title is text, not markup.
    expect(root.querySelector('b')).toBeNull();
    expect(root.textContent).toContain('tiny-test-model <b>bold?</b>');
  }, VIEW_TIMEOUT);

  it('(b) mounts and unmounts 20 times without leaking a WebGL context or listener', async () => {
    const getContext = HTMLCanvasElement.prototype.getContext;
    const contexts: Array<WebGLRenderingContext | WebGL2RenderingContext> = [];
    spyOn(HTMLCanvasElement.prototype, 'getContext').and.callFake(function (this: HTMLCanvasElement, ...args: unknown[]) {
      const context = (getContext as (...a: unknown[]) => RenderingContext | null).apply(this, args);
      if (context instanceof WebGLRenderingContext || context instanceof WebGL2RenderingContext) contexts.push(context);
      return context;
    } as typeof getContext);

    // A long-lived view mounted first: Chrome drops the oldest live context once 16 are
    // alive, so if the cycles below leaked contexts, this one would be lost.
    const survivor = await mounted();
    expect(contexts.length).toBe(1);
    const survivorContext = contexts[0];

    const model = new MemoryModel<ViewTraits>(initialState());
    const ownListener = (): void => undefined;
    model.on('change:head', ownListener); // the host's own listener must survive unmount
    const listenersBefore = model.listenerCount();
    const el = container();
    for (let cycle = 0; cycle < 20; cycle++) {
      const created = contexts.length;
      const unmount = mountView(model, el);
      const root = await ready(el);
      expect(model.listenerCount()).toBeGreaterThan(listenersBefore);
      if (cycle % 5 === 0) expectNotBlank(snapshotPixels(root));
      const mine = contexts.slice(created);
      expect(mine.length).withContext(`cycle ${cycle}: contexts created`).toBeGreaterThanOrEqual(1);
      expect(mine.some((c) => c.isContextLost())).toBe(false);

      unmount();
      for (const context of mine) expect(context.isContextLost()).withContext(`cycle ${cycle}: context lost after unmount`).toBe(true);
      expect(el.childNodes.length).withContext(`cycle ${cycle}: element emptied`).toBe(0);
      expect(model.listenerCount()).withContext(`cycle ${cycle}: listeners`).toBe(listenersBefore);
    }
    // Every context except the survivor's is gone.
    const live = contexts.filter((c) => !c.isContextLost());
    expect(live.length).toBe(1);
    expect(live[0]).toBe(survivorContext);

    // A 21st view still renders, and the first one was never evicted.
    const unmount = mountView(model, el);
    cleanups.push(unmount);
    const last = await ready(el);
    expectNotBlank(snapshotPixels(last));
    expect(survivorContext.isContextLost()).toBe(false);
    expectNotBlank(snapshotPixels(survivor.root));
    model.off('change:head', ownListener);
  }, 6 * VIEW_TIMEOUT);

  it('(c) clicking a point selects its token row; clicking empty space clears the selection', async () => {
    const { model, root } = await mounted();
    const points = positions(root);
    const query = mostIsolated(points, [...Array(N_TOKENS).keys()]);
    click(root, ...points[query]);
    expect(selected(model)).toEqual([query]);

    // A key point selects the same kind of thing: its token's row.
    const key = mostIsolated(points, [...Array(N_TOKENS).keys()].filter((i) => i !== query).map((i) => N_TOKENS + i));
    click(root, ...points[key]);
    expect(selected(model)).toEqual([key - N_TOKENS]);

    click(root, ...emptySpot(root, 30));
    expect(selected(model)).toEqual([]);
  }, VIEW_TIMEOUT);

  it('(c) a drag (pan) is not a click and leaves the selection alone', async () => {
    const { model, root } = await mounted({ _selected_rows: encodeRows([4]) });
    const points = positions(root);
    const i = mostIsolated(points, [...Array(N_TOKENS).keys()]);
    pointer(root, 'pointerdown', ...points[i]);
    pointer(root, 'pointermove', points[i][0] + 15, points[i][1] + 15, { buttons: 1 });
    pointer(root, 'pointerup', points[i][0] + 30, points[i][1] + 30);
    expect(selected(model)).toEqual([4]);
  }, VIEW_TIMEOUT);

  it('(c) shift-drag lassoes the tokens whose query or key lies inside the outline', async () => {
    const { model, root } = await mounted();
    const points = positions(root);
    const { width, height } = plotOf(root).getBoundingClientRect();
    // Rectangle edges that pass no closer than 3 px to any point, so inside/outside is unambiguous.
    const clearLine = (target: number, axis: 0 | 1): number => {
      for (let delta = 0; delta < 60; delta++) {
        for (const v of [target + delta, target - delta]) {
          if (points.every((p) => Math.abs(p[axis] - v) > 3)) return v;
        }
      }
      throw new Error('no clear line');
    };
    const [x0, x1] = [clearLine(width * 0.3, 0), clearLine(width * 0.7, 0)];
    const [y0, y1] = [clearLine(height * 0.25, 1), clearLine(height * 0.75, 1)];
    const expected = new Set<number>();
    points.forEach(([x, y], i) => {
      if (x > x0 && x < x1 && y > y0 && y < y1) expected.add(i % N_TOKENS);
    });
    expect(expected.size).toBeGreaterThan(0);
    expect(expected.size).toBeLessThan(N_TOKENS);

    pointer(root, 'pointerdown', x0, y0, { shiftKey: true });
    for (const [x, y] of [[x1, y0], [x1, y1], [x0, y1]]) pointer(root, 'pointermove', x, y, { shiftKey: true, buttons: 1 });
    pointer(root, 'pointerup', x0, y1 - 1, { shiftKey: true });
    expect(selected(model)).toEqual([...expected].sort((a, b) => a - b));
  }, VIEW_TIMEOUT);

  it('(d) shows token text containing HTML as literal text in the tooltip, never as markup', async () => {
    const { root } = await mounted();
    const [x, y] = root.attentionviz.canvasPosition(XSS_ROW);
    pointer(root, 'pointermove', x, y);
    expect(root.dataset.hover).toBe(String(XSS_ROW));
    const tooltip = root.querySelector<HTMLElement>('.av-tooltip');
    expect(tooltip).not.toBeNull();
    expect(getComputedStyle(tooltip!).display).not.toBe('none');
    expect(tooltip!.querySelector('.av-tooltip-token')?.textContent).toBe(XSS);
    // The sentence context shows it too, as text.
    expect(tooltip!.querySelector('.av-tooltip-current')?.textContent).toBe(XSS);
    expect(tooltip!.textContent).toContain(' cat');
    // Give a parsed <img onerror> every chance to fire.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(window.__xss).toBeUndefined();
    expect(root.querySelector('img')).toBeNull();

    // Moving away hides it.
    pointer(root, 'pointermove', ...emptySpot(root, 30));
    expect(getComputedStyle(tooltip!).display).toBe('none');
  }, VIEW_TIMEOUT);

  it('(e) a selection set from the model side is drawn and reported without errors', async () => {
    const { model, root } = await mounted();
    const status = root.querySelector('.av-status');
    const before = snapshotPixels(root);
    expect(() => model.set('_selected_rows', encodeRows([3, 5]))).not.toThrow();
    expect(messageOf(root)).toBeNull();
    expect(status?.textContent).toMatch(/\b2 selected/);
    const after = snapshotPixels(root);
    expectNotBlank(after);
    let changed = 0;
    for (let i = 0; i < before.data.length; i++) if (before.data[i] !== after.data[i]) changed++;
    expect(changed).withContext('selection changes what is drawn').toBeGreaterThan(0);

    // Rows beyond this capture (a stale selection) and clearing: still no error.
    expect(() => model.set('_selected_rows', encodeRows([N_TOKENS + 100]))).not.toThrow();
    expect(() => model.set('_selected_rows', null)).not.toThrow();
    expect(status?.textContent).not.toMatch(/selected/);
    expect(messageOf(root)).toBeNull();
    expectNotBlank(snapshotPixels(root));
  }, VIEW_TIMEOUT);

  it('(f) new Q/K for another head (fp16) updates the head shown, the toolbar and the layout', async () => {
    const { model, root } = await mounted();
    expect(root.dataset.head).toBe('0');
    const oldPositions = positions(root);
    const next = headBuffers(1, 1, 'float16', 2);
    model.set('head', [1, 1]);
    model.set('_queries', next._queries);
    model.set('_keys', next._keys);
    model.set('_qk_meta', next._qk_meta);
    await waitFor(() => root.dataset.head === '1', 'head 1 shown');
    expect(root.dataset.layer).toBe('1');
    expect(root.querySelector<HTMLSelectElement>('select[aria-label="layer"]')?.value).toBe('1');
    expect(root.querySelector<HTMLSelectElement>('select[aria-label="head"]')?.value).toBe('1');
    expect(messageOf(root)).toBeNull();
    const moved = positions(root).some(([x, y], i) => Math.hypot(x - oldPositions[i][0], y - oldPositions[i][1]) > 1);
    expect(moved).toBe(true);
    expectNotBlank(snapshotPixels(root));
  }, VIEW_TIMEOUT);

  it('(f) picking a head in the toolbar asks the model for it', async () => {
    const { model, root } = await mounted();
    const layer = root.querySelector<HTMLSelectElement>('select[aria-label="layer"]');
    expect(layer).not.toBeNull();
    layer!.value = '1';
    layer!.dispatchEvent(new Event('change'));
    expect(model.get('head')).toEqual([1, 0]);
  }, VIEW_TIMEOUT);

  it('(g) a Q/K buffer that is too short shows a message naming the problem instead of throwing', async () => {
    const model = new MemoryModel<ViewTraits>(initialState({ _queries: new DataView(new ArrayBuffer(100)) }));
    const el = container();
    spyOn(console, 'error'); // the view logs the error too; keep the test output clean
    let unmount: (() => void) | null = null;
    expect(() => (unmount = mountView(model, el))).not.toThrow();
    cleanups.push(() => unmount?.());
    const root = el.querySelector<HTMLElement>('.attentionviz');
    expect(root).not.toBeNull();
    const message = messageOf(root!);
    expect(message).not.toBeNull();
    expect(message!.textContent).toMatch(/buffer/i);
    expect(message!.textContent).toMatch(/100 bytes/);
    expect(message!.textContent).toMatch(/40\s*[,x×]\s*8/);

    // Good buffers for the head make it go away and the plot appears.
    const good = headBuffers(0, 1, 'float32', 3);
    model.set('_queries', good._queries);
    model.set('_keys', good._keys);
    model.set('_qk_meta', good._qk_meta);
    const readyRoot = await ready(el);
    expect(readyRoot.dataset.head).toBe('1');
    expect(messageOf(root!)).withContext('the error of the bad head no longer covers the plot').toBeNull();
    expectNotBlank(snapshotPixels(readyRoot));

    // And a short buffer arriving later is reported the same way.
    const bad = headBuffers(1, 0, 'float16', 4);
    model.set('_keys', new DataView(new ArrayBuffer(2 * N_TOKENS * D_HEAD - 2)));
    model.set('_queries', bad._queries);
    model.set('_qk_meta', bad._qk_meta);
    expect(messageOf(root!)?.textContent).toMatch(/float16/);
  }, VIEW_TIMEOUT);

  it('shows an error set by the kernel, and hides it when cleared', async () => {
    const { model, root } = await mounted();
    model.set('error', 'The kernel restarted: re-run the cell to reconnect.');
    expect(messageOf(root)?.textContent).toContain('kernel restarted');
    model.set('error', '');
    expect(messageOf(root)).toBeNull();
  }, VIEW_TIMEOUT);
});
