/**
 * The compare view: two heads side by side on the kernel-free host (the same QKSource the
 * notebook uses), drawn with real WebGL (SwiftShader), driven with pointer events. Checks
 * the linking: hover in one panel emphasises the token in the other, selection (lasso,
 * model side) and search show in both, pickers and entry points set the right traits.
 */
import { hostModel, type HostOptions, type HostedHead } from '../../src/host';
import { decodeRows, encodeRows } from '../../src/model/decode';
import type { MemoryModel } from '../../src/model/memory_model';
import type { ViewTraits } from '../../src/model/traits';
import type { HostChannel } from '../../src/protocol/transport';
import { mountView, type ViewHandle } from '../../src/view';
import { dispatchPointer, gaussian, mulberry32, tokenTable, waitFor } from './helpers';

const N_TOKENS = 30;
const D_HEAD = 8;
const TOKENS_PER_SEQ = 10;
const VIEW_TIMEOUT = 30000;
const WORDS = ['The', ' cat', ' sat', ' on', ' the', ' mat', ' and', ' then', ' it', '.'];

type Model = MemoryModel<ViewTraits>;
type Panel = HTMLElement & { attentionviz: ViewHandle };

/** A different random head for every (layer, head): queries and keys with separate offsets. */
function fakeHead(layer: number, head: number): HostedHead {
  const normal = gaussian(mulberry32(1 + 17 * layer + head));
  const queries = new Float32Array(N_TOKENS * D_HEAD);
  const keys = new Float32Array(N_TOKENS * D_HEAD);
  const offset = Array.from({ length: D_HEAD }, () => 3 * normal());
  for (let i = 0; i < queries.length; i++) {
    queries[i] = 1.5 * normal();
    keys[i] = offset[i % D_HEAD] + 1.5 * normal();
  }
  return {
    queries: new DataView(queries.buffer),
    keys: new DataView(keys.buffer),
    meta: { layer, head, n_tokens: N_TOKENS, d_head: D_HEAD, dtype: 'float32' },
  };
}

const containers: HTMLElement[] = [];
const cleanups: Array<() => void> = [];

/** The whole view on a kernel-free host, opened on `traits` (compare view unless told). */
function mountedView(traits: Partial<ViewTraits> = {}, compareFor?: HostOptions['compareFor']): { model: Model; channel: HostChannel; root: HTMLElement } {
  const host = hostModel({
    compareFor,
    traits: {
      n_layers: 2,
      n_heads: 3,
      _tokens: tokenTable(N_TOKENS, TOKENS_PER_SEQ, (i) => `${WORDS[i % TOKENS_PER_SEQ]}${i}`),
      view: 'compare',
      head: [0, 0],
      compare_head: [1, 2],
      projection: 'pca',
      theme: 'light',
      top_k: 3,
      scale: 1 / Math.sqrt(D_HEAD),
      _capture_id: 'compare-spec',
      ...traits,
    },
    first: fakeHead(...(traits.head ?? [0, 0])),
    qkFor: fakeHead,
  });
  const el = document.createElement('div');
  el.style.cssText = 'width: 1000px; position: relative;';
  document.body.append(el);
  containers.push(el);
  const unmount = mountView(host.model, el);
  cleanups.push(() => {
    unmount();
    host.dispose();
  });
  return { model: host.model, channel: host.channel, root: el.querySelector<HTMLElement>('.attentionviz')! };
}

/** The compare view, mounted, once both panels show their points. */
async function mounted(traits: Partial<ViewTraits> = {}, compareFor?: HostOptions['compareFor']): Promise<{ model: Model; channel: HostChannel; root: HTMLElement; left: Panel; right: Panel }> {
  const { model, channel, root } = mountedView(traits, compareFor);
  const [left, right] = await panelsReady(root);
  return { model, channel, root, left, right };
}

async function panelsReady(root: HTMLElement): Promise<[Panel, Panel]> {
  return waitFor(() => {
    const panels = [...root.querySelectorAll<Panel>('.av-compare-panel[data-ready="true"]')];
    return panels.length === 2 && panels.every((panel) => panel.attentionviz.pointCount() > 0) ? (panels as [Panel, Panel]) : null;
  }, 'two ready compare panels');
}

function plotOf(panel: HTMLElement): HTMLElement {
  return panel.querySelector<HTMLElement>('.av-plot')!;
}

function pointer(panel: HTMLElement, type: string, x: number, y: number, init: PointerEventInit = {}): void {
  dispatchPointer(plotOf(panel), type, x, y, init);
}

function positions(panel: Panel): Array<[number, number]> {
  const handle = panel.attentionviz;
  return Array.from({ length: handle.pointCount() }, (_, i) => handle.canvasPosition(i));
}

/** The query point whose nearest other point is furthest away, so hovering it is unambiguous. */
function isolatedQuery(panel: Panel): number {
  const points = positions(panel);
  let best = -1;
  let bestGap = -1;
  for (let i = 0; i < N_TOKENS; i++) {
    const gap = Math.min(...points.map(([x, y], j) => (j === i ? Infinity : Math.hypot(x - points[i][0], y - points[i][1]))));
    if (gap > bestGap) [best, bestGap] = [i, gap];
  }
  return best;
}

function emphasisOf(panel: Panel): number[] {
  return Array.from({ length: 2 * N_TOKENS }, (_, i) => panel.attentionviz.emphasis(i));
}

/** Token rows whose query and key are both highlighted (2) in `panel`. */
function highlightedRows(panel: Panel): number[] {
  const emphasis = emphasisOf(panel);
  return [...Array(N_TOKENS).keys()].filter((row) => emphasis[row] === 2 && emphasis[N_TOKENS + row] === 2);
}

function tooltipOf(panel: HTMLElement): HTMLElement {
  return panel.querySelector<HTMLElement>('.av-tooltip')!;
}

function selected(model: Model): number[] {
  return Array.from(decodeRows(model.get('_selected_rows')));
}

describe('compare view', () => {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    for (const el of containers.splice(0)) el.remove();
  });

  it('shows head and compare_head side by side, each with its header and pickers', async () => {
    const { root, left, right } = await mounted();
    expect(root.dataset.view).toBe('compare');
    expect(left.dataset.layer).toBe('0');
    expect(left.dataset.head).toBe('0');
    expect(right.dataset.layer).toBe('1');
    expect(right.dataset.head).toBe('2');
    expect([left, right].map((panel) => panel.querySelector('.av-compare-title')!.textContent)).toEqual(['L0 H0', 'L1 H2']);
    expect(left.attentionviz.pointCount()).toBe(2 * N_TOKENS);
    // Two heads, two layouts: the same token lands in different places.
    const a = positions(left);
    const b = positions(right);
    expect(a.some(([x, y], i) => Math.hypot(x - b[i][0], y - b[i][1]) > 5)).toBeTrue();
    // Both plots are on screen side by side, the single-head view is hidden.
    const [l, r] = [plotOf(left).getBoundingClientRect(), plotOf(right).getBoundingClientRect()];
    expect(l.width).toBeGreaterThan(200);
    expect(r.left).toBeGreaterThanOrEqual(l.right - 1);
    expect(root.querySelector<HTMLElement>('.av-head:not(.av-compare-panel)')!.style.display).toBe('none');
  }, VIEW_TIMEOUT);

  it('hovering a token in one panel emphasises its query and key in the other and shows its tooltip there', async () => {
    const { left, right } = await mounted();
    expect(emphasisOf(right).every((e) => e === 1)).toBeTrue();
    const row = isolatedQuery(left);
    pointer(left, 'pointermove', ...left.attentionviz.canvasPosition(row));
    expect(left.dataset.hover).toBe(String(row));
    expect(highlightedRows(right)).toEqual([row]);
    expect(emphasisOf(right).filter((e) => e === 0).length).toBe(2 * N_TOKENS - 2); // the rest dimmed
    expect(tooltipOf(right).style.display).toBe('block');
    expect(tooltipOf(right).querySelector('.av-tooltip-token')!.textContent).toBe(`${WORDS[row % TOKENS_PER_SEQ]}${row}`);
    // Leaving the panel ends the link.
    plotOf(left).dispatchEvent(new PointerEvent('pointerleave'));
    expect(emphasisOf(right).every((e) => e === 1)).toBeTrue();
    expect(tooltipOf(right).style.display).toBe('none');

    // And the other way round.
    const other = isolatedQuery(right);
    pointer(right, 'pointermove', ...right.attentionviz.canvasPosition(other));
    expect(highlightedRows(left)).toEqual([other]);
    expect(tooltipOf(left).style.display).toBe('block');
  }, VIEW_TIMEOUT);

  it('a lasso in the right panel sets the selection, shown in both panels', async () => {
    const { model, left, right } = await mounted();
    const points = positions(right);
    const { width, height } = plotOf(right).getBoundingClientRect();
    const [x0, x1, y0, y1] = [0.2 * width, 0.6 * width, 0.2 * height, 0.7 * height];
    const expected = new Set<number>();
    points.forEach(([x, y], i) => {
      if (x > x0 && x < x1 && y > y0 && y < y1) expected.add(i % N_TOKENS);
    });
    expect(expected.size).toBeGreaterThan(0);
    pointer(right, 'pointerdown', x0, y0, { shiftKey: true });
    for (const [x, y] of [[x1, y0], [x1, y1], [x0, y1]]) pointer(right, 'pointermove', x, y, { shiftKey: true, buttons: 1 });
    pointer(right, 'pointerup', x0, y1 - 1, { shiftKey: true });
    const rows = [...expected].sort((a, b) => a - b);
    // Points within a pixel of the outline may go either way: compare loosely at the edge.
    expect(selected(model).length).toBeGreaterThan(0);
    expect(selected(model).filter((row) => !expected.has(row)).length).toBeLessThanOrEqual(2);
    expect(rows.filter((row) => !selected(model).includes(row)).length).toBeLessThanOrEqual(2);
    expect(highlightedRows(left)).toEqual(selected(model));
    expect(highlightedRows(right)).toEqual(selected(model));
  }, VIEW_TIMEOUT);

  it('a selection set from the model side (viz.select) and a search show in both panels', async () => {
    const { model, left, right } = await mounted();
    model.set('_selected_rows', encodeRows([3, 17]));
    expect(highlightedRows(left)).toEqual([3, 17]);
    expect(highlightedRows(right)).toEqual([3, 17]);
    model.set('_selected_rows', null);
    model.set('search', 'cat1');
    // "cat1" matches " cat1" exactly (trimmed), not " cat11" / " cat21".
    expect(highlightedRows(left)).toEqual([1]);
    expect(highlightedRows(right)).toEqual([1]);
    expect(right.querySelector('.av-compare-status')!.textContent).toContain('1 match "cat1"');
  }, VIEW_TIMEOUT);

  it('clicking a query draws its top-k attention lines in the panel clicked', async () => {
    const { model, left } = await mounted();
    const row = isolatedQuery(left);
    const [x, y] = left.attentionviz.canvasPosition(row);
    pointer(left, 'pointerdown', x, y);
    pointer(left, 'pointerup', x, y);
    expect(selected(model)).toEqual([row]);
    // Row `row` attends within its sentence: top_k = 3 keys at most, at least one.
    const lines = Number(left.dataset.lines);
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThanOrEqual(3);
  }, VIEW_TIMEOUT);

  it("the panels' pickers set head and compare_head; Escape goes back to the single head", async () => {
    const { model, root, left, right } = await mounted();
    const [rightLayer, rightHead] = [...right.querySelectorAll<HTMLSelectElement>('.av-compare-header select')];
    rightLayer.value = '0';
    rightLayer.dispatchEvent(new Event('change'));
    expect(model.get('compare_head')).toEqual([0, 2]);
    rightHead.value = '1';
    rightHead.dispatchEvent(new Event('change'));
    expect(model.get('compare_head')).toEqual([0, 1]);
    await waitFor(() => right.dataset.layer === '0' && right.dataset.head === '1', 'the right panel showing L0 H1');
    expect(right.querySelector('.av-compare-title')!.textContent).toBe('L0 H1');

    const leftHead = left.querySelectorAll<HTMLSelectElement>('.av-compare-header select')[1];
    leftHead.value = '2';
    leftHead.dispatchEvent(new Event('change'));
    expect(model.get('head')).toEqual([0, 2]);
    await waitFor(() => left.dataset.head === '2', 'the left panel showing L0 H2 (fetched by the host)');

    root.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(model.get('view')).toBe('head');
    // The panels and their WebGL contexts are freed while the compare view is hidden.
    expect(root.querySelectorAll('.av-compare-panel').length).toBe(0);
    await waitFor(() => root.dataset.ready === 'true' && root.dataset.head === '2', 'the single-head view');
  }, VIEW_TIMEOUT);

  it('the Compare button in the head view opens the next head of the layer; Back returns', async () => {
    const { model, root } = mountedView({ view: 'head', head: [1, 2], compare_head: [0, 0] });
    await waitFor(() => root.dataset.ready === 'true', 'the single-head view');
    const button = (name: string): HTMLButtonElement => root.querySelector<HTMLButtonElement>(`button[data-control="${name}"]`)!;
    expect(button('compare').style.display).toBe('');
    expect(button('back').style.display).toBe('none');
    button('compare').click();
    expect(model.get('view')).toBe('compare');
    expect(model.get('compare_head')).toEqual([1, 0]); // head 2 is the last: wraps to head 0
    const [left, right] = await panelsReady(root);
    expect([left.dataset.head, right.dataset.head]).toEqual(['2', '0']);
    expect(button('compare').style.display).toBe('none');
    button('back').click();
    expect(model.get('view')).toBe('head');
  }, VIEW_TIMEOUT);

  it('with UMAP both panels get their UMAP layout (neither panel cancels the other one)', async () => {
    const { left, right } = await mounted({ projection: 'umap' });
    await waitFor(() => left.attentionviz.shownMethod() === 'umap' && right.attentionviz.shownMethod() === 'umap', 'UMAP in both panels', VIEW_TIMEOUT - 5000);
    expect([left.dataset.method, right.dataset.method]).toEqual(['umap', 'umap']);
  }, VIEW_TIMEOUT);

  it('viz.save in the compare view draws both panels side by side: a PNG as wide as both, an SVG with both heads', async () => {
    const { channel, left, right } = await mounted();
    // The kernel's viz.save: export requests on the model's channel, answered with the bytes.
    const [png, svg] = await Promise.all([channel.request('export', { format: 'png', scale: 2 }), channel.request('export', { format: 'svg', scale: 1 })]);
    expect([png.result.format, svg.result.format]).toEqual(['png', 'svg']);
    const widths = [left, right].map((panel) => Math.round(plotOf(panel).getBoundingClientRect().width));
    // PNG header: width and height are big-endian uint32 at bytes 16 and 20.
    const header = png.buffers[0];
    expect(header.getUint32(16)).toBe(2 * widths[0] + 2 * widths[1]);
    expect(header.getUint32(20)).toBe(2 * Math.round(plotOf(left).getBoundingClientRect().height));
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(svg.buffers[0]), 'image/svg+xml');
    const figures = [...doc.querySelectorAll('g.figure')];
    expect(figures.length).toBe(2);
    expect(figures.map((figure) => figure.querySelector('.title')?.textContent)).toEqual([
      jasmine.stringMatching(/layer 0 head 0/),
      jasmine.stringMatching(/layer 1 head 2/),
    ]);
    expect(figures[1].getAttribute('transform')).toBe(`translate(${widths[0]} 0)`);
    // Every query and key of each head is a circle in its own panel.
    expect(figures.map((figure) => figure.querySelectorAll('circle[fill-opacity]').length)).toEqual([2 * N_TOKENS, 2 * N_TOKENS]);
  }, VIEW_TIMEOUT);

  it('with another model (compare_to) the right panel shows its heads, pickers, name and causal attention', async () => {
    const asked: Array<[number, number]> = [];
    // The other model: 1 layer x 5 heads over the same tokens, causal, its own Q/K.
    const otherHead = (layer: number, head: number): HostedHead => {
      asked.push([layer, head]);
      const found = fakeHead(7 + layer, head); // other numbers than any head of the main capture
      return { ...found, meta: { ...found.meta, layer, head } };
    };
    const { model, left, right } = await mounted(
      {
        model_name: 'main-model',
        compare_head: [0, 4],
        _compare: { model_name: 'other-model', n_layers: 1, n_heads: 5, scale: 0.5, mask: 'causal', capture_id: 'other' },
      },
      otherHead,
    );
    expect(asked).toEqual([[0, 4]]);
    expect([right.dataset.layer, right.dataset.head]).toEqual(['0', '4']);
    expect(right.querySelector('.av-compare-title')!.textContent).toBe('other-model · L0 H4');
    expect(left.querySelector('.av-compare-title')!.textContent).toBe('main-model · L0 H0');
    const options = (panel: Panel): number[] => [...panel.querySelectorAll<HTMLSelectElement>('.av-compare-header select')].map((picker) => picker.options.length);
    expect(options(right)).toEqual([1, 5]);
    expect(options(left)).toEqual([2, 3]);
    expect(right.attentionviz.pointCount()).toBe(2 * N_TOKENS);
    // Its points are its own head's: not the left panel's layout.
    const far = positions(left).some(([x, y], i) => Math.hypot(x - positions(right)[i][0], y - positions(right)[i][1]) > 5);
    expect(far).toBeTrue();
    // Selecting the first token of a sentence: bidirectional on the left (top_k = 3 keys),
    // causal on the right (the first token sees only itself).
    model.set('_selected_rows', encodeRows([TOKENS_PER_SEQ]));
    await waitFor(() => left.dataset.lines === '3' && right.dataset.lines === '1', 'lines by each capture\'s mask');
  }, VIEW_TIMEOUT);

  it("with another model (compare_to) the matrix view's model picker shows that model's heads; a click opens one beside head", async () => {
    const asked: Array<[number, number]> = [];
    const otherHead = (layer: number, head: number): HostedHead => {
      asked.push([layer, head]);
      const found = fakeHead(7 + layer, head);
      return { ...found, meta: { ...found.meta, layer, head } };
    };
    const other = { model_name: 'other-model', n_layers: 1, n_heads: 5, scale: 0.5, mask: 'causal' as const, capture_id: 'other' };
    const { model, root } = mountedView({ view: 'matrix', model_name: 'main-model', _compare: other }, otherHead);
    const picker = root.querySelector<HTMLElement>('[data-control="model"]')!;
    const select = picker.querySelector('select')!;
    await waitFor(() => root.dataset.matrixPca === '6', "this capture's 2 x 3 heads");
    expect(picker.style.display).toBe('');
    expect([...select.options].map((option) => [option.value, option.textContent])).toEqual([['capture', 'main-model'], ['compare', 'other-model']]);
    expect(asked).toEqual([]);
    select.value = 'compare';
    select.dispatchEvent(new Event('change'));
    expect(model.get('matrix_source')).toBe('compare');
    await waitFor(() => root.dataset.matrixPca === '5', "the other model's 1 x 5 heads");
    const cells = [...root.querySelectorAll<HTMLElement>('.av-cell')];
    expect(cells.map((cell) => `${cell.dataset.layer},${cell.dataset.head}`)).toEqual(['0,0', '0,1', '0,2', '0,3', '0,4']);
    expect(asked.map(String).sort()).toEqual(['0,0', '0,1', '0,2', '0,3', '0,4']);
    expect(root.querySelector<HTMLElement>('.av-matrix-grid')!.style.gridTemplateColumns).toMatch(/^repeat\(5, /);
    // A cell of the other model opens the compare view with it on the right, head unchanged.
    cells[3].click();
    expect(model.get('view')).toBe('compare');
    expect(model.get('compare_head')).toEqual([0, 3]);
    expect(model.get('head')).toEqual([0, 0]);
    const [, right] = await panelsReady(root);
    expect(right.querySelector('.av-compare-title')!.textContent).toBe('other-model · L0 H3');
    expect(picker.style.display).toBe('none'); // the picker belongs to the matrix view
  }, VIEW_TIMEOUT);

  it('without another model there is no model picker', async () => {
    const { root } = mountedView({ view: 'matrix' });
    await waitFor(() => root.dataset.matrixPca === '6', 'the 2 x 3 heads');
    expect(root.querySelector<HTMLElement>('[data-control="model"]')!.style.display).toBe('none');
  }, VIEW_TIMEOUT);

  it('a missing or out-of-range compare_head (older saved state) falls back to the next head', async () => {
    const { right } = await mounted({ compare_head: [7, 7] });
    expect([right.dataset.layer, right.dataset.head]).toEqual(['0', '1']);
  }, VIEW_TIMEOUT);
});
