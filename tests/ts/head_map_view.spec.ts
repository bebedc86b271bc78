/**
 * The head map view on the kernel-free host: one point per head where the host's
 * `head-map` reply places it (copies of a head share its point, distinct heads do not),
 * hover names the head with its numbers and the heads at the same place, a click opens it,
 * `headmap_color` recolours; a reply that does not fit is refused naming the problem.
 */
import { hostModel, type HostedHead, type HostOptions } from '../../src/host';
import { decodeHeadMap, type HeadMapResult } from '../../src/model/head_map';
import type { MemoryModel } from '../../src/model/memory_model';
import type { ViewTraits } from '../../src/model/traits';
import { mountView } from '../../src/view';
import { gaussian, mulberry32, tokenTable, waitFor } from './helpers';

/** A DataView's bytes in an ArrayBuffer of their own (a Blob part must not be shared memory). */
const bytesOf = (view: DataView): Uint8Array<ArrayBuffer> => new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer);

const N_LAYERS = 2;
const N_HEADS = 3;
const N_TOKENS = 24;
const D_HEAD = 4;
/** Head 4 (L1 H1) is a copy of head 0 (L0 H0): the kernel gives it the same place. */
const COORDS = [0, 0, 1, 0, 0, 1, -1, -0.5, 0, 0, 0.6, 0.7];

function fakeHead(layer: number, head: number, rows?: number): HostedHead {
  const normal = gaussian(mulberry32(5 + 7 * layer + head));
  const n = rows && rows < N_TOKENS ? rows : N_TOKENS;
  const queries = Float32Array.from({ length: n * D_HEAD }, () => normal());
  const keys = Float32Array.from({ length: n * D_HEAD }, () => normal());
  return { queries: new DataView(queries.buffer), keys: new DataView(keys.buffer), meta: { layer, head, n_tokens: n, d_head: D_HEAD, dtype: 'float32' } };
}

const f32 = (values: number[]): DataView => new DataView(Float32Array.from(values).buffer);

function headMapReply(): { result: HeadMapResult; buffers: DataView[] } {
  const n = N_LAYERS * N_HEADS;
  const stats = Array.from({ length: n }, (_, i) => [0.5 + i, 0.1 * i, 2 + i]).flat();
  return {
    result: {
      n_layers: N_LAYERS, n_heads: N_HEADS, n_queries: 20, measure: 'hellinger', embedding: 'classical-mds', explained: [0.6, 0.3],
      stats: ['entropy', 'distance', 'offset'], nearest: [4, 0, 0, 1, 0, 1], nearest_distance: [0, 0.3, 0.3, 0.4, 0, 0.2],
    },
    buffers: [f32(COORDS), f32(stats)],
  };
}

describe('head map view', () => {
  let unmount: (() => void) | null = null;
  let el: HTMLElement | null = null;
  let model: MemoryModel<ViewTraits> | null = null;
  let channel: ReturnType<typeof hostModel>['channel'] | null = null;

  function mount(extra: Partial<HostOptions> = {}): HTMLElement {
    el = document.createElement('div');
    el.style.width = '800px';
    document.body.append(el);
    const host = hostModel({
      traits: { n_layers: N_LAYERS, n_heads: N_HEADS, _tokens: tokenTable(N_TOKENS, 8, (i) => `t${i}`), view: 'headmap', head: [0, 0], theme: 'light', _capture_id: 'headmap-spec' },
      qkFor: fakeHead,
      headMap: headMapReply,
      ...extra,
    });
    model = host.model;
    channel = host.channel;
    const unmountView = mountView(host.model, el);
    unmount = () => {
      unmountView();
      host.dispose();
    };
    return el.querySelector<HTMLElement>('[data-testid="attentionviz"]')!;
  }

  afterEach(() => {
    unmount?.();
    el?.remove();
    unmount = el = model = null;
  });

  const points = (): SVGCircleElement[] => [...el!.querySelectorAll<SVGCircleElement>('.av-headmap-point')];
  const at = (c: SVGCircleElement): string => `${c.getAttribute('cx')},${c.getAttribute('cy')}`;

  it('draws one point per head where the host puts it: the copy on its original, distinct heads apart', async () => {
    mount();
    await waitFor(() => points().length === N_LAYERS * N_HEADS, 'the head map points');
    const circles = points();
    expect(at(circles[4])).toBe(at(circles[0]));
    const places = new Set(circles.map(at));
    expect(places.size).toBe(N_LAYERS * N_HEADS - 1);
    // equal scales on both axes: (1, 0) and (0, 1) are as far from (0, 0) on screen
    const d = (a: SVGCircleElement, b: SVGCircleElement): number => Math.hypot(Number(a.getAttribute('cx')) - Number(b.getAttribute('cx')), Number(a.getAttribute('cy')) - Number(b.getAttribute('cy')));
    expect(d(circles[0], circles[1])).toBeCloseTo(d(circles[0], circles[2]), 1);
    expect(circles[1].dataset.layer).toBe('0');
    expect(circles[5].dataset.head).toBe('2');
  });

  it('hover shows the head, its numbers and who shares its place; a click opens the head', async () => {
    const root = mount();
    await waitFor(() => points().length > 0, 'the head map points');
    points()[0].dispatchEvent(new MouseEvent('mouseenter'));
    const tooltip = el!.querySelector<HTMLElement>('.av-headmap-tooltip')!;
    expect(tooltip.style.display).toBe('block');
    expect(tooltip.textContent).toContain('layer 0, head 0');
    expect(tooltip.textContent).toContain('entropy (nats): 0.500');
    expect(tooltip.textContent).toContain('same place: L1 H1');
    expect(tooltip.textContent).toContain('closest: L1 H1');
    await waitFor(() => tooltip.querySelector('canvas'), 'the thumbnail');
    // the lowest point's tooltip, thumbnail and all, stays inside the plot
    points()[3].dispatchEvent(new MouseEvent('mouseenter'));
    await waitFor(() => tooltip.querySelector('canvas'), 'its thumbnail');
    const plot = el!.querySelector('.av-headmap-plot')!.getBoundingClientRect();
    expect(tooltip.getBoundingClientRect().bottom).toBeLessThanOrEqual(plot.bottom + 1);
    points()[5].dispatchEvent(new MouseEvent('click'));
    await waitFor(() => root.dataset.view === 'head', 'the head view');
    expect(model!.get('head')).toEqual([1, 2]);
    expect(el!.querySelector<HTMLSelectElement>('[data-control="layer"] select')!.value).toBe('1');
    expect(el!.querySelector<HTMLSelectElement>('[data-control="head"] select')!.value).toBe('2');
  });

  it('headmap_color recolours by the chosen number; the legend names it', async () => {
    mount();
    await waitFor(() => points().length > 0, 'the head map points');
    const byLayer = points().map((c) => c.getAttribute('fill'));
    expect(byLayer[0]).toBe(byLayer[1]); // same layer, same colour
    const select = el!.querySelector<HTMLSelectElement>('[data-control="map colour"] select')!;
    select.value = 'entropy';
    select.dispatchEvent(new Event('change'));
    await waitFor(() => points()[0].getAttribute('fill') !== points()[1].getAttribute('fill'), 'colours by entropy');
    expect(el!.querySelector('.av-headmap-legend')!.textContent).toContain('entropy (nats) 0.50');
    expect(model!.get('headmap_color')).toBe('entropy');
  });

  it('wheel zooms (points keep their size on screen), a drag pans and is no click, double-click fits', async () => {
    const root = mount();
    await waitFor(() => points().length > 0, 'the head map points');
    const svg = el!.querySelector<SVGSVGElement>('.av-headmap-svg')!;
    const r0 = Number(points()[0].getAttribute('r'));
    const box = svg.getBoundingClientRect();
    svg.dispatchEvent(new WheelEvent('wheel', { deltaY: -300, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, cancelable: true }));
    const zoom = Number(svg.dataset.zoom);
    expect(zoom).toBeGreaterThan(2);
    // data-zoom is rounded to 3 decimals: the product is within 0.01 px of the radius
    expect(Number(points()[0].getAttribute('r')) * zoom).toBeCloseTo(r0, 1);
    const target = points()[5];
    const start = { clientX: box.left + 10, clientY: box.top + 10, bubbles: true };
    target.dispatchEvent(new PointerEvent('pointerdown', { ...start, buttons: 1 }));
    target.dispatchEvent(new PointerEvent('pointermove', { ...start, clientX: start.clientX + 40, buttons: 1 }));
    target.dispatchEvent(new PointerEvent('pointerup', { ...start, clientX: start.clientX + 40 }));
    target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(root.dataset.view).toBe('headmap');
    expect(svg.getAttribute('viewBox')!.split(' ')[0]).not.toBe('0');
    svg.dispatchEvent(new MouseEvent('dblclick'));
    expect(svg.dataset.zoom).toBe('1.000');
  });

  it("answers the host's export requests with the map as SVG and PNG", async () => {
    mount();
    await waitFor(() => points().length > 0, 'the head map points');
    const svg = await channel!.request('export', { format: 'svg', scale: 1 });
    const text = new TextDecoder().decode(svg.buffers[0]);
    expect((text.match(/<circle/g) ?? []).length).toBe(N_LAYERS * N_HEADS);
    const png = await channel!.request('export', { format: 'png', scale: 2 });
    const bytes = new Uint8Array(png.buffers[0].buffer, png.buffers[0].byteOffset, 8);
    expect([...bytes.subarray(1, 4)]).toEqual([80, 78, 71]); // "PNG"
    const image = await createImageBitmap(new Blob([bytesOf(png.buffers[0])]));
    expect(image.width).toBe(2 * Number(el!.querySelector('.av-headmap-svg')!.getAttribute('width')));
  });

  it('without a head map from the host the view says why', async () => {
    const root = mount({ headMap: undefined });
    await waitFor(() => root.dataset.headmap === 'error', 'the refusal');
    expect(el!.querySelector('.av-headmap-legend')!.textContent).toContain('computed by the kernel');
  });

  it('a reply whose buffers do not fit is refused naming the buffer', () => {
    const { result, buffers } = headMapReply();
    expect(() => decodeHeadMap(result, [f32([1, 2]), buffers[1]])).toThrowError(/coordinates buffer holds 8 bytes, 48 expected/);
    expect(() => decodeHeadMap({ ...result, n_layers: 0 }, buffers)).toThrowError(/no heads/);
  });
});
