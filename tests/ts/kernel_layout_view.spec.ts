/**
 * Kernel-side layouts in the view (layout_backend "kernel"): PCA shows first with a
 * "computing in kernel" status, then the `_layout` the host sends replaces it, only
 * when it describes the head and parameters on screen. Also point size by norm.
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { MemoryModel, mountView } from '../../src/index';
import { DEFAULT_TRAITS, type KernelLayoutMeta, type ViewTraits } from '../../src/model/traits';
import type { ViewHandle } from '../../src/view';
import { gaussian, mulberry32, waitFor } from './helpers';

const N = 24;
const D = 8;
type ViewRoot = HTMLElement & { attentionviz: ViewHandle; dataset: DOMStringMap };

function view(values: Float32Array): DataView {
  return new DataView(values.buffer, values.byteOffset, values.byteLength);
}

function state(overrides: Partial<ViewTraits>): ViewTraits {
  const normal = gaussian(mulberry32(3));
  const table = tableToIPC(
    tableFromArrays({ text: Array.from({ length: N }, (_, i) => `t${i}`), seq: Int32Array.from({ length: N }, (_, i) => Math.floor(i / 8)) }),
    'stream',
  );
  return {
    ...DEFAULT_TRAITS,
    view: 'head',
    head: [1, 0],
    n_layers: 2,
    n_heads: 2,
    projection: 'umap',
    top_k: 3,
    scale: 0.35,
    _capture_id: 'kernel-layout-spec',
    theme: 'light',
    model_name: 'kernel layout spec',
    _tokens: new DataView(table.buffer, table.byteOffset, table.byteLength),
    _queries: view(Float32Array.from({ length: N * D }, () => normal())),
    _keys: view(Float32Array.from({ length: N * D }, () => 2 + normal())),
    _qk_meta: { layer: 1, head: 0, n_tokens: N, d_head: D, dtype: 'float32' },
    layout_backend: 'kernel',
    ...overrides,
  };
}

/** A layout whose x grows with the point index: point 2N-1 is rightmost. */
function rampLayout(): Float32Array {
  return Float32Array.from({ length: 2 * N * 2 }, (_, i) => (i % 2 === 0 ? i / 2 : Math.sin(i)));
}

describe('view with layout_backend "kernel"', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    document.querySelectorAll('.kernel-spec').forEach((el) => el.remove());
  });

  async function mount(overrides: Partial<ViewTraits> = {}): Promise<{ model: MemoryModel<ViewTraits>; root: ViewRoot }> {
    const model = new MemoryModel<ViewTraits>(state(overrides));
    const el = document.createElement('div');
    el.className = 'kernel-spec';
    el.style.cssText = 'width: 600px; height: 400px; position: relative;';
    document.body.append(el);
    cleanups.push(mountView(model, el));
    const root = await waitFor(() => el.querySelector<ViewRoot>('.attentionviz[data-ready="true"]'), 'a ready view', 20000);
    return { model, root };
  }

  it('shows PCA while the kernel computes, then the kernel layout', async () => {
    const { model, root } = await mount();
    expect(root.dataset.method).toBe('pca');
    await waitFor(() => root.querySelector('.av-status')?.textContent?.includes('computing UMAP in kernel'), 'the kernel status', 20000);
    // A layout for another head is not this one.
    const meta: KernelLayoutMeta = { layer: 0, head: 0, method: 'umap', dims: 2, normalize: true, n_points: 2 * N };
    model.set('_layout', view(rampLayout()));
    model.set('_layout_meta', meta);
    expect(root.dataset.method).toBe('pca');
    model.set('_layout_meta', { ...meta, layer: 1 });
    await waitFor(() => root.dataset.method === 'umap', 'the kernel layout on screen', 20000);
    expect(root.dataset.layoutSource).toBe('kernel');
    const handle = root.attentionviz;
    const xs = Array.from({ length: 2 * N }, (_, i) => handle.canvasPosition(i)[0]);
    for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
  });

  it('ignores a kernel layout of the wrong size or for other parameters', async () => {
    const { model, root } = await mount();
    const meta: KernelLayoutMeta = { layer: 1, head: 0, method: 'umap', dims: 2, normalize: false, n_points: 2 * N };
    model.set('_layout', view(rampLayout()));
    model.set('_layout_meta', meta); // normalization differs from the view's
    expect(root.dataset.method).toBe('pca');
    model.set('_layout_meta', { ...meta, normalize: true, n_points: 2 * N - 2 });
    expect(root.dataset.method).toBe('pca');
    await waitFor(() => root.querySelector('.av-notice')?.textContent?.includes('points'), 'a notice about the size', 20000);
  });

  it('sizes points by norm on request without losing the layout', async () => {
    const { model, root } = await mount({ layout_backend: 'browser', projection: 'pca' });
    const before = root.attentionviz.canvasPosition(5);
    model.set('size_by', 'norm');
    expect(root.attentionviz.canvasPosition(5)).toEqual(before);
    expect(root.querySelector<HTMLSelectElement>('[data-control="size"] select')?.value).toBe('norm');
    expect(root.dataset.layoutSource).toBe('browser');
  });
});
