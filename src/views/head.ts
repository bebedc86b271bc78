/**
 * The single-head view: the joint Q/K scatterplot of one head (2D pan/zoom or 3D
 * orbit), hover tooltips, click and lasso selection, search highlight, attention
 * lines from a selected query to its top-k keys, and the sentence view beside it.
 */
import { allowedKeys, attentionRow, topK } from '../compute/attention';
import type { LayoutMethod } from '../layout/types';
import { normalizeQK } from '../compute/normalize';
import { CancelledError } from '../layout/pool';
import { isShownHeadPriority, Priority } from '../layout/service';
import { normSizes } from '../compute/sizes';
import { pointsInPolygon } from '../compute/polygon';
import { PointIndex } from '../compute/spatial';
import { decodeMatrix } from '../model/decode';
import { decodeHead, type HeadQK, type QKSourceName } from '../model/qk_source';
import type { Figure } from '../export/figure';
import { checkPngScale, composePng, type PngPanel } from '../export/png';
import { figuresToSvg } from '../export/svg';
import { LineOverlay, type OverlayLine } from '../render/overlay';
import { EMPHASIS, ScatterScene } from '../render/scatter';
import { h } from '../ui/dom';
import { LassoOverlay } from '../ui/lasso';
import { Tooltip } from '../ui/tooltip';
import { pointColors } from './coloring';
import type { ViewContext } from './context';
import { ImageView } from './image';
import { SentenceView } from './sentence';

const CLICK_SLOP = 4;
const PICK_RADIUS = 8;
const METHOD_NAMES: Record<string, string> = { pca: 'PCA', umap: 'UMAP', tsne: 't-SNE' };

/** Exposed on the root element for automation and tests (see README). */
export interface ViewHandle {
  pointCount(): number;
  /** Canvas-relative CSS-pixel position of point i (queries 0..n-1, keys n..2n-1). */
  canvasPosition(point: number): [number, number];
  tokenRow(point: number): number;
  /** Renders synchronously and returns the WebGL canvas. */
  snapshot(): HTMLCanvasElement;
  /** The method of the layout on screen ("pca" while a UMAP/t-SNE is still running). */
  shownMethod(): string;
  /** How point i is drawn: 0 dimmed, 1 normal, 2 highlighted (selection, search, a token hovered elsewhere). */
  emphasis(point: number): number;
}

/** How a HeadView is used: the single-head view (defaults), or one panel of the compare view. */
export interface HeadViewOptions {
  /** The trait naming the head shown: `head` (its Q/K are on the model) or `compare_head` (fetched from the host). */
  headTrait?: 'head' | 'compare_head';
  /**
   * The `view` this plot belongs to (it lays out nothing while another view is shown).
   * A "compare" panel has no sentence/image view, no typed-in text, does not sync the
   * camera trait, and marks its own element (data-layer, -ready, -hover...) instead of the root.
   */
  shownIn?: 'head' | 'compare';
  /** The token row under the pointer (-1: none), to link another plot. */
  onHover?: (row: number) => void;
  /** Where progress and counts go (default: the toolbar status). */
  setStatus?: (text: string) => void;
}

interface Shown {
  qk: HeadQK;
  positions: Float32Array;
  dims: 2 | 3;
  method: string;
  /** 2D: index over world positions; 3D: over canvas positions, rebuilt after camera moves. */
  index: PointIndex | null;
}

export class HeadView {
  readonly element = h('div', { className: 'av-head' });
  private readonly plot = h('div', { className: 'av-plot', attrs: { tabindex: '-1' } });
  private readonly legend = h('div', { className: 'av-legend' });
  private readonly hint = h('div', { className: 'av-hint' });
  private readonly tooltip = new Tooltip();
  private readonly lasso = new LassoOverlay();
  private readonly lines = new LineOverlay();
  private readonly sentence: SentenceView;
  /** Beside the plot for vision captures, instead of the sentence view. */
  private readonly image: ImageView;
  /** Token row whose patch is hovered in the image view (-1: none). */
  private linkedHover = -1;
  private scene: ScatterScene | null = null;
  private shown: Shown | null = null;
  /** The capture's head and layout last shown, before typed-in tokens were placed into it. */
  private base: { qk: HeadQK; positions: Float32Array; dims: 2 | 3; method: string } | null = null;
  private request = 0;
  private down: { x: number; y: number; lasso: boolean } | null = null;
  private readonly cleanups: Array<() => void> = [];
  private cameraTimer = 0;
  private restoringCamera = false;
  /** What is on screen, kept for figure export. */
  private colors: Float32Array = new Float32Array(0);
  private emphasis: Float32Array = new Float32Array(0);
  private legendEntries: Array<{ color: string; label: string }> = [];
  private lineList: OverlayLine[] = [];

  private readonly headTrait: 'head' | 'compare_head';
  private readonly shownIn: 'head' | 'compare';
  private readonly panel: boolean;
  private readonly setStatus: (text: string) => void;
  /** Q/K fetched for `compare_head`, kept while only the layout settings change. */
  private fetched: HeadQK | null = null;
  /** The capture whose head this plot shows (the compare view's right panel may show another model's). */
  private get source(): QKSourceName {
    return this.ctx.sourceOf(this.headTrait);
  }

  constructor(
    private readonly ctx: ViewContext,
    private readonly options: HeadViewOptions = {},
  ) {
    this.headTrait = options.headTrait ?? 'head';
    this.shownIn = options.shownIn ?? 'head';
    this.panel = this.shownIn !== 'head';
    // The toolbar's status line belongs to the view on screen: a hidden head view that
    // finishes a layout (e.g. behind the compare view) must not overwrite it.
    this.setStatus =
      options.setStatus ??
      ((text) => {
        if (ctx.model.get('view') === this.shownIn) ctx.setStatus(text);
      });
    try {
      this.scene = new ScatterScene(this.plot);
    } catch (error) {
      ctx.showMessage(`attentionviz could not start WebGL, so the plot cannot be drawn.\n${String(error)}`);
    }
    this.sentence = new SentenceView(ctx, (row) => ctx.setSelection([row]));
    this.plot.append(this.lines.canvas, this.lasso.element, this.legend, this.hint, this.tooltip.element);
    this.image = new ImageView(
      ctx,
      (row) => ctx.setSelection([row]),
      (row) => {
        this.linkedHover = row;
        this.applyEmphasis();
      },
    );
    this.image.element.style.display = 'none';
    if (this.panel) this.element.append(this.plot);
    else this.element.append(this.plot, this.sentence.element, this.image.element);
    this.bindPointer();
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(this.plot);
    this.cleanups.push(() => observer.disconnect());
    if (this.scene) {
      this.cleanups.push(
        this.scene.onChange(() => {
          if (this.shown?.dims === 3) this.shown.index = null;
          this.drawLines();
          if (!this.panel) this.saveCameraSoon();
        }),
      );
    }
    this.resize();
  }

  /** False when WebGL could not start (the view then shows why instead of a plot). */
  available(): boolean {
    return this.scene !== null;
  }

  handle(): ViewHandle {
    return {
      pointCount: () => (this.shown ? 2 * this.shown.qk.nTokens : 0),
      canvasPosition: (point) => {
        if (!this.scene || !this.shown) throw new Error('no layout yet');
        return this.scene.pointToCanvas(point);
      },
      tokenRow: (point) => (this.shown ? point % this.shown.qk.nTokens : -1),
      snapshot: () => {
        if (!this.scene) throw new Error('WebGL is unavailable');
        this.scene.renderNow();
        return this.scene.canvas;
      },
      shownMethod: () => this.shown?.method ?? '',
      emphasis: (point) => this.emphasis[point] ?? EMPHASIS.normal,
    };
  }

  /** The head (from the model's Q/K traits, or fetched for `compare_head`), normalization, projection or dims changed. */
  refresh(): void {
    // Hidden behind another view: lay out nothing until it is shown (see view.ts).
    if (this.ctx.model.get('view') !== this.shownIn || !this.scene) return;
    const request = ++this.request;
    if (this.headTrait === 'compare_head') {
      const [layer, head] = this.ctx.compareHead();
      const kept = this.fetched;
      const found = kept && kept.layer === layer && kept.head === head ? Promise.resolve(kept) : this.ctx.qk.fetch(layer, head, undefined, this.source);
      found.then(
        (qk) => {
          this.fetched = qk;
          if (request === this.request) this.layOut(qk, request);
        },
        (error: unknown) => {
          if (request === this.request) this.setStatus(`L${layer} H${head} could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
      return;
    }
    const meta = this.ctx.model.get('_qk_meta');
    const queries = this.ctx.model.get('_queries');
    const keys = this.ctx.model.get('_keys');
    if (!meta || !queries || !keys) return;
    this.layOut(decodeHead(meta, queries, keys), request);
  }

  /** PCA first (or the cached layout), then the chosen method, for request `request`. */
  private layOut(qk: HeadQK, request: number): void {
    const wanted = this.ctx.layoutParams();
    const pcaParams = this.ctx.layoutParams('pca');
    // Whatever was running for a head no longer on screen is no longer wanted.
    const onScreen = [[qk.layer, qk.head], ...this.ctx.shownHeads()];
    this.ctx.cancelLayouts((key, priority) => isShownHeadPriority(priority) && !onScreen.some(([l, h]) => key.layer === l && key.head === h));
    const method = METHOD_NAMES[wanted.method] ?? wanted.method;
    const cached = this.ctx.cachedLayout(qk, wanted, this.source);
    const first = cached ? Promise.resolve(cached) : this.ctx.layout(qk, pcaParams, Priority.shownHeadFirst, undefined, this.source);
    first
      .then((positions) => {
        if (request !== this.request) return;
        this.show(qk, positions, wanted.dims, cached ? wanted.method : 'pca');
        if (cached || wanted.method === 'pca') return;
        if (this.ctx.model.get('layout_backend') === 'kernel' && this.headTrait === 'head') {
          // The kernel computes it and sends `_layout` (view.ts calls showKernelLayout).
          if (!this.showKernelLayout()) this.setStatus(`${this.describe(qk)} · PCA shown · computing ${method} in kernel…`);
          return;
        }
        this.setStatus(`${this.describe(qk)} · PCA shown · ${method} starting…`);
        return this.ctx
          .layout(
            qk,
            wanted,
            Priority.shownHead,
            (fraction, stage) => {
              if (request === this.request) this.setStatus(`${this.describe(qk)} · PCA shown · ${method} ${stage} ${Math.round(fraction * 100)}%`);
            },
            this.source,
          )
          .then((positions) => {
            if (request === this.request) this.show(qk, positions, wanted.dims, wanted.method);
          });
      })
      .catch((error: unknown) => {
        if (error instanceof CancelledError || request !== this.request) return;
        // The PCA layout stays on screen; say why the chosen method is missing.
        this.ctx.notify(`${method} failed for this head: ${error instanceof Error ? error.message : String(error)}`);
      });
  }

  /**
   * Show the kernel's layout (`_layout`) when it is the one wanted for the shown head;
   * false when it is not there (yet).
   */
  showKernelLayout(): boolean {
    const meta = this.ctx.model.get('_layout_meta');
    const buffer = this.ctx.model.get('_layout');
    const head = this.base?.qk ?? this.shown?.qk;
    const wanted = this.ctx.layoutParams();
    if (this.headTrait !== 'head' || this.ctx.model.get('view') !== this.shownIn || this.ctx.model.get('layout_backend') !== 'kernel' || !meta || !('method' in meta) || !buffer || !head) return false;
    if (meta.layer !== head.layer || meta.head !== head.head || meta.method !== wanted.method || meta.dims !== wanted.dims || meta.normalize !== wanted.normalize) return false;
    if (meta.n_points !== 2 * head.nTokens) {
      this.ctx.notify(`the kernel layout has ${meta.n_points} points, this head ${2 * head.nTokens}; ignored`);
      return false;
    }
    this.request++; // a browser layout still running for this head is no longer wanted
    this.show(head, decodeMatrix(buffer, 'float32', meta.n_points, meta.dims), meta.dims, meta.method);
    this.marks.layoutSource = 'kernel';
    return true;
  }

  /** Point sizes follow `size_by`: uniform, or by the norm of each (normalized) Q/K vector. */
  applySizes(): void {
    if (!this.shown || !this.scene) return;
    if (this.ctx.model.get('size_by') !== 'norm') {
      this.scene.setSizes(null);
      return;
    }
    const { queries, keys, nTokens, dHead } = this.shown.qk;
    const normalize = this.ctx.model.get('normalize');
    const q = normalizeQK(queries, keys, nTokens, dHead, { translate: normalize, scale: normalize });
    this.scene.setSizes(normSizes(q.queries, q.keys, nTokens, dHead));
  }

  /** Colours, emphasis, lines and sentence follow the model. */
  recolor(): void {
    if (!this.shown || !this.scene) return;
    const coloring = pointColors(this.ctx.model.get('color_by'), this.ctx.headTokens(), this.shown.qk.nTokens, this.ctx.theme);
    this.scene.setColors(coloring.rgb);
    this.colors = coloring.rgb;
    this.legendEntries = coloring.legend.slice(0, 12);
    this.legend.replaceChildren(
      ...coloring.legend.slice(0, 12).map(({ color, label }) =>
        h('span', {}, Object.assign(h('span', { className: 'av-swatch' }), { style: `background:${color}` }), label),
      ),
    );
  }

  applyTheme(): void {
    this.scene?.setTheme(this.ctx.theme.background, this.ctx.theme.ring);
    this.recolor();
    this.drawLines();
    if (!this.panel) this.sentence.render(this.shown?.qk ?? null);
  }

  /**
   * Emphasise token `row` (its query and key) as hovered elsewhere (-1: none); with
   * `tooltip`, show its tooltip at this plot's query point.
   */
  linkHover(row: number, tooltip = false): void {
    this.linkedHover = row;
    this.applyEmphasis();
    if (row < 0 || !tooltip || !this.shown || !this.scene || row >= this.shown.qk.nTokens) {
      this.tooltip.hide();
      return;
    }
    const [x, y] = this.scene.pointToCanvas(row);
    this.showTooltip(row, row, x, y);
  }

  /** Selection, search and the focused query's top keys. */
  applyEmphasis(): void {
    if (!this.shown || !this.scene) return;
    const n = this.shown.qk.nTokens;
    const selected = this.ctx.selectedRows();
    const matches = this.ctx.searchMatches();
    const focus = this.focusedQuery();
    const hover = this.linkedHover >= 0 && this.linkedHover < n;
    const emphasis = new Float32Array(2 * n).fill(selected.length || matches.length || hover ? EMPHASIS.dimmed : EMPHASIS.normal);
    for (const row of selected) if (row < n) emphasis[row] = emphasis[n + row] = EMPHASIS.highlighted;
    for (const row of matches) if (row < n) emphasis[row] = emphasis[n + row] = EMPHASIS.highlighted;
    if (focus) for (const { row } of focus.targets) emphasis[n + row] = EMPHASIS.highlighted;
    if (hover) emphasis[this.linkedHover] = emphasis[n + this.linkedHover] = EMPHASIS.highlighted;
    this.scene.setEmphasis(emphasis);
    this.emphasis = emphasis;
    this.drawLines();
    if (this.panel) {
      this.updateStatus();
      return;
    }
    const vision = this.image.applies();
    this.sentence.element.style.display = vision ? 'none' : '';
    this.image.element.style.display = vision ? '' : 'none';
    if (vision) this.image.render(this.shown.qk);
    else this.sentence.render(this.shown.qk);
    this.updateStatus();
  }

  updateStatus(): void {
    if (!this.shown || this.ctx.model.get('view') !== this.shownIn) return; // a hidden view leaves the status alone
    const parts = [this.describe(this.shown.qk), METHOD_NAMES[this.shown.method] ?? this.shown.method];
    const selected = this.ctx.selectedRows().length;
    if (selected) parts.push(`${selected} selected`);
    if (this.ctx.model.get('search').trim()) parts.push(`${this.ctx.searchMatches().length} match "${this.ctx.model.get('search').trim()}"`);
    this.setStatus(parts.join(' · '));
  }

  resetCamera(): void {
    this.scene?.resetCamera();
  }

  /** The plot as drawn, for PNG/SVG export. */
  figure(): Figure {
    if (!this.scene || !this.shown) throw new Error('nothing to export yet: the head has no layout');
    const { qk, method } = this.shown;
    const n = qk.nTokens;
    const xy = this.scene.projectAll();
    const points = Array.from({ length: 2 * n }, (_, i) => ({
      x: xy[2 * i],
      y: xy[2 * i + 1],
      r: this.colors[3 * i] ?? 0.5,
      g: this.colors[3 * i + 1] ?? 0.5,
      b: this.colors[3 * i + 2] ?? 0.5,
      emphasis: this.emphasis[i] ?? 1,
    }));
    const tokens = this.ctx.headTokens();
    const labelled = [...this.ctx.selectedRows()].slice(0, 40);
    const labels = tokens ? labelled.map((row) => ({ x: xy[2 * row], y: xy[2 * row + 1], text: tokens.text[row] })) : [];
    const rect = this.plot.getBoundingClientRect();
    return {
      width: Math.round(rect.width) || 640,
      height: Math.round(rect.height) || 480,
      background: this.ctx.theme.background,
      foreground: this.ctx.theme.foreground,
      ring: this.ctx.theme.ring,
      pointSize: this.scene.getPointSize(),
      points,
      lines: this.lineList,
      labels,
      legend: this.legendEntries,
      title: `${this.ctx.captureInfo(this.source).modelName || 'attentionviz'} · layer ${qk.layer} head ${qk.head} · ${METHOD_NAMES[method] ?? method}`,
    };
  }

  /** The plot re-rendered at `scale` x with its figure: one panel of a PNG export. */
  pngPanel(scale: number): PngPanel {
    checkPngScale(scale);
    const figure = this.figure(); // throws while there is no layout, so the scene exists below
    return { figure, plot: this.scene!.renderAt(scale) };
  }

  /** PNG at `scale` x the on-screen size, or SVG. */
  async exportFigure(format: 'png' | 'svg', scale = 1): Promise<Blob> {
    if (format === 'svg') return new Blob([figuresToSvg([this.figure()])], { type: 'image/svg+xml' });
    return composePng([this.pngPanel(scale)], scale);
  }

  dispose(): void {
    window.clearTimeout(this.cameraTimer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.scene?.dispose();
    this.scene = null;
    this.image.dispose();
    this.element.remove();
  }

  /** Where this plot's data-* marks go: the root (single-head view) or its own element (panel). */
  private get marks(): DOMStringMap {
    return this.panel ? this.element.dataset : this.ctx.root.dataset;
  }

  private describe(qk: HeadQK): string {
    return `L${qk.layer} H${qk.head} · ${qk.nTokens.toLocaleString()} tokens`;
  }

  /** Tokens typed into the view changed: place them in the shown layout (camera kept). */
  placeAdded(): void {
    if (this.base) this.show(this.base.qk, this.base.positions, this.base.dims, this.base.method, true);
  }

  private show(qk: HeadQK, positions: Float32Array, dims: 2 | 3, method: string, keepCamera = false): void {
    if (!this.scene) return;
    // The capture's head and layout; typed-in tokens (if any) are placed into it.
    this.base = { qk, positions, dims, method };
    let marked: Float32Array | null = null;
    // Typed-in text is run through the shown capture's model: not placed in another model's heads.
    if (this.ctx.added && this.source === 'capture') {
      try {
        const params = { method: method as LayoutMethod, dims, normalize: this.ctx.model.get('normalize') };
        ({ qk, positions, marked } = this.ctx.added.augment(qk, positions, params));
      } catch (error) {
        this.ctx.notify(`the typed text could not be placed in this head: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const sameHead = this.shown && this.shown.qk.layer === qk.layer && this.shown.qk.head === qk.head && this.shown.dims === dims;
    const first = !this.shown;
    this.shown = { qk, positions, dims, method, index: dims === 2 ? new PointIndex(flat2(positions, dims)) : null };
    this.tooltip.hide(); // the point under the pointer is a different one now
    const coloring = pointColors(this.ctx.model.get('color_by'), this.ctx.headTokens(), qk.nTokens, this.ctx.theme);
    // Keep the camera when only the method changed (PCA -> UMAP refits: the scale differs).
    this.scene.setPoints(positions, dims, coloring.rgb, !keepCamera && (!sameHead || method !== 'pca'));
    if (marked) this.scene.setMarked(marked);
    this.applySizes();
    if (first && !this.panel) this.restoreCamera();
    this.hint.textContent = dims === 3 ? 'drag: orbit · right-drag: pan · wheel: zoom · click: select · shift-drag: lasso' : 'drag: pan · wheel: zoom · click: select · shift-drag: lasso';
    this.recolor();
    this.applyEmphasis();
    this.marks.layer = String(qk.layer);
    this.marks.head = String(qk.head);
    this.marks.method = method;
    this.marks.layoutSource = 'browser';
    this.marks.added = String(qk.nTokens - this.base.qk.nTokens);
    this.marks.ready = 'true';
  }

  private restoreCamera(): void {
    const camera = this.ctx.model.get('camera');
    if (!camera || !this.scene || !Object.keys(camera).length) return;
    this.restoringCamera = true;
    this.scene.setCamera(camera);
    this.restoringCamera = false;
  }

  private saveCameraSoon(): void {
    if (this.restoringCamera || !this.scene) return;
    // Debounced: dragging must not flood the kernel.
    window.clearTimeout(this.cameraTimer);
    this.cameraTimer = window.setTimeout(() => {
      if (this.scene) this.ctx.update({ camera: this.scene.getCamera() });
    }, 300);
  }

  /** The one selected token and its top-k keys by attention, when exactly one is selected. */
  private focusedQuery(): { row: number; targets: Array<{ row: number; weight: number }> } | null {
    const selected = this.ctx.selectedRows();
    const tokens = this.ctx.headTokens();
    if (selected.length !== 1 || !this.shown || !tokens) return null;
    const row = selected[0];
    const { qk } = this.shown;
    if (row >= qk.nTokens) return null;
    const sequence = tokens.rowsBySeq.get(tokens.seq[row]) ?? [row];
    const { scale, causal } = this.ctx.captureInfo(this.source); // this plot's capture's attention
    const keyRows = allowedKeys(sequence, sequence.indexOf(row), causal);
    const weights = attentionRow(qk.queries, qk.keys, qk.dHead, row, keyRows, scale);
    const best = topK(weights, this.ctx.model.get('top_k'));
    return { row, targets: best.map((i) => ({ row: keyRows[i], weight: weights[i] })) };
  }

  private drawLines(): void {
    const focus = this.focusedQuery();
    if (!focus || !this.scene || !this.shown) {
      this.lineList = [];
      this.lines.draw([]);
      this.marks.lines = '0';
      return;
    }
    const n = this.shown.qk.nTokens;
    const from = this.scene.pointToCanvas(focus.row);
    const lines: OverlayLine[] = focus.targets.map(({ row, weight }) => ({
      from,
      to: this.scene!.pointToCanvas(n + row),
      width: 1 + 7 * weight,
      color: this.ctx.theme.foreground,
      alpha: 0.35 + 0.5 * weight,
    }));
    this.lineList = lines;
    this.lines.draw(lines);
    this.marks.lines = String(lines.length);
  }

  private resize(): void {
    const width = this.plot.clientWidth || 640;
    const height = this.plot.clientHeight || 480;
    this.scene?.resize(width, height);
    this.lines.resize(width, height);
    if (this.shown?.dims === 3) this.shown.index = null;
    this.drawLines();
  }

  /** Nearest point to a canvas position within the pick radius, or -1. */
  private pick(px: number, py: number): number {
    if (!this.shown || !this.scene) return -1;
    if (this.shown.dims === 2) {
      const [x, y] = this.scene.canvasToWorld(px, py);
      return this.shown.index!.nearest(x, y, PICK_RADIUS * this.scene.worldPerPixel());
    }
    if (!this.shown.index) this.shown.index = new PointIndex(this.scene.projectAll());
    return this.shown.index.nearest(px, py, PICK_RADIUS);
  }

  /** The tooltip of `point` (token `row`) at canvas (x, y); false without tokens. */
  private showTooltip(point: number, row: number, x: number, y: number): boolean {
    const tokens = this.ctx.headTokens();
    if (!tokens || !this.shown) return false;
    const n = this.shown.qk.nTokens;
    const context = tokens.rowsBySeq.get(tokens.seq[row]) ?? [row];
    this.tooltip.show(
      {
        kind: point < n ? 'query' : 'key',
        token: tokens.text[row],
        context: context.map((r) => tokens.text[r]),
        contextIndex: context.indexOf(row),
        detail: `sequence ${tokens.seq[row]} · position ${tokens.pos[row]} · row ${row}${this.base && row >= this.base.qk.nTokens ? ' · typed in (placed, not laid out)' : ''}`,
      },
      x,
      y,
      this.plot.getBoundingClientRect(),
    );
    return true;
  }

  private bindPointer(): void {
    const plot = this.plot;
    const at = (event: PointerEvent): [number, number] => {
      const rect = plot.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    };
    const onDown = (event: PointerEvent): void => {
      const [x, y] = at(event);
      this.down = { x, y, lasso: event.shiftKey && event.button === 0 };
      if (this.down.lasso) {
        this.scene?.setControlsEnabled(false);
        this.lasso.start(x, y);
      }
    };
    const onMove = (event: PointerEvent): void => {
      const [x, y] = at(event);
      if (this.down?.lasso) {
        this.lasso.extend(x, y);
        return;
      }
      const point = this.down ? -1 : this.pick(x, y);
      if (point < 0 || !this.shown || !this.showTooltip(point, point % this.shown.qk.nTokens, x, y)) {
        this.tooltip.hide();
        this.marks.hover = '';
        this.options.onHover?.(-1);
        return;
      }
      const row = point % this.shown.qk.nTokens;
      this.marks.hover = String(row);
      this.options.onHover?.(row);
    };
    const onUp = (event: PointerEvent): void => {
      const [x, y] = at(event);
      const start = this.down;
      this.down = null;
      if (!start || !this.shown || !this.scene) return;
      const n = this.shown.qk.nTokens;
      if (start.lasso) {
        this.scene.setControlsEnabled(true);
        const polygon = this.lasso.finish();
        let inside: Uint32Array;
        if (this.shown.dims === 2) {
          const world: number[] = [];
          for (let i = 0; i < polygon.length; i += 2) world.push(...this.scene.canvasToWorld(polygon[i], polygon[i + 1]));
          inside = pointsInPolygon(flat2(this.shown.positions, 2), world);
        } else {
          inside = pointsInPolygon(this.scene.projectAll(), polygon);
        }
        this.ctx.setSelection(Array.from(inside, (point) => point % n));
        return;
      }
      if (Math.hypot(x - start.x, y - start.y) > CLICK_SLOP) return;
      const point = this.pick(x, y);
      this.ctx.setSelection(point < 0 ? [] : [point % n]);
    };
    const onLeave = (): void => {
      this.tooltip.hide();
      this.options.onHover?.(-1);
    };
    plot.addEventListener('pointerdown', onDown, { capture: true });
    plot.addEventListener('pointermove', onMove);
    plot.addEventListener('pointerup', onUp);
    plot.addEventListener('pointerleave', onLeave);
    this.cleanups.push(() => {
      plot.removeEventListener('pointerdown', onDown, { capture: true });
      plot.removeEventListener('pointermove', onMove);
      plot.removeEventListener('pointerup', onUp);
      plot.removeEventListener('pointerleave', onLeave);
    });
  }
}

/** The first two coordinates of [n, dims] positions, interleaved. */
function flat2(positions: Float32Array, dims: number): Float32Array {
  if (dims === 2) return positions;
  const count = positions.length / dims;
  const out = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    out[2 * i] = positions[dims * i];
    out[2 * i + 1] = positions[dims * i + 1];
  }
  return out;
}
