/**
 * Parts of the head view no other spec reaches: the camera kept in the `camera` trait
 * (single-head view only, never by a compare panel), picking in 3D after the camera
 * moves, the image view beside the plot for a vision capture, and which points are
 * emphasised for a selection, search, a linked hover and the focused query's top keys. Drawn with real WebGL (SwiftShader) on the kernel-free host.
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import type { HostedHead } from '../../src/host';
import { decodeRows } from '../../src/model/decode';
import type { MemoryModel } from '../../src/model/memory_model';
import type { ViewTraits } from '../../src/model/traits';
import { EMPHASIS } from '../../src/render/scatter';
import type { ViewHandle } from '../../src/view';
import { pointEmphasis } from '../../src/views/head/emphasis';
import { dispatchPointer, gaussian, mountOnHost, mulberry32, tokenTable, waitFor } from './helpers';

const N_TOKENS = 30;
const D_HEAD = 8;
const VIEW_TIMEOUT = 30000;
/** Longer than the camera's save delay (300 ms), so a save that was due has happened. */
const AFTER_SAVE_DELAY_MS = 700;

type Model = MemoryModel<ViewTraits>;
type Plot = HTMLElement & { attentionviz: ViewHandle };

function fakeHead(layer: number, head: number): HostedHead {
  const normal = gaussian(mulberry32(3 + 17 * layer + head));
  const queries = Float32Array.from({ length: N_TOKENS * D_HEAD }, () => 1.5 * normal());
  const keys = Float32Array.from({ length: N_TOKENS * D_HEAD }, (_, i) => (i % D_HEAD) + 1.5 * normal());
  return { queries: new DataView(queries.buffer), keys: new DataView(keys.buffer), meta: { layer, head, n_tokens: N_TOKENS, d_head: D_HEAD, dtype: 'float32' } };
}

/**
 * A vision capture's token table: two images of [CLS] then a 3 x 3 patch grid
 * (patch_row / patch_col; -1 for [CLS]), N_TOKENS / 10 images in all.
 */
function patchTable(): DataView {
  const pos = Int32Array.from({ length: N_TOKENS }, (_, i) => i % 10);
  const bytes = tableToIPC(
    tableFromArrays({
      text: Array.from(pos, (p) => (p === 0 ? '[CLS]' : `patch ${p - 1}`)),
      seq: Int32Array.from({ length: N_TOKENS }, (_, i) => Math.floor(i / 10)),
      pos,
      patch_row: Int32Array.from(pos, (p) => (p === 0 ? -1 : Math.floor((p - 1) / 3))),
      patch_col: Int32Array.from(pos, (p) => (p === 0 ? -1 : (p - 1) % 3)),
    }),
    'stream',
  );
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const cleanups: Array<() => void> = [];

/** The view on a kernel-free host, and `camera` trait changes counted from mounting. */
function mount(traits: Partial<ViewTraits> = {}): { model: Model; root: HTMLElement; cameraChanges: () => number } {
  const { model, root } = mountOnHost({
    traits: { n_layers: 1, n_heads: 2, _tokens: tokenTable(N_TOKENS, 10, (i) => `t${i}`), view: 'head', projection: 'pca', theme: 'light', _capture_id: 'head-view-spec', ...traits },
    first: fakeHead(0, 0),
    qkFor: fakeHead,
  }, { width: 800, height: 500 }, cleanups);
  let changes = 0;
  model.on('change:camera', () => changes++);
  return { model, root, cameraChanges: () => changes };
}

async function ready(plot: () => Plot | null): Promise<Plot> {
  return waitFor(() => {
    const found = plot();
    return found && found.dataset.ready === 'true' && found.attentionviz.pointCount() > 0 ? found : null;
  }, 'a plot with points');
}

/** Canvas positions of every point as drawn (rendered first, so the camera's matrices are current). */
function positions(plot: Plot): Array<[number, number]> {
  plot.attentionviz.snapshot();
  return Array.from({ length: plot.attentionviz.pointCount() }, (_, i) => plot.attentionviz.canvasPosition(i));
}

/** Zoom in with the wheel at the centre of the plot's canvas (the scene's own controls). */
function zoom(plot: HTMLElement): void {
  const canvas = plot.querySelector<HTMLCanvasElement>('.av-plot canvas')!;
  const rect = canvas.getBoundingClientRect();
  canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, clientX: rect.left + rect.width / 2, clientY: rect.top + rect.height / 2, bubbles: true, cancelable: true }));
}

function click(plot: HTMLElement, [x, y]: [number, number]): void {
  const target = plot.querySelector<HTMLElement>('.av-plot')!;
  dispatchPointer(target, 'pointerdown', x, y);
  dispatchPointer(target, 'pointerup', x, y);
}

/**
 * The query point on the canvas furthest from any other point, so a click on it is
 * unambiguous (in 3D a point near or behind the camera can project far off the canvas).
 */
function isolatedQuery(plot: HTMLElement, points: Array<[number, number]>): number {
  const { width, height } = plot.querySelector('.av-plot')!.getBoundingClientRect();
  const onCanvas = [...Array(N_TOKENS).keys()].filter((i) => points[i][0] > 10 && points[i][0] < width - 10 && points[i][1] > 10 && points[i][1] < height - 10);
  if (!onCanvas.length) throw new Error('no query point on the canvas');
  const gap = (i: number): number => Math.min(...points.map(([x, y], j) => (j === i ? Infinity : Math.hypot(x - points[i][0], y - points[i][1]))));
  return onCanvas.reduce((best, i) => (gap(i) > gap(best) ? i : best));
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('head view camera', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('saves a moved camera in the `camera` trait once it rests, and a view opened on that state starts there', async () => {
    const first = mount();
    const plot = await ready(() => first.root as Plot);
    zoom(plot);
    const saved = await waitFor(() => Object.keys(first.model.get('camera')).length > 0 && first.model.get('camera'), 'the camera saved');
    expect(saved.zoom).toBeGreaterThan(1);
    const zoomed = positions(plot);

    const second = mount({ camera: saved });
    const reopened = await ready(() => second.root as Plot);
    // Same layout (same data, same deterministic PCA) through the same camera numbers:
    // equal up to float rounding in the projection, far below a pixel.
    positions(reopened).forEach(([x, y], i) => {
      expect(x).withContext(`point ${i} x`).toBeCloseTo(zoomed[i][0], 2);
      expect(y).withContext(`point ${i} y`).toBeCloseTo(zoomed[i][1], 2);
    });
    // It stays there: whatever the view saves after restoring is the restored camera.
    await wait(AFTER_SAVE_DELAY_MS);
    const kept = second.model.get('camera');
    expect(Object.keys(kept).sort()).toEqual(Object.keys(saved).sort());
    // Saved back, if at all, through three.js' vectors: equal up to float64 rounding.
    for (const [name, value] of Object.entries(saved)) expect(kept[name]).withContext(name).toBeCloseTo(value, 9);
  }, VIEW_TIMEOUT);

  it('leaves the `camera` trait alone when a compare panel is zoomed', async () => {
    const { root, model, cameraChanges } = mount({ view: 'compare', compare_head: [0, 1] });
    const left = await ready(() => root.querySelector<Plot>('.av-compare-panel[data-side="left"]'));
    const before = positions(left);
    zoom(left);
    await wait(AFTER_SAVE_DELAY_MS);
    expect(positions(left)).not.toEqual(before); // the panel did zoom
    expect(cameraChanges()).toBe(0);
    expect(model.get('camera')).toEqual({});
  }, VIEW_TIMEOUT);
});

describe('head view in 3D', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('a click selects the token under the pointer, also after the camera moved', async () => {
    const { root, model } = mount({ dims: 3 });
    const plot = await ready(() => root as Plot);
    const selected = (): number[] => Array.from(decodeRows(model.get('_selected_rows')));
    let points = positions(plot);
    let query = isolatedQuery(plot, points);
    click(plot, points[query]);
    expect(selected()).withContext(`before zooming, query ${query} at ${points[query]}`).toEqual([query]);

    zoom(plot);
    await waitFor(() => positions(plot)[query][0] !== points[query][0] || null, 'the points moved on screen');
    points = positions(plot);
    query = isolatedQuery(plot, points);
    click(plot, points[query]);
    expect(selected()).withContext(`after zooming, query ${query} at ${points[query]}`).toEqual([query]);
  }, VIEW_TIMEOUT);
});

describe('head view of a vision capture', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('shows the image view beside the plot; a hovered patch highlights its token in the plot, a clicked one selects it', async () => {
    const { root, model } = mount({ _tokens: patchTable() });
    const plot = await ready(() => root as Plot);
    const image = root.querySelector<HTMLElement>('.av-image')!;
    expect(getComputedStyle(image).display).not.toBe('none');
    expect(getComputedStyle(root.querySelector('.av-sentence:not(.av-image)')!).display).toBe('none');

    // Patch (1, 2) of the first image: token row 1 + 3 * 1 + 2.
    const row = 6;
    const canvas = image.querySelector<HTMLCanvasElement>('.av-image-canvas')!;
    const rect = canvas.getBoundingClientRect();
    const at = { clientX: rect.left + (2.5 / 3) * rect.width, clientY: rect.top + (1.5 / 3) * rect.height, bubbles: true };
    canvas.dispatchEvent(new PointerEvent('pointermove', at));
    const emphasis = (): number[] => Array.from({ length: 2 * N_TOKENS }, (_, i) => plot.attentionviz.emphasis(i));
    const highlighted = (): number[] => [...emphasis().keys()].filter((i) => emphasis()[i] === EMPHASIS.highlighted);
    expect(highlighted()).toEqual([row, N_TOKENS + row]);

    canvas.dispatchEvent(new PointerEvent('pointerleave', at));
    expect(highlighted()).toEqual([]);
    canvas.dispatchEvent(new MouseEvent('click', at));
    expect(Array.from(decodeRows(model.get('_selected_rows')))).toEqual([row]);
  }, VIEW_TIMEOUT);
});

describe('head view emphasis', () => {
  const n = 5;
  const none = { selected: new Uint32Array(0), matches: [], hovered: -1 };
  const rowsAt = (emphasis: Float32Array, level: number): number[] => [...emphasis.keys()].filter((i) => emphasis[i] === level);

  it('draws every point normal while nothing is highlighted', () => {
    expect(rowsAt(pointEmphasis(n, none, null), EMPHASIS.normal)).toEqual([...Array(2 * n).keys()]);
  });

  it("highlights the query and key of selected, matched and elsewhere-hovered tokens, and dims the rest", () => {
    const emphasis = pointEmphasis(n, { selected: Uint32Array.of(1), matches: [3], hovered: 4 }, null);
    expect(rowsAt(emphasis, EMPHASIS.highlighted)).toEqual([1, 3, 4, n + 1, n + 3, n + 4]);
    expect(rowsAt(emphasis, EMPHASIS.dimmed)).toEqual([0, 2, n, n + 2]);
  });

  it("highlights only the keys of the focused query's top keys", () => {
    const focus = { row: 0, targets: [{ row: 2, weight: 0.7 }] };
    const emphasis = pointEmphasis(n, { ...none, selected: Uint32Array.of(0) }, focus);
    expect(rowsAt(emphasis, EMPHASIS.highlighted)).toEqual([0, n, n + 2]);
  });

  it('ignores rows beyond the head (typed-in rows another plot has, a hover from a longer head)', () => {
    const emphasis = pointEmphasis(n, { selected: Uint32Array.of(7), matches: [9], hovered: 6 }, null);
    // Something is highlighted elsewhere, so this head's points are dimmed, none highlighted.
    expect(rowsAt(emphasis, EMPHASIS.highlighted)).toEqual([]);
    expect(rowsAt(emphasis, EMPHASIS.dimmed).length).toBe(2 * n);
  });
});
