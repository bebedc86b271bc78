/**
 * The matrix view: every layer x head as a thumbnail of its joint Q/K layout, filling
 * in as layouts finish (PCA first, then the chosen method), with per-head summary
 * numbers and an order by them. Click a cell to open that head. With another model's
 * capture (`_compare`), `matrix_source` = 'compare' shows that model's heads; a click
 * then opens the compare view with the clicked head in the right panel.
 */
import { jointLayout } from '../layout/joint';
import { CancelledError } from '../layout/pool';
import { isThumbnailPriority, thumbnailPriority } from '../layout/service';
import type { LayoutMethod } from '../layout/types';
import { headStats, type HeadStats } from '../compute/stats';
import { checkPngScale, composeGridPng } from '../export/png';
import type { HeadQK, QKSourceName } from '../model/qk_source';
import { drawThumbnail, type MarkedPoints } from '../render/thumbnail';
import { h } from '../ui/dom';
import { pointColors } from './coloring';
import type { Theme } from '../ui/theme';
import type { ViewContext } from './context';

interface Cell {
  layer: number;
  head: number;
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  caption: HTMLElement;
  stats: HeadStats | null;
  /** The head's Q/K over the thumbnail's token sample, and its layout. */
  qk: HeadQK | null;
  positions: Float32Array | null;
  method: string;
}

/** What a thumbnail draws: its layout, plus any typed-in tokens placed into it. */
interface Drawn {
  positions: Float32Array;
  rgb: Float32Array;
  marks: MarkedPoints | null;
  added: number;
}

/** Q/K requests in flight at once: enough to keep workers busy, few enough to stay responsive. */
const FETCH_CONCURRENCY = 2;
/**
 * Thumbnails lay out at most this many tokens per head: the first whole sequences
 * (token rows are ordered by sequence). A 100 px thumbnail gains nothing from more,
 * and UMAP of every head of a large capture would take minutes. Opening a head lays
 * out all of its tokens.
 */
export const THUMBNAIL_TOKENS = 1500;

/**
 * UMAP epochs of a thumbnail: the count umap-js (and umap.ts's default) uses for large
 * data (above 7,500 points); at a thumbnail's ~3,000 points the default would be 400
 * (umap-learn: 500). A 100 px thumbnail loses nothing visible: trustworthiness (k = 10)
 * at 200 vs 500 epochs on real MiniLM Q/K differs by 0.0015 at most, about what two
 * 500-epoch seeds differ by (bench/view/micro.mjs, bench/results/view_micro.md), for
 * about half the time. Part of the layout's cache key (layoutKey), so the head view's
 * full layout (default epochs) is never taken for a thumbnail's or the reverse.
 */
export const THUMBNAIL_EPOCHS = 200;

const METHOD_LABELS: Record<string, string> = { umap: 'UMAP', tsne: 't-SNE' };

export class MatrixView {
  readonly element = h('div', { className: 'av-matrix' });
  private readonly grid = h('div', { className: 'av-matrix-grid' });
  private cells: Cell[] = [];
  private generation = 0;
  private thumbSize = 96;
  /** Point colours of the last (colour mode, point count, theme): the same for every cell. */
  private coloring: { key: string; theme: Theme; rgb: Float32Array } | null = null;
  /** The capture whose heads the cells show (fixed per start()). */
  private source: QKSourceName = 'capture';

  constructor(
    private readonly ctx: ViewContext,
    private readonly onOpen: (layer: number, head: number, source: QKSourceName) => void,
  ) {
    this.element.append(this.grid);
    this.grid.addEventListener('keydown', (event) => this.onKey(event));
  }

  /**
   * Arrow keys move the focus between cells as they are shown (rows of the grid), so the
   * matrix is keyboard-navigable; Enter or Space opens the focused cell (it is a button).
   */
  private onKey(event: KeyboardEvent): void {
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.columns(), ArrowDown: this.columns() };
    const shown = [...this.grid.children] as HTMLElement[];
    const at = shown.indexOf(document.activeElement as HTMLElement);
    if (!(event.key in step) || at < 0) return;
    const next = shown[at + step[event.key]];
    if (next) next.focus();
    event.preventDefault();
    event.stopPropagation(); // the view's own arrow keys step heads in the head view
  }

  private columns(): number {
    return this.ctx.captureInfo(this.source).nHeads;
  }

  /** (Re)build every cell and start computing layouts for the current settings. */
  start(): void {
    const generation = ++this.generation;
    this.coloring = null; // the token table may have changed
    this.source = this.ctx.model.get('matrix_source') === 'compare' && this.ctx.compareCapture() ? 'compare' : 'capture';
    const { nLayers, nHeads } = this.ctx.captureInfo(this.source);
    this.element.dataset.source = this.source;
    const available = Math.max(320, this.element.clientWidth || 900) - 40;
    this.thumbSize = Math.max(48, Math.min(120, Math.floor(available / nHeads) - 8));
    this.ctx.cancelLayouts((_key, priority) => isThumbnailPriority(priority));
    this.cells = [];
    for (let layer = 0; layer < nLayers; layer++) {
      for (let head = 0; head < nHeads; head++) {
        const canvas = h('canvas', { attrs: { width: String(this.thumbSize), height: String(this.thumbSize) } });
        const caption = h('div', { className: 'av-cell-caption' }, `L${layer} H${head}`);
        const element = h(
          'button',
          { className: 'av-cell av-cell-pending', title: `layer ${layer}, head ${head}: open`, attrs: { type: 'button', 'data-layer': String(layer), 'data-head': String(head) } },
          canvas,
          caption,
        );
        const source = this.source;
        element.addEventListener('click', () => this.onOpen(layer, head, source));
        this.cells.push({ layer, head, element, canvas, caption, stats: null, qk: null, positions: null, method: '' });
      }
    }
    this.arrange();
    for (const cell of this.cells) this.clear(cell);
    void this.fill(generation);
  }

  /** Cell order and grid shape follow `matrix_order`. */
  arrange(): void {
    const order = this.ctx.model.get('matrix_order');
    const sorted = [...this.cells];
    if (order !== 'index') sorted.sort((a, b) => (a.stats?.[order] ?? Infinity) - (b.stats?.[order] ?? Infinity));
    this.grid.style.gridTemplateColumns = `repeat(${this.columns()}, ${this.thumbSize + 6}px)`;
    this.grid.replaceChildren(...sorted.map((cell) => cell.element));
  }

  /** Redraw thumbnails with the current colours and theme. */
  redraw(): void {
    this.coloring = null;
    for (const cell of this.cells) this.draw(cell);
  }

  stop(): void {
    this.generation++;
    this.ctx.cancelLayouts((_key, priority) => isThumbnailPriority(priority));
  }

  dispose(): void {
    this.stop();
    this.element.remove();
  }

  /**
   * Phase 1 fetches every head and draws its PCA (on this thread: milliseconds per
   * head). Phase 2, once every PCA thumbnail is drawn, queues the chosen method for
   * every head in the worker pool (in cell order): posting them earlier would have two
   * workers compete with phase 1 for the cores. Then this thread computes the per-head
   * summary numbers (captions, and the order when sorted by them).
   */
  private async fill(generation: number): Promise<void> {
    const method = this.ctx.model.get('projection');
    const total = this.cells.length;
    const started = performance.now();
    let pcaDone = 0;
    let methodDone = 0;
    const report = (): void => {
      if (generation !== this.generation || this.ctx.model.get('view') !== 'matrix') return;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const tail = method === 'pca' ? '' : ` · ${METHOD_LABELS[method] ?? method} ${methodDone}/${total}`;
      this.ctx.setStatus(`${total} heads · PCA ${pcaDone}/${total}${tail} · ${seconds} s`);
      this.ctx.root.dataset.matrixPca = String(pcaDone);
      this.ctx.root.dataset.matrixDone = String(method === 'pca' ? pcaDone : methodDone);
    };
    report();
    const pcaParams = { ...this.ctx.layoutParams('pca'), dims: 2 as const };
    const params = { ...this.ctx.layoutParams(method), dims: 2 as const, ...(method === 'umap' ? { nEpochs: THUMBNAIL_EPOCHS } : {}) };
    // The sample: whole sequences from the start, up to THUMBNAIL_TOKENS tokens.
    const sequences: number[][] = [];
    let rows = 0;
    for (const sequence of this.ctx.tokens?.rowsBySeq.values() ?? []) {
      const end = Math.max(...sequence) + 1;
      if (sequences.length && end > THUMBNAIL_TOKENS) break;
      sequences.push(sequence);
      rows = Math.max(rows, end);
    }
    this.ctx.root.dataset.matrixTokens = String(rows);
    const source = this.source;
    const { causal, scale } = this.ctx.captureInfo(source);
    // Hosts answer with the first `rows` tokens only (see QKSource.fetch).
    await this.eachHead(generation, rows, async (cell, qk) => {
      const positions = this.ctx.cachedLayout(qk, pcaParams, source) ?? jointLayout(qk.queries, qk.keys, qk.nTokens, qk.dHead, pcaParams);
      if (generation !== this.generation) return;
      cell.qk = qk;
      this.set(cell, positions, 'pca');
      pcaDone++;
      report();
      await yieldToPage(); // let the page breathe between heads
    });
    if (generation !== this.generation) return;
    if (pcaDone === total) this.ctx.root.dataset.matrixPcaSeconds = ((performance.now() - started) / 1000).toFixed(2);
    // Phase 2, on every fetched head (its Q/K kept in the cell), in cell order: the
    // workers run the method layouts...
    const heads = this.cells.flatMap((cell) => (cell.qk ? [{ cell, qk: cell.qk }] : []));
    if (method !== 'pca') {
      for (const [index, { cell, qk }] of heads.entries()) {
        this.ctx
          .layout(qk, params, thumbnailPriority(index), undefined, source)
          .then((positions) => {
            if (generation !== this.generation) return;
            this.set(cell, positions, method);
            methodDone++;
            report();
            if (methodDone === total) this.ctx.root.dataset.matrixSeconds = ((performance.now() - started) / 1000).toFixed(2);
          })
          .catch(ignoreCancel);
      }
    }
    // ...while this thread adds the summary numbers (pictures first: they need the same thread).
    for (const { cell, qk } of heads) {
      if (generation !== this.generation) return;
      cell.stats = headStats(qk.queries, qk.keys, qk.nTokens, qk.dHead, sequences, scale, causal, this.ctx.hiddenKeys(this.ctx.tokens));
      this.caption(cell);
      await yieldToPage();
    }
    if (generation !== this.generation) return;
    this.ctx.root.dataset.matrixStats = String(heads.length);
    if (this.ctx.model.get('matrix_order') !== 'index') this.arrange();
  }

  /** Fetch every cell's Q/K (a few requests in flight) and hand each to `work`. */
  private async eachHead(generation: number, rows: number, work: (cell: Cell, qk: HeadQK) => Promise<void>): Promise<void> {
    const queue = [...this.cells];
    const next = async (): Promise<void> => {
      for (let cell = queue.shift(); cell; cell = queue.shift()) {
        if (generation !== this.generation) return;
        try {
          const qk = await this.ctx.qk.fetch(cell.layer, cell.head, rows || undefined, this.source);
          if (generation !== this.generation) return;
          await work(cell, qk);
        } catch (error) {
          cell.caption.textContent = `L${cell.layer} H${cell.head}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
    };
    await Promise.all(Array.from({ length: FETCH_CONCURRENCY }, next));
  }

  private set(cell: Cell, positions: Float32Array, method: string): void {
    cell.positions = positions;
    cell.method = method;
    cell.element.classList.remove('av-cell-pending');
    cell.element.dataset.method = method;
    this.draw(cell);
  }

  private caption(cell: Cell): void {
    const stats = cell.stats;
    const order = this.ctx.model.get('matrix_order');
    if (!stats) return;
    // The number the cells are sorted by (entropy when in layer x head order).
    const value = order === 'distance' ? `dist ${stats.distance.toFixed(2)}` : order === 'offset' ? `off ${stats.offset.toFixed(1)}` : `H ${stats.entropy.toFixed(2)}`;
    // Two lines under a small thumbnail ("L0 H3" over "H 2.31"); the text reads "L0 H3 · H 2.31".
    cell.caption.replaceChildren(h('span', {}, `L${cell.layer} H${cell.head}`), h('span', { className: 'av-cell-sep' }, ' · '), h('span', {}, value));
    const open = this.source === 'compare' ? 'click to open beside the shown head' : 'click to open';
    cell.element.title = `layer ${cell.layer}, head ${cell.head}\nattention entropy ${stats.entropy.toFixed(3)} nats\nquery-key centroid distance ${stats.distance.toFixed(3)}\nmean attended offset ${stats.offset.toFixed(2)} tokens\n${open}`;
  }

  private clear(cell: Cell): void {
    const context = cell.canvas.getContext('2d');
    if (!context) return;
    context.fillStyle = this.ctx.theme.background;
    context.fillRect(0, 0, cell.canvas.width, cell.canvas.height);
  }

  private draw(cell: Cell): void {
    const drawn = this.drawn(cell);
    if (!drawn) return this.clear(cell);
    drawThumbnail(cell.canvas, drawn.positions, 2, drawn.rgb, this.ctx.theme.background, 1, drawn.marks);
    cell.element.dataset.added = String(drawn.added);
  }

  /**
   * A cell's layout and colours; text typed into the view (this capture's model) is
   * placed into this capture's thumbnails as into the head view, and drawn ringed.
   */
  private drawn(cell: Cell): Drawn | null {
    if (!cell.positions) return null;
    const n = cell.positions.length / 4;
    const added = this.source === 'capture' ? this.ctx.added : null;
    const m = added?.count() ?? 0;
    if (added && m > 0 && cell.qk) {
      try {
        const params = { method: cell.method as LayoutMethod, dims: 2 as const, normalize: this.ctx.model.get('normalize') };
        const { positions, marked } = added.augment(cell.qk, cell.positions, params);
        return { positions, rgb: this.colors(n, m), marks: marked ? { marked, ring: this.ctx.theme.ring } : null, added: m };
      } catch {
        // A head the typed-text model does not fit (the head view says why): capture tokens only.
      }
    }
    return { positions: cell.positions, rgb: this.colors(n, 0), marks: null, added: 0 };
  }

  /**
   * Colours of the thumbnails' points, computed once for all cells: the first `n` tokens,
   * then (m > 0) the m typed-in rows, which follow the capture's rows in the token table;
   * queries first, then keys, as the layouts are.
   */
  private colors(n: number, m: number): Float32Array {
    const mode = this.ctx.model.get('color_by');
    const key = `${mode}|${n}|${m}`;
    const theme = this.ctx.theme;
    if (this.coloring?.key !== key || this.coloring.theme !== theme) {
      const table = m > 0 ? this.ctx.headTokens() : null;
      let rgb: Float32Array;
      if (!table) {
        rgb = pointColors(mode, this.ctx.tokens, n, theme).rgb;
      } else {
        const total = table.length; // capture rows, then the m typed-in ones
        const all = pointColors(mode, table, total, theme).rgb;
        rgb = new Float32Array(6 * (n + m));
        const rows = [...Array(n).keys(), ...Array.from({ length: m }, (_, i) => total - m + i)];
        rows.forEach((row, i) => {
          rgb.set(all.subarray(3 * row, 3 * row + 3), 3 * i); // query
          rgb.set(all.subarray(3 * (total + row), 3 * (total + row) + 3), 3 * (n + m + i)); // key
        });
      }
      this.coloring = { key, theme, rgb };
    }
    return this.coloring.rgb;
  }

  /**
   * The grid as shown (cells in their current order, with captions) at `scale` x the
   * thumbnails' size, as PNG; cells still waiting for a layout are left blank.
   */
  exportPng(scale: number): Promise<Blob> {
    checkPngScale(scale);
    if (!this.cells.some((cell) => cell.positions)) throw new Error('nothing to export yet: no head has a layout');
    const background = this.ctx.theme.background;
    const shown = [...this.grid.children].map((element) => this.cells.find((cell) => cell.element === element)!);
    const cells = shown.map((cell) => {
      const image = h('canvas', { attrs: { width: String(Math.round(this.thumbSize * scale)), height: String(Math.round(this.thumbSize * scale)) } });
      const drawn = this.drawn(cell);
      if (drawn) drawThumbnail(image, drawn.positions, 2, drawn.rgb, background, scale, drawn.marks);
      return { image, caption: cell.caption.textContent ?? '' };
    });
    const method = this.ctx.model.get('projection');
    const behind = method === 'pca' ? 0 : this.cells.filter((cell) => cell.method === 'pca').length;
    const { modelName, nLayers, nHeads } = this.ctx.captureInfo(this.source);
    const title = [
      modelName || 'attentionviz',
      `${nLayers} layers x ${nHeads} heads`,
      (METHOD_LABELS[method] ?? method.toUpperCase()) + (behind ? ` (${behind} heads still PCA)` : ''),
      `${this.ctx.root.dataset.matrixTokens ?? '?'} tokens`,
    ].join(' · ');
    return composeGridPng({ columns: nHeads, cellSize: this.thumbSize, cells, title, background, foreground: this.ctx.theme.foreground }, scale);
  }

  /** Re-caption every cell for the current order (stats are kept). */
  recaption(): void {
    for (const cell of this.cells) this.caption(cell);
  }
}

/**
 * Let the browser run its other tasks (input, timers, paint) before the next head: a
 * MessageChannel task, queued behind whatever is already waiting, as React's scheduler
 * does. Not setTimeout(0), which browsers clamp to 4 ms once nested (72 heads would
 * wait ~0.3 s for nothing), nor scheduler.yield(), whose continuation runs ahead of
 * waiting timers and starved them for the whole PCA phase.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function ignoreCancel(error: unknown): void {
  if (!(error instanceof CancelledError)) console.error(error);
}
