/**
 * The matrix view's fill order on the kernel-free host: every PCA thumbnail is drawn
 * before any UMAP job reaches a worker (so the workers do not compete with the PCA
 * phase for the cores), and thumbnails run UMAP with THUMBNAIL_EPOCHS epochs.
 */
import { layoutKey, layoutKeyId } from '../../src/layout/key';
import { GRID_SPACING } from '../../src/export/png';
import { hostModel, mountHost, type HostOptions, type HostedHead } from '../../src/host';
import type { ViewTraits } from '../../src/model/traits';
import { mountView } from '../../src/view';
import { THUMBNAIL_EPOCHS } from '../../src/views/matrix';
import { gaussian, mulberry32, tokenTable, waitFor } from './helpers';

const N_TOKENS = 60;
const D_HEAD = 8;
const TOKENS_PER_SEQ = 12;
const N_LAYERS = 2;
const N_HEADS = 3;

function fakeHead(layer: number, head: number, rows?: number): HostedHead {
  const normal = gaussian(mulberry32(3 + 17 * layer + head));
  const n = rows && rows < N_TOKENS ? rows : N_TOKENS;
  const queries = Float32Array.from({ length: n * D_HEAD }, () => normal());
  const keys = Float32Array.from({ length: n * D_HEAD }, () => 2 + normal());
  return { queries: new DataView(queries.buffer), keys: new DataView(keys.buffer), meta: { layer, head, n_tokens: n, d_head: D_HEAD, dtype: 'float32' } };
}

/** The matrix view of N_LAYERS x N_HEADS fake heads, with `traits` on top. */
function matrixTraits(traits: Partial<ViewTraits>): HostOptions['traits'] {
  return {
    n_layers: N_LAYERS,
    n_heads: N_HEADS,
    _tokens: tokenTable(N_TOKENS, TOKENS_PER_SEQ, (i) => `w${i}`),
    view: 'matrix',
    head: [0, 0],
    scale: 1 / Math.sqrt(D_HEAD),
    ...traits,
  };
}

interface Posted {
  method: string;
  nEpochs: number | undefined;
  /** Thumbnails with their PCA drawn when the job was posted to a worker. */
  pcaDrawn: number;
}

describe('matrix view fill', () => {
  let restore: (() => void) | null = null;
  let unmount: (() => void) | null = null;
  let el: HTMLElement | null = null;

  afterEach(() => {
    unmount?.();
    el?.remove();
    restore?.();
    unmount = restore = el = null;
  });

  it('posts the UMAP jobs only after every PCA thumbnail, with THUMBNAIL_EPOCHS epochs, and fills every cell', async () => {
    const posted: Posted[] = [];
    const native = Worker.prototype.postMessage;
    const container = document.createElement('div');
    el = container;
    Worker.prototype.postMessage = function (this: Worker, ...args: unknown[]) {
      const job = args[0] as { params?: { method: string; nEpochs?: number } };
      if (job?.params) {
        const root = container.querySelector<HTMLElement>('[data-testid="attentionviz"]');
        posted.push({ method: job.params.method, nEpochs: job.params.nEpochs, pcaDrawn: Number(root?.dataset.matrixPca ?? 0) });
      }
      return (native as (...a: unknown[]) => void).apply(this, args);
    } as typeof native;
    restore = () => (Worker.prototype.postMessage = native);
    container.style.width = '800px';
    document.body.append(container);
    unmount = mountHost(container, {
      traits: matrixTraits({ projection: 'umap', mask: 'bidirectional', _capture_id: 'matrix-spec' }),
      qkFor: fakeHead,
    });
    const total = N_LAYERS * N_HEADS;
    const root = await waitFor(() => container.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
    await waitFor(() => root.dataset.matrixSeconds, 'every UMAP thumbnail', 120000);
    expect(root.dataset.matrixPcaSeconds).toBeDefined();
    expect(root.dataset.matrixDone).toBe(String(total));
    const thumbnails = posted.filter((job) => job.method === 'umap' && job.nEpochs === THUMBNAIL_EPOCHS);
    expect(thumbnails.length).toBe(total);
    for (const job of thumbnails) expect(job.pcaDrawn).withContext('PCA thumbnails drawn when a UMAP job was posted').toBe(total);
    const cells = [...root.querySelectorAll<HTMLElement>('.av-cell')];
    expect(cells.length).toBe(total);
    for (const cell of cells) expect(cell.dataset.method).toBe('umap');
    // The summary numbers follow the pictures: every caption gets its entropy.
    await waitFor(() => root.dataset.matrixStats === String(total), 'every head summary');
    for (const cell of cells) expect(cell.querySelector('.av-cell-caption')?.textContent).toMatch(/^L\d+ H\d+ · H \d+\.\d\d$/);
  }, 150000);
});

describe('matrix view keyboard', () => {
  it('arrow keys move the focus across the grid as shown, Enter opens the focused head', async () => {
    const container = document.createElement('div');
    container.style.width = '800px';
    document.body.append(container);
    const unmount = mountHost(container, { traits: matrixTraits({ projection: 'pca', _capture_id: 'matrix-keys' }), qkFor: fakeHead });
    try {
      const root = await waitFor(() => container.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
      await waitFor(() => root.dataset.matrixPca === String(N_LAYERS * N_HEADS) || null, 'every thumbnail');
      const cell = (layer: number, head: number): HTMLElement => root.querySelector<HTMLElement>(`.av-cell[data-layer="${layer}"][data-head="${head}"]`)!;
      const press = (key: string): void => void document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      const focused = (): string => `${(document.activeElement as HTMLElement).dataset.layer},${(document.activeElement as HTMLElement).dataset.head}`;
      cell(0, 0).focus();
      press('ArrowRight');
      expect(focused()).toBe('0,1');
      press('ArrowDown'); // one row = one layer's N_HEADS heads
      expect(focused()).toBe('1,1');
      press('ArrowDown'); // past the last row: stays
      expect(focused()).toBe('1,1');
      press('ArrowLeft');
      press('ArrowUp');
      expect(focused()).toBe('0,0');
      expect(root.dataset.view).toBe('matrix'); // arrows here do not step the head view's head
      cell(1, 2).focus();
      cell(1, 2).click(); // what Enter on a focused button does
      await waitFor(() => (root.dataset.view === 'head' && root.dataset.layer === '1' && root.dataset.head === '2') || null, 'head (1, 2) open');
    } finally {
      unmount();
      container.remove();
    }
  }, 30000);
});

describe('matrix view PNG export', () => {
  let cleanup: (() => void) | null = null;
  afterEach(() => cleanup?.());

  it('sorts by attended offset, and viz.save("matrix.png") draws every thumbnail in the grid with captions; SVG is refused', async () => {
    const container = document.createElement('div');
    container.style.width = '800px';
    document.body.append(container);
    const host = hostModel({
      traits: matrixTraits({ projection: 'pca', theme: 'light', model_name: 'tiny', _capture_id: 'matrix-export-spec' }),
      qkFor: fakeHead,
    });
    const unmount = mountView(host.model, container);
    cleanup = () => {
      unmount();
      host.dispose();
      container.remove();
    };
    const root = await waitFor(() => container.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
    await waitFor(() => root.dataset.matrixStats === String(N_LAYERS * N_HEADS), 'every thumbnail and caption');
    // Sorted by positional bias: captions name the offset, cells ascend by it.
    host.model.set('matrix_order', 'offset');
    const offsets = [...root.querySelectorAll('.av-cell-caption')].map((caption) => Number(/off (\d+\.\d)$/.exec(caption.textContent ?? '')?.[1]));
    expect(offsets.every(Number.isFinite)).withContext(`captions ${offsets}`).toBeTrue();
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBeGreaterThan(1); // the order is by a number that differs between heads
    // The kernel's viz.save on the matrix view: a PNG of the thumbnails; SVG refused by name.
    const svg = host.channel.request('export', { format: 'svg', scale: 1 });
    await expectAsync(svg).toBeRejectedWithError(/PNG only/);
    const png = await host.channel.request('export', { format: 'png', scale: 2 });
    expect(png.result.format).toBe('png');

    const cell = Number(root.querySelector('.av-cell canvas')!.getAttribute('width'));
    const { pad, caption, title } = GRID_SPACING;
    const image = await createImageBitmap(new Blob([png.buffers[0] as DataView<ArrayBuffer>], { type: 'image/png' }));
    expect([image.width, image.height]).toEqual([2 * (pad + N_HEADS * (cell + pad)), 2 * (title + N_LAYERS * (cell + caption + pad))]);
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [image.width, image.height];
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    // Every cell's square holds points (pixels off the white background).
    for (let layer = 0; layer < N_LAYERS; layer++) {
      for (let head = 0; head < N_HEADS; head++) {
        const x = 2 * (pad + head * (cell + pad));
        const y = 2 * (title + layer * (cell + caption + pad));
        const pixels = context.getImageData(x, y, 2 * cell, 2 * cell).data;
        let coloured = 0;
        for (let p = 0; p < pixels.length; p += 4) if (pixels[p] + pixels[p + 1] + pixels[p + 2] < 600) coloured++;
        expect(coloured).withContext(`cell L${layer} H${head}`).toBeGreaterThan(50);
      }
    }
  }, 60000);
});

describe('layoutKey and UMAP epochs', () => {
  it('keeps a thumbnail (THUMBNAIL_EPOCHS) apart from the default layout, and the default key unchanged', () => {
    const params = { method: 'umap' as const, dims: 2 as const, normalize: true, seed: 42 };
    const head = { layer: 1, head: 2, nTokens: 300 };
    const plain = layoutKeyId(layoutKey('cap', 'capture', head, params));
    // The default key does not depend on whether nEpochs is absent or undefined.
    expect(layoutKeyId(layoutKey('cap', 'capture', head, { ...params, nEpochs: undefined }))).toBe(plain);
    const thumbnailKey = layoutKey('cap', 'capture', head, { ...params, nEpochs: THUMBNAIL_EPOCHS });
    expect(thumbnailKey.epochs).toBe(THUMBNAIL_EPOCHS);
    const thumbnail = layoutKeyId(thumbnailKey);
    expect(thumbnail).not.toBe(plain);
    expect(layoutKeyId(layoutKey('cap', 'capture', head, { ...params, nEpochs: 500 }))).not.toBe(thumbnail);
  });
});
