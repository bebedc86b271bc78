/**
 * The matrix view: every layer x head as a thumbnail of its joint Q/K layout, filling
 * in as layouts finish (a first picture of every head, then the chosen method; see
 * matrix/fill.ts), with per-head summary numbers as captions, hover text and a colour
 * strip (a heatmap when cells are tiny), and an order by them. Cells fit every head of
 * a layer in the width; the zoom (matrix/zoom.ts) goes down to one head, points and
 * token labels growing with it. Click a cell to open that head. With another model's
 * capture (`_compare`), `matrix_source` = 'compare' shows that model's heads; a click
 * then opens the compare view with the clicked head in the right panel.
 */
import { isThumbnailPriority } from '../layout/service';
import { checkPngScale, composeGridPng } from '../export/png';
import type { QKSourceName } from '../model/qk_source';
import { drawThumbnail } from '../render/thumbnail';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { drawAxes } from './matrix/axes';
import { fillGrid, type Cell } from './matrix/fill';
import { heatColor, normalized, valueRange } from './matrix/heat';
import { CellPainter } from './matrix/painter';
import { AXIS_SIZE, CAPTION_PITCH, SCROLLBAR_ALLOWANCE, THUMBNAIL_TOKENS, anchoredScroll, canvasSide, leadingSequences, maxZoom, pitchAt, thumbnailTokens } from './matrix/sizing';
import { ZoomControl, dragToPan } from './matrix/zoom';

export { THUMBNAIL_TOKENS };
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

/** Quiet time after the last zoom step before cells are redrawn at their new size (ms). */
const ZOOM_SETTLE_MS = 120;
const METHOD_LABELS: Record<string, string> = { umap: 'UMAP', tsne: 't-SNE' };
type Order = 'entropy' | 'distance' | 'offset';

export class MatrixView {
  readonly element = h('div', { className: 'av-matrix' });
  private readonly note = h('div', { className: 'av-matrix-note', attrs: { role: 'status' } });
  private readonly zoom = new ZoomControl((zoom, anchor) => this.applyZoom(zoom, anchor, true));
  private readonly scroller = h('div', { className: 'av-matrix-scroll' });
  private readonly headAxis = h('div', { className: 'av-matrix-axis av-matrix-heads' });
  private readonly layerAxis = h('div', { className: 'av-matrix-axis av-matrix-layers' });
  private readonly grid = h('div', { className: 'av-matrix-grid' });
  private cells: Cell[] = [];
  private generation = 0;
  private pitch = 96;
  private thumbSize = 88;
  /** Cells on screen (IntersectionObserver): only they hold a full-size canvas. */
  private readonly visible = new Set<Cell>();
  private readonly dirty = new Set<Cell>();
  private readonly observer: IntersectionObserver;
  private readonly resizer: ResizeObserver;
  private lastWidth = 0;
  private readonly stopPan: () => void;
  private settle: ReturnType<typeof setTimeout> | null = null;
  private readonly painter: CellPainter;
  /** The capture whose heads the cells show (fixed per start()). */
  private source: QKSourceName = 'capture';

  constructor(
    private readonly ctx: ViewContext,
    private readonly onOpen: (layer: number, head: number, source: QKSourceName) => void,
  ) {
    this.painter = new CellPainter(ctx, () => this.source);
    const bar = h('div', { className: 'av-matrix-bar' }, this.zoom.element, this.note);
    const frame = h('div', { className: 'av-matrix-frame' }, this.headAxis, h('div', { className: 'av-matrix-rows' }, this.layerAxis, this.grid));
    this.scroller.append(frame);
    this.element.append(bar, this.scroller);
    this.grid.addEventListener('keydown', (event) => this.onKey(event));
    this.scroller.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
    this.observer = new IntersectionObserver((entries) => this.onVisible(entries), { root: this.scroller, rootMargin: '64px' });
    this.resizer = new ResizeObserver(() => {
      const width = this.element.clientWidth;
      if (width && Math.abs(width - this.lastWidth) > 4 && this.cells.length) this.applyZoom(this.zoom.value, null);
    });
    this.resizer.observe(this.element);
    this.stopPan = dragToPan(this.scroller, () => this.zoom.value > 1);
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

  /** Ctrl+wheel (and a trackpad pinch, which arrives as one) zooms at the pointer; a plain wheel scrolls. */
  private onWheel(event: WheelEvent): void {
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    const box = this.scroller.getBoundingClientRect();
    this.zoom.wheel(event.deltaY, { x: event.clientX - box.left, y: event.clientY - box.top });
  }

  private columns(): number {
    return this.ctx.captureInfo(this.source).nHeads;
  }

  /** Width the cells share: the view's, less the layer axis and room for a vertical scrollbar. */
  private available(): number {
    this.lastWidth = this.element.clientWidth;
    return Math.max(240, (this.lastWidth || 900) - 16 - AXIS_SIZE - SCROLLBAR_ALLOWANCE);
  }

  /** (Re)build every cell and start computing layouts for the current settings. */
  start(): void {
    const generation = ++this.generation;
    this.painter.reset(); // the token table may have changed
    this.source = this.ctx.model.get('matrix_source') === 'compare' && this.ctx.compareCapture() ? 'compare' : 'capture';
    const { nLayers, nHeads } = this.ctx.captureInfo(this.source);
    this.element.dataset.source = this.source;
    this.ctx.cancelLayouts((_key, priority) => isThumbnailPriority(priority));
    for (const cell of this.cells) this.observer.unobserve(cell.element);
    this.visible.clear();
    this.dirty.clear();
    this.cells = [];
    for (let layer = 0; layer < nLayers; layer++) {
      for (let head = 0; head < nHeads; head++) {
        const canvas = h('canvas', { attrs: { width: '1', height: '1' } });
        const strip = h('div', { className: 'av-cell-strip' });
        const caption = h('div', { className: 'av-cell-caption' }, `L${layer} H${head}`);
        const element = h(
          'button',
          { className: 'av-cell av-cell-pending', title: `layer ${layer}, head ${head}: open`, attrs: { type: 'button', 'data-layer': String(layer), 'data-head': String(head) } },
          canvas,
          strip,
          caption,
        );
        const source = this.source;
        element.addEventListener('click', () => this.onOpen(layer, head, source));
        const cell: Cell = { layer, head, element, canvas, caption, strip, stats: null, qk: null, positions: null, method: '' };
        this.cells.push(cell);
        this.observer.observe(element);
      }
    }
    this.applyZoom(this.zoom.value, null);
    this.arrange();
    void this.fill(generation, nLayers * nHeads);
  }

  /** Size every cell for `zoom` (1 = every head of a layer fits the width), keeping the point under `anchor`. */
  private applyZoom(zoom: number, anchor: { x: number; y: number } | null, gesture = false): void {
    const available = this.available();
    const nHeads = this.columns();
    this.zoom.setRange(maxZoom(available, nHeads));
    const before = this.pitch;
    this.pitch = pitchAt(available, nHeads, this.zoom.value === zoom ? zoom : this.zoom.value);
    this.thumbSize = canvasSide(this.pitch);
    this.element.dataset.pitch = String(this.pitch);
    this.element.dataset.zoom = this.zoom.value.toFixed(2);
    this.element.classList.toggle('av-matrix-small', this.pitch < CAPTION_PITCH);
    this.grid.style.gridTemplateColumns = `repeat(${nHeads}, ${this.pitch}px)`;
    this.grid.style.gridAutoRows = this.pitch < CAPTION_PITCH ? `${this.pitch}px` : 'auto';
    for (const cell of this.cells) {
      cell.canvas.style.width = cell.canvas.style.height = `${this.thumbSize}px`;
      this.dirty.add(cell);
    }
    this.axes();
    if (anchor && before !== this.pitch) {
      this.scroller.scrollLeft = anchoredScroll(this.scroller.scrollLeft, anchor.x, before, this.pitch);
      this.scroller.scrollTop = anchoredScroll(this.scroller.scrollTop, anchor.y, before, this.pitch);
    }
    // While the zoom moves, the browser scales the canvases as they are (one layout per
    // step); they are drawn sharp at their new size once it rests: redrawing every shown
    // cell per wheel step cost ~0.4 s a step at 512 heads (bench/matrix_scale).
    if (this.settle !== null) clearTimeout(this.settle);
    this.settle = null;
    if (!gesture) {
      for (const cell of this.visible) this.draw(cell);
      return;
    }
    this.settle = setTimeout(() => {
      this.settle = null;
      for (const cell of this.visible) if (this.dirty.has(cell)) this.draw(cell);
    }, ZOOM_SETTLE_MS);
  }

  private axes(): void {
    const { nLayers, nHeads } = this.ctx.captureInfo(this.source);
    drawAxes(this.headAxis, this.layerAxis, nLayers, nHeads, this.pitch, this.ctx.model.get('matrix_order') === 'index' && this.pitch < CAPTION_PITCH);
  }

  private onVisible(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const cell = this.cells.find((c) => c.element === entry.target);
      if (!cell) continue;
      if (entry.isIntersecting) {
        this.visible.add(cell);
        if (this.dirty.has(cell) && this.settle === null) this.draw(cell);
      } else if (this.visible.delete(cell)) {
        [cell.canvas.width, cell.canvas.height] = [1, 1]; // off screen: free its pixels
        this.dirty.add(cell);
      }
    }
  }

  /** Cell order and grid shape follow `matrix_order`. */
  arrange(): void {
    const order = this.ctx.model.get('matrix_order');
    const sorted = [...this.cells];
    if (order !== 'index') sorted.sort((a, b) => (a.stats?.[order] ?? Infinity) - (b.stats?.[order] ?? Infinity));
    this.grid.replaceChildren(...sorted.map((cell) => cell.element));
    this.axes();
  }

  /** Redraw thumbnails with the current colours, theme and search. */
  redraw(): void {
    this.painter.reset();
    for (const cell of this.cells) this.dirty.add(cell);
    for (const cell of this.visible) this.draw(cell);
    this.searchNote();
  }

  stop(): void {
    this.generation++;
    this.ctx.cancelLayouts((_key, priority) => isThumbnailPriority(priority));
  }

  dispose(): void {
    this.stop();
    this.observer.disconnect();
    this.resizer.disconnect();
    this.stopPan();
    if (this.settle !== null) clearTimeout(this.settle);
    this.element.remove();
  }

  private async fill(generation: number, total: number): Promise<void> {
    const method = this.ctx.model.get('projection');
    const started = performance.now();
    const budget = thumbnailTokens(total);
    const { sequences, rows } = leadingSequences(this.ctx.tokens?.rowsBySeq.values() ?? [], budget);
    this.ctx.root.dataset.matrixTokens = String(rows);
    const live = (): boolean => generation === this.generation;
    const allTokens = this.ctx.tokens?.length ?? rows;
    await fillGrid({
      ctx: this.ctx,
      source: this.source,
      cells: this.cells,
      rows,
      sequences,
      epochs: THUMBNAIL_EPOCHS,
      live,
      set: (cell, positions, how) => this.set(cell, positions, how),
      statsReady: (cell) => {
        this.caption(cell);
        // Its Q/K have just arrived (kernel PCA pictures come without them): typed-in text
        // can now be placed into it.
        if (cell.qk && this.ctx.added?.count() && this.visible.has(cell)) this.draw(cell);
      },
      failed: (cell, error) => {
        cell.caption.textContent = `L${cell.layer} H${cell.head}: ${error instanceof Error ? error.message : String(error)}`;
        cell.element.classList.add('av-cell-failed');
        cell.element.title = cell.caption.textContent;
      },
      progress: ({ pca, method: done, stats, kernel, streamed }) => {
        if (!live()) return;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const root = this.ctx.root.dataset;
        root.matrixPca = String(pca);
        root.matrixDone = String(method === 'pca' ? pca : done);
        root.matrixStats = String(stats);
        root.matrixKernel = String(kernel);
        if (pca === total && !root.matrixPcaSeconds) root.matrixPcaSeconds = ((performance.now() - started) / 1000).toFixed(2);
        if (method !== 'pca' && done === total && !root.matrixSeconds) root.matrixSeconds = ((performance.now() - started) / 1000).toFixed(2);
        if (this.ctx.model.get('view') === 'matrix') {
          const tail = method === 'pca' ? '' : ` · ${METHOD_LABELS[method] ?? method} ${done}/${total}`;
          this.ctx.setStatus(`${total} heads · PCA ${pca}/${total}${tail} · ${seconds} s`);
        }
        this.degradedNote(rows, allTokens, kernel, streamed);
        if (stats === total && this.ctx.model.get('matrix_order') !== 'index') this.arrange();
      },
    });
    if (live()) this.recaption(); // the strip's colour range spans every head now
  }

  /** Say when a big model's grid shows less than all of it (never a silent cut). */
  private degradedNote(rows: number, allTokens: number, kernel: boolean, streamed: boolean): void {
    const parts: string[] = [];
    if (rows < Math.min(allTokens, THUMBNAIL_TOKENS)) parts.push(`${this.cells.length} heads: each thumbnail lays out the first ${rows.toLocaleString('en-US')} of ${allTokens.toLocaleString('en-US')} tokens (open a head for all)`);
    if (kernel) parts.push('first pictures: PCA computed in the kernel');
    if (streamed) parts.push('too large to keep every head in the page: Q/K streamed, typed text not placed in every thumbnail');
    this.note.dataset.degraded = String(rows < allTokens && rows < THUMBNAIL_TOKENS);
    this.note.textContent = parts.join(' · ');
    this.searchNote();
  }

  private searchNote(): void {
    const search = this.ctx.model.get('search').trim();
    this.element.dataset.searchMatches = '';
    const old = this.note.querySelector('.av-matrix-search');
    old?.remove();
    if (!search) return;
    const rows = Number(this.ctx.root.dataset.matrixTokens ?? 0);
    const matches = this.ctx.searchMatches().filter((row) => row < rows).length;
    this.element.dataset.searchMatches = String(matches);
    this.note.prepend(h('span', { className: 'av-matrix-search' }, `${matches} tokens match "${search}" in every thumbnail${this.note.textContent ? ' · ' : ''}`));
  }

  private set(cell: Cell, positions: Float32Array, method: string): void {
    cell.positions = positions;
    cell.method = method;
    cell.element.classList.remove('av-cell-pending');
    cell.element.dataset.method = method;
    this.dirty.add(cell);
    if (this.visible.has(cell)) this.draw(cell);
  }

  private caption(cell: Cell): void {
    const stats = cell.stats;
    const order = this.ctx.model.get('matrix_order');
    if (!stats) return;
    // The number the cells are sorted by (entropy when in layer x head order).
    const shown: Order = order === 'index' ? 'entropy' : order;
    const value = shown === 'distance' ? `dist ${stats.distance.toFixed(2)}` : shown === 'offset' ? `off ${stats.offset.toFixed(1)}` : `H ${stats.entropy.toFixed(2)}`;
    // Two lines under a small thumbnail ("L0 H3" over "H 2.31"); the text reads "L0 H3 · H 2.31".
    cell.caption.replaceChildren(h('span', {}, `L${cell.layer} H${cell.head}`), h('span', { className: 'av-cell-sep' }, ' · '), h('span', {}, value));
    const range = valueRange(this.cells.flatMap((c) => (c.stats ? [c.stats[shown]] : [])));
    cell.strip.style.background = heatColor(normalized(stats[shown], range));
    cell.strip.dataset.value = String(stats[shown]);
    const open = this.source === 'compare' ? 'click to open beside the shown head' : 'click to open';
    cell.element.title = `layer ${cell.layer}, head ${cell.head}\nattention entropy ${stats.entropy.toFixed(3)} nats\nquery-key centroid distance ${stats.distance.toFixed(3)}\nmean attended offset ${stats.offset.toFixed(2)} tokens\n(strip: ${shown})\n${open}`;
  }

  private draw(cell: Cell): void {
    this.dirty.delete(cell);
    const side = this.thumbSize;
    if (cell.canvas.width !== side) [cell.canvas.width, cell.canvas.height] = [side, side];
    const drawn = this.painter.drawn(cell);
    if (!drawn) {
      const context = cell.canvas.getContext('2d');
      if (context) {
        context.fillStyle = this.ctx.theme.background;
        context.fillRect(0, 0, side, side);
      }
      return;
    }
    drawThumbnail(cell.canvas, drawn.positions, 2, drawn.rgb, this.ctx.theme.background, 1, drawn.marks, this.painter.extras(drawn, side));
    cell.element.dataset.added = String(drawn.added);
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
      const drawn = this.painter.drawn(cell);
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
