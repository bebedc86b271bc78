/**
 * The matrix view at LLM scale: the grid fits the width at 32 and 64 heads per layer, the
 * zoom goes from the whole grid to one head (control and ctrl+wheel), thumbnails drawn
 * from the host's `thumbnails` reply (no Q/K before the first picture), and closing the
 * view mid-fill stops the work (no request, no worker job, workers terminated).
 */
import { hostModel, mountHost, type HostedHead } from '../../src/host';
import type { ViewTraits } from '../../src/model/traits';
import { decodeThumbnails } from '../../src/model/thumbnails';
import { mountView } from '../../src/view';
import { anchoredScroll, canvasSide, fitPitch, labelStride, maxZoom, pitchAt, thumbnailTokens } from '../../src/views/matrix/sizing';
import { gaussian, mulberry32, tokenTable, waitFor } from './helpers';

const D_HEAD = 8;
const TOKENS_PER_SEQ = 16;
const N_TOKENS = 64;

function fakeHead(layer: number, head: number, rows?: number): HostedHead {
  const normal = gaussian(mulberry32(5 + 131 * layer + head));
  const n = rows && rows < N_TOKENS ? rows : N_TOKENS;
  const queries = Float32Array.from({ length: n * D_HEAD }, () => normal());
  const keys = Float32Array.from({ length: n * D_HEAD }, () => 1 + normal());
  return { queries: new DataView(queries.buffer), keys: new DataView(keys.buffer), meta: { layer, head, n_tokens: n, d_head: D_HEAD, dtype: 'float32' } };
}

function traits(nLayers: number, nHeads: number, extra: Partial<ViewTraits> = {}): Partial<ViewTraits> & Pick<ViewTraits, 'n_layers' | 'n_heads' | '_tokens'> {
  return { n_layers: nLayers, n_heads: nHeads, _tokens: tokenTable(N_TOKENS, TOKENS_PER_SEQ, (i) => `w${i % 7}`), view: 'matrix', head: [0, 0], scale: 1 / Math.sqrt(D_HEAD), projection: 'pca', ...extra };
}

function container(width: number): HTMLElement {
  const el = document.createElement('div');
  el.style.width = `${width}px`;
  document.body.append(el);
  return el;
}

describe('matrix grid sizing (pure)', () => {
  it('fits 32 and 64 heads in the width, and zooms to one head as wide as the grid', () => {
    for (const heads of [12, 32, 64]) {
      const available = 1200;
      const pitch = fitPitch(available, heads);
      expect(pitch * heads).withContext(`${heads} heads`).toBeLessThanOrEqual(available);
      expect(canvasSide(pitch)).toBeGreaterThan(0);
      expect(pitchAt(available, heads, 1)).toBe(pitch);
      expect(pitchAt(available, heads, maxZoom(available, heads))).toBe(available);
      expect(pitchAt(available, heads, 1e9)).toBe(available); // clamped
    }
    expect(fitPitch(1200, 64)).toBe(18);
    // The point under the pointer stays put: content at 100 + 50 = 150 px doubles to 300.
    expect(anchoredScroll(100, 50, 10, 20)).toBe(250);
    expect([labelStride(40), labelStride(18), labelStride(6)]).toEqual([1, 2, 4]);
    expect(thumbnailTokens(72)).toBe(1500);
    expect(thumbnailTokens(512)).toBeLessThan(1500);
    expect(thumbnailTokens(100000)).toBe(256);
  });
});

describe('matrix grid in the page', () => {
  let cleanup: (() => void) | null = null;
  afterEach(() => cleanup?.());

  it('has no horizontal scrollbar at 64 heads per layer at 1,280 px, and zooms to one head (control and ctrl+wheel)', async () => {
    const el = container(1280);
    const unmount = mountHost(el, { traits: traits(3, 64, { _capture_id: 'scale-fit' }), qkFor: fakeHead });
    cleanup = () => (unmount(), el.remove());
    const root = await waitFor(() => el.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
    await waitFor(() => root.dataset.matrixPca === String(3 * 64) || null, 'every thumbnail');
    const scroller = root.querySelector<HTMLElement>('.av-matrix-scroll')!;
    const matrix = root.querySelector<HTMLElement>('.av-matrix')!;
    expect(scroller.scrollWidth).withContext('grid width vs its box').toBeLessThanOrEqual(scroller.clientWidth);
    const cells = [...root.querySelectorAll<HTMLElement>('.av-cell')];
    expect(cells.length).toBe(192);
    const rightmost = Math.max(...cells.map((c) => c.getBoundingClientRect().right));
    expect(rightmost).toBeLessThanOrEqual(scroller.getBoundingClientRect().right);
    // Axis labels name the layers and heads; cells are too small for captions.
    expect(matrix.classList.contains('av-matrix-small')).toBeTrue();
    expect(root.querySelector('.av-matrix-layers')!.textContent).toContain('L2');
    expect(root.querySelector('.av-matrix-heads')!.textContent).toContain('H0');
    const fit = Number(matrix.dataset.pitch);
    // ctrl+wheel (a pinch) zooms in at the pointer.
    const box = scroller.getBoundingClientRect();
    scroller.dispatchEvent(new WheelEvent('wheel', { deltaY: -300, ctrlKey: true, clientX: box.left + 100, clientY: box.top + 20, bubbles: true, cancelable: true }));
    expect(Number(matrix.dataset.pitch)).toBeGreaterThan(fit);
    // The slider's far end: one head as wide as the grid, drawn at that size.
    const slider = root.querySelector<HTMLInputElement>('.av-matrix-zoom-slider')!;
    slider.value = slider.max;
    slider.dispatchEvent(new Event('input'));
    const pitch = Number(matrix.dataset.pitch);
    expect(pitch).toBeGreaterThan(1000);
    scroller.scrollLeft = 0;
    scroller.scrollTop = 0;
    const canvas = await waitFor(() => {
      const c = cells[0].querySelector('canvas')!;
      return c.width > 900 ? c : null;
    }, 'the first cell drawn at full size');
    expect(canvas.width).toBe(canvasSide(pitch));
    // Back to fit: off-screen canvases gave up their pixels, the grid fits again.
    root.querySelector<HTMLButtonElement>('.av-matrix-zoom-button:nth-of-type(3)')!.click();
    expect(Number(matrix.dataset.pitch)).toBe(fit);
    // Opening a head still works from the zoomed grid.
    cells[5].click();
    await waitFor(() => (root.dataset.view === 'head' && root.dataset.head === '5') || null, 'head (0, 5) open');
  }, 60000);
});

describe('kernel thumbnails', () => {
  let cleanup: (() => void) | null = null;
  afterEach(() => cleanup?.());

  it('decodes one float32 layout per head and refuses a buffer of the wrong size', () => {
    const values = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => i);
    const batch = decodeThumbnails({ heads: [[0, 1], [2, 3]], n_tokens: 3 }, new DataView(values.buffer));
    expect(batch.heads).toEqual([[0, 1], [2, 3]]);
    expect(Array.from(batch.positions[1])).toEqual(Array.from(values.slice(12)));
    expect(() => decodeThumbnails({ heads: [[0, 1], [2, 3]], n_tokens: 4 }, new DataView(values.buffer))).toThrowError(/expected 2 heads/);
  });

  it('draws every head from the host thumbnails before asking for any Q/K', async () => {
    const el = container(900);
    const asked: string[] = [];
    const host = hostModel({
      traits: traits(2, 4, { _capture_id: 'scale-kernel' }),
      qkFor: (layer, head, rows) => {
        if (rows !== undefined) asked.push(`qk ${layer},${head}`); // the matrix's (the shown head's own Q/K come without rows)
        return fakeHead(layer, head, rows);
      },
    });
    host.channel.handle('thumbnails', ({ heads, rows }) => {
      asked.push(`thumbnails ${heads.length}`);
      // Each head a diagonal line: every point at (i, i).
      const data = new Float32Array(heads.length * 4 * rows);
      for (let i = 0; i < data.length; i += 2) data[i] = data[i + 1] = (i / 2) % (2 * rows);
      return { result: { heads, n_tokens: rows }, buffers: [new DataView(data.buffer)] };
    });
    const unmount = mountView(host.model, el);
    cleanup = () => (unmount(), host.dispose(), el.remove());
    const root = await waitFor(() => el.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
    await waitFor(() => root.dataset.matrixStats === '8' || null, 'every head summary');
    expect(root.dataset.matrixKernel).toBe('true');
    expect(asked[0]).toBe('thumbnails 8');
    expect(asked.filter((a) => a.startsWith('qk')).length).toBe(8); // the numbers, after the pictures
    // The picture is the host's: a diagonal (top-left and bottom-right pixels coloured, the others not).
    const canvas = root.querySelector<HTMLCanvasElement>('.av-cell canvas')!;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const at = (x: number, y: number): number => pixels[4 * (y * canvas.width + x)] + pixels[4 * (y * canvas.width + x) + 1];
    const side = canvas.width;
    const background = at(side - 3, 3); // top right: off the diagonal
    expect(at(5, side - 5)).not.toBe(background); // bottom left (y up): the line's start
    expect(at(3, 3)).toBe(background);
  }, 30000);
});

describe('closing the matrix view mid-fill', () => {
  it('stops asking for heads, posts no more worker jobs and terminates the workers', async () => {
    const el = container(900);
    let requests = 0;
    let posted = 0;
    let terminated = 0;
    const created: Worker[] = [];
    const native = { post: Worker.prototype.postMessage, terminate: Worker.prototype.terminate };
    Worker.prototype.postMessage = function (this: Worker, ...args: unknown[]) {
      if (!created.includes(this)) created.push(this);
      posted++;
      return (native.post as (...a: unknown[]) => void).apply(this, args);
    } as typeof native.post;
    Worker.prototype.terminate = function (this: Worker) {
      terminated++;
      return native.terminate.apply(this);
    };
    try {
      const unmount = mountHost(el, {
        traits: traits(6, 8, { projection: 'umap', _capture_id: 'scale-close' }),
        qkFor: (layer, head, rows) => {
          requests++;
          return fakeHead(layer, head, rows);
        },
      });
      const root = await waitFor(() => el.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
      await waitFor(() => (root.dataset.matrixPca === '48' && posted > 0) || null, 'the UMAP phase under way', 60000);
      expect(Number(root.dataset.matrixDone)).toBeLessThan(48);
      unmount();
      el.remove();
      const [requestsAtClose, postedAtClose] = [requests, posted];
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(requests).withContext('Q/K requests after close').toBe(requestsAtClose);
      expect(posted).withContext('worker jobs after close').toBe(postedAtClose);
      expect(terminated).withContext('workers terminated').toBeGreaterThanOrEqual(created.length);
      expect(created.length).toBeGreaterThan(0);
    } finally {
      Worker.prototype.postMessage = native.post;
      Worker.prototype.terminate = native.terminate;
    }
  }, 90000);
});

describe('search in the matrix view', () => {
  it('counts the matching tokens of the thumbnails and marks them in every cell', async () => {
    const el = container(900);
    const host = hostModel({ traits: traits(1, 2, { _capture_id: 'scale-search' }), qkFor: fakeHead });
    const unmount = mountView(host.model, el);
    try {
      const root = await waitFor(() => el.querySelector<HTMLElement>('[data-testid="attentionviz"]'), 'the view root');
      await waitFor(() => root.dataset.matrixPca === '2' || null, 'both thumbnails');
      const canvas = root.querySelector<HTMLCanvasElement>('.av-cell canvas')!;
      const before = canvas.toDataURL();
      host.model.set('search', 'w3');
      const matrix = root.querySelector<HTMLElement>('.av-matrix')!;
      // Tokens w0..w6 repeat: rows 3, 10, ..., 59 read "w3" (9 of the 64).
      expect(matrix.dataset.searchMatches).toBe('9');
      expect(root.querySelector('.av-matrix-note')!.textContent).toContain('9 tokens match "w3"');
      expect(canvas.toDataURL()).withContext('the thumbnail redrawn with its matches marked').not.toBe(before);
      host.model.set('search', '');
      expect(matrix.dataset.searchMatches).toBe('');
      expect(canvas.toDataURL()).toBe(before);
    } finally {
      unmount();
      host.dispose();
      el.remove();
    }
  }, 30000);
});
