/**
 * The single-head view: the joint Q/K scatterplot of one head (2D pan/zoom or 3D
 * orbit), hover tooltips, click and lasso selection, search highlight, attention
 * lines from a selected query to its top-k keys (or sentence-wide), token labels, hidden
 * queries / keys / attention sinks, and the sentence view beside it.
 * HeadView puts together the parts in head/, one job each; a compare panel is the same
 * plot without the parts only the single-head view has (see the constructor).
 */
import type { Figure } from '../export/figure';
import { checkPngScale, composePng, type PngPanel } from '../export/png';
import { figuresToSvg } from '../export/svg';
import { normSizes } from '../compute/sizes';
import { normalizeQK } from '../compute/normalize';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import { pointColors, type Coloring } from './coloring';
import type { ViewContext } from './context';
import { HeadAside } from './head/aside';
import { CameraSync } from './head/camera';
import { attentionLines, focusedQuery, highlightPair, pointEmphasis, type FocusedQuery } from './head/emphasis';
import { headFigure } from './head/figure';
import { bindPointer, tokenTooltip } from './head/interaction';
import { kernelPositions, wantedKernelLayout } from './head/kernel_layout';
import { hiddenPoints, tokenLabels } from './head/labels';
import { LayoutScheduler } from './head/layout';
import { Picker } from './head/picking';
import { PlotSurface } from './head/plot';
import { FetchedHead, ModelHead, type HeadSource } from './head/source';
import { headStatus, toolbarStatus } from './head/status';
import { placeTypedText } from './head/typed_text';
import { PatchSprites } from './sprites';

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
   * A "compare" panel has no sentence/image view, does not sync the camera trait, and
   * marks its own element (data-layer, -ready, -hover...) instead of the root. (Typed-in
   * text is placed in every plot of this capture's heads, panels too.)
   */
  shownIn?: 'head' | 'compare';
  /** The token row under the pointer (-1: none), to link another plot. */
  onHover?: (row: number) => void;
  /** Where progress and counts go (default: the toolbar status). */
  setStatus?: (text: string) => void;
}

/** A head as laid out on screen. */
interface Shown {
  qk: HeadQK;
  positions: Float32Array;
  dims: 2 | 3;
  method: string;
}

export class HeadView {
  readonly element = h('div', { className: 'av-head' });
  private readonly surface: PlotSurface;
  private readonly picker = new Picker();
  private readonly heads: HeadSource;
  private readonly layouts: LayoutScheduler;
  /** The single-head view's own parts (null in a compare panel). */
  private readonly aside: HeadAside | null;
  private readonly camera: CameraSync | null;
  /** Vision captures: points drawn as their image patches (`point_style`). */
  private readonly sprites: PatchSprites;
  /** Where this plot's data-* marks go: the root (single-head view) or its own element (panel). */
  private readonly marks: DOMStringMap;
  private readonly shownIn: 'head' | 'compare';
  private readonly setStatus: (text: string) => void;
  private shown: Shown | null = null;
  /** The capture's head and layout last shown, before typed-in tokens were placed into it. */
  private base: Shown | null = null;
  /** Token row hovered elsewhere (the image view's patches, the other compare panel; -1: none). */
  private linkedHover = -1;
  /** Query and key rows of the analysis heatmap's hovered cell (null: none). */
  private linkedPair: [number, number] | null = null;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly ctx: ViewContext,
    private readonly options: HeadViewOptions = {},
  ) {
    this.shownIn = options.shownIn ?? 'head';
    this.setStatus = options.setStatus ?? toolbarStatus(ctx, this.shownIn);
    this.heads = options.headTrait === 'compare_head' ? new FetchedHead(ctx) : new ModelHead(ctx);
    this.surface = new PlotSurface(ctx.showMessage);
    const single = this.shownIn === 'head';
    this.aside = single
      ? new HeadAside(
          ctx,
          (row) => {
            this.linkedHover = row;
            this.applyEmphasis();
          },
          (queryRow, keyRow) => {
            this.linkedPair = queryRow < 0 ? null : [queryRow, keyRow];
            this.applyEmphasis();
          },
        )
      : null;
    this.camera = single ? new CameraSync(ctx, () => this.surface.scene) : null;
    this.sprites = new PatchSprites(ctx, () => (this.surface.scene && this.shown ? { scene: this.surface.scene, nTokens: this.shown.qk.nTokens } : null));
    this.marks = single ? ctx.root.dataset : this.element.dataset;
    this.layouts = new LayoutScheduler(ctx, this.heads, {
      show: (qk, positions, dims, method) => this.show(qk, positions, dims, method),
      setStatus: (text) => this.setStatus(text),
      showKernelLayout: () => this.showKernelLayout(),
    });
    this.element.append(this.surface.element, ...(this.aside?.elements ?? []));
    this.cleanups.push(this.bindPointer());
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(this.surface.element);
    this.cleanups.push(() => observer.disconnect());
    const scene = this.surface.scene;
    if (scene) {
      this.cleanups.push(
        scene.onChange(() => {
          this.picker.invalidate();
          this.drawLines();
          this.camera?.saveSoon();
        }),
      );
    }
    this.resize();
  }

  /** False when WebGL could not start (the view then shows why instead of a plot). */
  available(): boolean {
    return this.surface.scene !== null;
  }

  handle(): ViewHandle {
    return {
      pointCount: () => (this.shown ? 2 * this.shown.qk.nTokens : 0),
      canvasPosition: (point) => {
        if (!this.surface.scene || !this.shown) throw new Error('no layout yet');
        return this.surface.scene.pointToCanvas(point);
      },
      tokenRow: (point) => (this.shown ? point % this.shown.qk.nTokens : -1),
      snapshot: () => {
        if (!this.surface.scene) throw new Error('WebGL is unavailable');
        this.surface.scene.renderNow();
        return this.surface.scene.canvas;
      },
      shownMethod: () => this.shown?.method ?? '',
      emphasis: (point) => this.surface.emphasisOf(point),
    };
  }

  /** The head (from the model's Q/K traits, or fetched for `compare_head`), normalization, projection or dims changed. */
  refresh(): void {
    // Hidden behind another view: lay out nothing until it is shown (see view.ts).
    if (this.ctx.model.get('view') !== this.shownIn || !this.surface.scene) return;
    const request = this.layouts.begin();
    this.heads.load(
      (qk) => {
        if (this.layouts.isCurrent(request)) this.layouts.layOut(qk, request);
      },
      (message) => {
        if (this.layouts.isCurrent(request)) this.setStatus(message);
      },
    );
  }

  /**
   * Show the kernel's layout (`_layout`) when it is the one wanted for the shown head;
   * false when it is not there (yet).
   */
  showKernelLayout(): boolean {
    const head = this.base?.qk ?? this.shown?.qk;
    if (!this.heads.kernelLayouts || this.ctx.model.get('view') !== this.shownIn || !head) return false;
    const layout = wantedKernelLayout(this.ctx, head);
    if (!layout) return false;
    this.layouts.begin(); // a browser layout still running for this head is no longer wanted
    this.show(head, kernelPositions(layout), layout.meta.dims, layout.meta.method);
    this.marks.layoutSource = 'kernel';
    return true;
  }

  /** Tokens typed into the view changed: place them in the shown layout (camera kept). */
  placeAdded(): void {
    if (this.base) this.show(this.base.qk, this.base.positions, this.base.dims, this.base.method, true);
  }

  /**
   * Point sizes follow `size_by` (uniform, or by the norm of each normalized Q/K vector)
   * and `hide_queries` / `hide_keys` (size 0: not drawn, not picked).
   */
  applySizes(): void {
    const scene = this.surface.scene;
    if (!this.shown || !scene) return;
    const { queries, keys, nTokens, dHead } = this.shown.qk;
    const hidden = hiddenPoints(nTokens, this.ctx.model.get('hide_queries') ?? false, this.ctx.model.get('hide_keys') ?? false);
    this.picker.setHidden(hidden);
    this.marks.hiddenPoints = String(hidden ? hidden.reduce((sum, v) => sum + v, 0) : 0);
    let sizes: Float32Array | null = null;
    if (this.ctx.model.get('size_by') === 'norm') {
      const normalize = this.ctx.model.get('normalize');
      const q = normalizeQK(queries, keys, nTokens, dHead, { translate: normalize, scale: normalize });
      sizes = normSizes(q.queries, q.keys, nTokens, dHead);
    }
    if (hidden) {
      sizes ??= new Float32Array(2 * nTokens).fill(1);
      for (let i = 0; i < sizes.length; i++) if (hidden[i]) sizes[i] = 0;
    }
    scene.setSizes(sizes);
    this.drawLines();
  }

  /** Colours and legend follow `color_by` (with `pos_mod_k`, `hide_special` where they matter) and the theme. */
  recolor(): void {
    if (!this.shown || !this.surface.scene) return;
    this.surface.setColoring(this.coloring(this.shown.qk));
    this.marks.colorBy = this.ctx.model.get('color_by');
  }

  private coloring(qk: HeadQK): Coloring {
    const model = this.ctx.model;
    const { scale, causal } = this.ctx.captureInfo(this.heads.capture());
    const head = { queries: qk.queries, keys: qk.keys, dHead: qk.dHead, normalize: model.get('normalize'), scale, causal, hidden: this.ctx.hiddenKeys(), k: model.get('pos_mod_k') ?? 5 };
    return pointColors(model.get('color_by'), this.ctx.headTokens(), qk.nTokens, this.ctx.theme, head);
  }

  applyTheme(): void {
    this.surface.scene?.setTheme(this.ctx.theme.background, this.ctx.theme.ring);
    this.recolor();
    this.drawLines();
    this.aside?.applyTheme(this.shown?.qk ?? null);
  }

  /**
   * Emphasise token `row` (its query and key) as hovered elsewhere (-1: none); with
   * `tooltip`, show its tooltip at this plot's query point.
   */
  linkHover(row: number, tooltip = false): void {
    this.linkedHover = row;
    this.applyEmphasis();
    const scene = this.surface.scene;
    if (row < 0 || !tooltip || !this.shown || !scene || row >= this.shown.qk.nTokens) {
      this.surface.tooltip.hide();
      return;
    }
    const [x, y] = scene.pointToCanvas(row);
    this.showTooltip(row, row, x, y);
  }

  /** Selection, search and the focused query's top keys; then the lines, the view beside and the status follow. */
  applyEmphasis(): void {
    if (!this.shown || !this.surface.scene) return;
    const highlights = { selected: this.ctx.selectedRows(), matches: this.ctx.searchMatches(), hovered: this.linkedHover };
    const focus = this.focus();
    const emphasis = pointEmphasis(this.shown.qk.nTokens, highlights, focus);
    if (this.linkedPair) highlightPair(emphasis, this.shown.qk.nTokens, this.linkedPair);
    this.surface.setEmphasis(emphasis);
    this.drawLines(focus);
    this.aside?.render(this.shown.qk);
    this.updateStatus();
  }

  updateStatus(): void {
    if (!this.shown || this.ctx.model.get('view') !== this.shownIn) return; // a hidden view leaves the status alone
    this.setStatus(headStatus(this.ctx, this.shown.qk, this.shown.method));
  }

  resetCamera(): void {
    this.surface.scene?.resetCamera();
  }

  /** The plot as drawn, for PNG/SVG export. */
  figure(): Figure {
    const scene = this.surface.scene;
    if (!scene || !this.shown) throw new Error('nothing to export yet: the head has no layout');
    return headFigure(this.ctx, scene, this.surface, this.shown, this.heads.capture());
  }

  /** The plot re-rendered at `scale` x with its figure: one panel of a PNG export. */
  pngPanel(scale: number): PngPanel {
    checkPngScale(scale);
    const figure = this.figure(); // throws while there is no layout, so the scene exists below
    return { figure, plot: this.surface.scene!.renderAt(scale) };
  }

  /** PNG at `scale` x the on-screen size, or SVG. */
  async exportFigure(format: 'png' | 'svg', scale = 1): Promise<Blob> {
    if (format === 'svg') return new Blob([figuresToSvg([this.figure()])], { type: 'image/svg+xml' });
    return composePng([this.pngPanel(scale)], scale);
  }

  dispose(): void {
    this.camera?.dispose();
    this.sprites.dispose();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.surface.dispose();
    this.aside?.dispose();
    this.element.remove();
  }

  private show(qk: HeadQK, positions: Float32Array, dims: 2 | 3, method: string, keepCamera = false): void {
    const scene = this.surface.scene;
    if (!scene) return;
    // The capture's head and layout; typed-in tokens (if any) are placed into it.
    this.base = { qk, positions, dims, method };
    const placed = placeTypedText(this.ctx, this.heads.capture(), qk, positions, dims, method);
    const previous = this.shown;
    const sameHead = previous && previous.qk.layer === placed.qk.layer && previous.qk.head === placed.qk.head && previous.dims === dims;
    this.shown = { qk: placed.qk, positions: placed.positions, dims, method };
    this.picker.setPoints(placed.positions, dims);
    this.surface.tooltip.hide(); // the point under the pointer is a different one now
    const coloring = this.coloring(placed.qk);
    // Keep the camera when only the method changed (PCA -> UMAP refits: the scale differs).
    scene.setPoints(placed.positions, dims, coloring.rgb, !keepCamera && (!sameHead || method !== 'pca'));
    if (placed.marked) scene.setMarked(placed.marked);
    this.sprites.apply();
    this.applySizes();
    if (!previous) this.camera?.restore();
    this.surface.setHint(dims);
    this.recolor();
    this.applyEmphasis();
    this.marks.layer = String(placed.qk.layer);
    this.marks.head = String(placed.qk.head);
    this.marks.method = method;
    this.marks.layoutSource = 'browser';
    this.marks.added = String(placed.qk.nTokens - qk.nTokens);
    this.marks.ready = 'true';
  }

  /** The focused query (one selected token) of the shown head and its top keys. */
  private focus(): FocusedQuery | null {
    return focusedQuery(this.ctx, this.shown?.qk, this.heads.capture());
  }

  /** The overlays that follow the camera: attention lines and token labels. */
  private drawLines(focus = this.focus()): void {
    const scene = this.surface.scene;
    this.drawLabels(focus);
    if (!focus || !scene || !this.shown) {
      this.surface.drawLines([]);
      this.marks.lines = '0';
      return;
    }
    const lines = attentionLines(focus, this.shown.qk.nTokens, (point) => scene.pointToCanvas(point), this.ctx.theme.foreground, this.ctx.theme.key);
    this.surface.drawLines(lines);
    this.marks.lines = String(lines.length);
  }

  /** Token labels (`labels`) of the points on screen, once zoomed in enough to read them. */
  private drawLabels(focus: { row: number } | null): void {
    const scene = this.surface.scene;
    const { foreground, background } = this.ctx.theme;
    if (!scene || !this.shown || !this.ctx.model.get('labels')) {
      this.surface.drawLabels([], foreground, background);
      this.marks.labels = '0';
      return;
    }
    const n = this.shown.qk.nTokens;
    const labels = tokenLabels(this.ctx.headTokens(), n, {
      xy: scene.projectAll(),
      width: this.surface.element.clientWidth || 640,
      height: this.surface.element.clientHeight || 480,
      emphasis: this.surface.emphasis,
      hidden: hiddenPoints(n, this.ctx.model.get('hide_queries') ?? false, this.ctx.model.get('hide_keys') ?? false),
      focus: focus?.row ?? -1,
      measure: (text) => this.surface.labels.measure(text),
    });
    this.surface.drawLabels(labels, foreground, background);
    this.marks.labels = String(labels.length);
  }

  private resize(): void {
    this.surface.resize();
    this.picker.invalidate();
    this.drawLines();
  }

  /** The tooltip of `point` (token `row`) at canvas (x, y); false without tokens. */
  private showTooltip(point: number, row: number, x: number, y: number): boolean {
    if (!this.shown) return false;
    const content = tokenTooltip(this.ctx.headTokens(), point, row, this.shown.qk.nTokens, this.base?.qk.nTokens ?? Infinity);
    if (!content) return false;
    this.surface.tooltip.show(content, x, y, this.surface.element.getBoundingClientRect());
    return true;
  }

  private bindPointer(): () => void {
    return bindPointer(this.surface, this.picker, {
      shownTokens: () => this.shown?.qk.nTokens ?? null,
      showTooltip: (point, row, x, y) => this.showTooltip(point, row, x, y),
      hovered: (row) => {
        this.marks.hover = row < 0 ? '' : String(row);
        this.options.onHover?.(row);
      },
      left: () => this.options.onHover?.(-1),
      select: (rows) => this.ctx.setSelection(rows),
    });
  }
}
