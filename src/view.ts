/**
 * The single-head view: wires the model (traits), compute/ (normalization, PCA,
 * picking, lasso), render/ (three.js scene) and ui/ (toolbar, tooltip, legend).
 * Host-agnostic: the model may be anywidget's or an in-memory one.
 */
import { categoryColors, hexToRgb, queryKeyColors, valueColors, type RGB } from './compute/colors';
import { jointRows, normalizeQK } from './compute/normalize';
import { pca } from './compute/pca';
import { pointsInPolygon } from './compute/polygon';
import { PointIndex } from './compute/spatial';
import { decodeMatrix, decodeRows, encodeRows } from './model/decode';
import { decodeTokenTable, type TokenTable } from './model/tokens';
import type { ViewModel, ViewTraits } from './model/traits';
import { EMPHASIS, ScatterScene } from './render/scatter';
import { h } from './ui/dom';
import { LassoOverlay } from './ui/lasso';
import { resolveTheme, watchTheme, type Theme } from './ui/theme';
import { Toolbar } from './ui/toolbar';
import { Tooltip } from './ui/tooltip';
import { css } from './ui/style';

/** Pixels the pointer may travel between down and up and still count as a click. */
const CLICK_SLOP = 4;
/** Hover/click reach around a point, in CSS pixels. */
const PICK_RADIUS = 8;

const SEQUENCE_PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/**
 * What a view exposes on its root element (`el.querySelector('.attentionviz').attentionviz`)
 * for automation and tests: where points are drawn, and what is shown.
 */
export interface ViewHandle {
  pointCount(): number;
  /** Canvas-relative CSS-pixel position of point i (queries 0..n-1, keys n..2n-1). */
  canvasPosition(point: number): [number, number];
  tokenRow(point: number): number;
  /** Renders synchronously and returns the canvas (for PNG export). */
  snapshot(): HTMLCanvasElement;
}

interface Layout {
  nTokens: number;
  /** Interleaved 2D positions of 2N points. */
  xy: Float32Array;
  index: PointIndex;
}

export function mountView(model: ViewModel, el: HTMLElement): () => void {
  const root = h('div', { className: 'attentionviz', attrs: { 'data-testid': 'attentionviz' } });
  const style = h('style', {}, css);
  const plot = h('div', { className: 'av-plot' });
  const message = h('div', { className: 'av-message', attrs: { role: 'alert' } });
  const legend = h('div', { className: 'av-legend' });
  const hint = h('div', { className: 'av-hint' }, 'drag: pan · wheel: zoom · click: select · shift-drag: lasso');
  const tooltip = new Tooltip();
  const lasso = new LassoOverlay();
  const cleanups: Array<() => void> = [];
  const listen = (event: `change:${keyof ViewTraits & string}`, callback: () => void): void => {
    model.on(event, callback);
    cleanups.push(() => model.off(event, callback));
  };

  const toolbar = new Toolbar({
    onHead: (layer, head) => {
      model.set('head', [layer, head]);
      model.save_changes();
    },
    onNormalize: (normalize) => {
      model.set('normalize', normalize);
      model.save_changes();
    },
    onColorBy: (colorBy) => {
      model.set('color_by', colorBy);
      model.save_changes();
    },
    onReset: () => scene?.resetCamera(),
  });
  root.append(style, toolbar.element, plot);
  el.append(root);

  const showMessage = (text: string): void => {
    message.textContent = text;
    message.classList.toggle('av-visible', text.length > 0);
  };

  let scene: ScatterScene | null = null;
  try {
    scene = new ScatterScene(plot);
  } catch (error) {
    // Never a blank canvas: say why nothing is drawn.
    showMessage(`attentionviz could not start WebGL, so the plot cannot be drawn.\n${String(error)}`);
  }
  plot.append(lasso.element, legend, hint, tooltip.element, message);

  let tokens: TokenTable | null = null;
  let layout: Layout | null = null;
  let theme: Theme = resolveTheme(model.get('theme'));

  const applyTheme = (): void => {
    theme = resolveTheme(model.get('theme'));
    root.classList.toggle('av-dark', theme.name === 'dark');
    scene?.setTheme(theme.background, theme.ring);
    recolor();
  };

  const updateLegend = (): void => {
    const colorBy = model.get('color_by');
    const swatch = (color: string, label: string): HTMLElement =>
      h('span', {}, Object.assign(h('span', { className: 'av-swatch' }), { style: `background:${color}` }), label);
    if (colorBy === 'qk') legend.replaceChildren(swatch(theme.query, 'query'), swatch(theme.key, 'key'));
    else if (colorBy === 'pos_norm') legend.replaceChildren(swatch('#440154', 'start'), swatch('#fde725', 'end of sentence'), h('span', {}, '(keys lighter)'));
    else legend.replaceChildren(h('span', {}, 'colour: sequence'));
  };

  function pointColors(): Float32Array | null {
    if (!tokens || !layout) return null;
    const n = layout.nTokens;
    const colorBy = model.get('color_by');
    if (colorBy === 'pos_norm') {
      const ramp: RGB[] = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'].map(hexToRgb);
      const light = ramp.map((c) => c.map((v) => v + (1 - v) * 0.45) as RGB);
      return valueColors(tokens.posNorm.subarray(0, n), ramp, light);
    }
    if (colorBy === 'seq') return categoryColors(tokens.seq.subarray(0, n), SEQUENCE_PALETTE.map(hexToRgb));
    return queryKeyColors(n, hexToRgb(theme.query), hexToRgb(theme.key));
  }

  function recolor(): void {
    updateLegend();
    const rgb = pointColors();
    if (rgb && scene) scene.setColors(rgb);
  }

  function selectedRows(): Uint32Array {
    return decodeRows(model.get('_selected_rows'));
  }

  function applySelection(): void {
    if (!layout || !scene) return;
    const rows = selectedRows();
    const n = layout.nTokens;
    const emphasis = new Float32Array(2 * n).fill(rows.length ? EMPHASIS.dimmed : EMPHASIS.normal);
    for (const row of rows) {
      if (row >= n) continue;
      emphasis[row] = EMPHASIS.highlighted;
      emphasis[n + row] = EMPHASIS.highlighted;
    }
    scene.setEmphasis(emphasis);
    updateStatus();
  }

  function updateStatus(): void {
    if (!layout) return;
    const [layer, head] = model.get('head');
    const count = selectedRows().length;
    toolbar.setStatus(
      `L${layer} H${head} · ${layout.nTokens.toLocaleString()} tokens · PCA${count ? ` · ${count} selected` : ''}`,
    );
  }

  function setSelection(rows: Iterable<number>): void {
    const unique = Uint32Array.from(new Set(rows)).sort();
    model.set('_selected_rows', encodeRows(unique));
    model.save_changes();
  }

  function loadTokens(): void {
    const buffer = model.get('_tokens');
    tokens = buffer ? decodeTokenTable(buffer) : null;
  }

  function computeLayout(): void {
    const meta = model.get('_qk_meta');
    const queryBuffer = model.get('_queries');
    const keyBuffer = model.get('_keys');
    if (!meta || !queryBuffer || !keyBuffer || !scene) return;
    const { n_tokens: n, d_head: d, dtype } = meta;
    const queries = decodeMatrix(queryBuffer, dtype, n, d);
    const keys = decodeMatrix(keyBuffer, dtype, n, d);
    const normalize = model.get('normalize');
    const normalized = normalizeQK(queries, keys, n, d, { translate: normalize, scale: normalize });
    const { coordinates } = pca(jointRows(normalized.queries, normalized.keys), 2 * n, d, 2);
    layout = { nTokens: n, xy: coordinates, index: new PointIndex(coordinates) };
    tooltip.hide(); // the point under the pointer is a different one now
    const rgb = pointColors() ?? queryKeyColors(n, hexToRgb(theme.query), hexToRgb(theme.key));
    scene.setPoints(coordinates, rgb);
    applySelection();
    toolbar.setHead(meta.layer, meta.head);
    root.dataset.layer = String(meta.layer);
    root.dataset.head = String(meta.head);
  }

  const guarded = (what: string, work: () => void) => (): void => {
    try {
      work();
      showMessage(model.get('error') ?? '');
    } catch (error) {
      showMessage(`attentionviz could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(error);
    }
  };
  const refreshAll = guarded('show this head', () => {
    loadTokens();
    computeLayout();
  });
  const refreshLayout = guarded('show this head', computeLayout);

  toolbar.setTitle(model.get('model_name') || 'attentionviz');
  const [layer0, head0] = model.get('head');
  toolbar.setHeadChoices(model.get('n_layers'), model.get('n_heads'), layer0, head0);
  toolbar.setNormalize(model.get('normalize'));
  toolbar.setColorBy(model.get('color_by'));

  listen('change:_tokens', refreshAll);
  listen('change:_qk_meta', refreshLayout);
  listen('change:normalize', () => {
    toolbar.setNormalize(model.get('normalize'));
    refreshLayout();
  });
  listen('change:_selected_rows', applySelection);
  listen('change:color_by', () => {
    toolbar.setColorBy(model.get('color_by'));
    recolor();
  });
  listen('change:theme', applyTheme);
  listen('change:error', () => showMessage(model.get('error') ?? ''));
  listen('change:head', () => {
    const [layer, head] = model.get('head');
    toolbar.setHead(layer, head);
  });
  cleanups.push(watchTheme(applyTheme));

  // Pointer: hover tooltip, click to select a token, shift-drag to lasso.
  let down: { x: number; y: number; lasso: boolean } | null = null;
  const canvasPoint = (event: PointerEvent): [number, number] => {
    const rect = plot.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const pick = (px: number, py: number): number => {
    if (!layout || !scene) return -1;
    const [x, y] = scene.canvasToWorld(px, py);
    return layout.index.nearest(x, y, PICK_RADIUS * scene.worldPerPixel());
  };
  const onPointerDown = (event: PointerEvent): void => {
    const [x, y] = canvasPoint(event);
    down = { x, y, lasso: event.shiftKey && event.button === 0 };
    if (down.lasso) {
      scene?.setControlsEnabled(false);
      lasso.start(x, y);
      plot.setPointerCapture?.(event.pointerId);
    }
  };
  const onPointerMove = (event: PointerEvent): void => {
    const [x, y] = canvasPoint(event);
    if (down?.lasso) {
      lasso.extend(x, y);
      return;
    }
    const point = down ? -1 : pick(x, y);
    if (point < 0 || !tokens || !layout) {
      tooltip.hide();
      root.dataset.hover = '';
      return;
    }
    const n = layout.nTokens;
    const row = point % n;
    const context = tokens.rowsBySeq.get(tokens.seq[row]) ?? [row];
    tooltip.show(
      {
        kind: point < n ? 'query' : 'key',
        token: tokens.text[row],
        context: context.map((r) => tokens!.text[r]),
        contextIndex: context.indexOf(row),
        detail: `sequence ${tokens.seq[row]} · position ${tokens.pos[row]} · row ${row}`,
      },
      x,
      y,
      plot.getBoundingClientRect(),
    );
    root.dataset.hover = String(row);
  };
  const onPointerUp = (event: PointerEvent): void => {
    const [x, y] = canvasPoint(event);
    const start = down;
    down = null;
    if (!start || !layout || !scene) return;
    if (start.lasso) {
      scene.setControlsEnabled(true);
      const polygon = lasso.finish();
      const world: number[] = [];
      for (let i = 0; i < polygon.length; i += 2) world.push(...scene.canvasToWorld(polygon[i], polygon[i + 1]));
      const inside = pointsInPolygon(layout.xy, world);
      const n = layout.nTokens;
      setSelection(Array.from(inside, (point) => point % n));
      return;
    }
    if (Math.hypot(x - start.x, y - start.y) > CLICK_SLOP) return;
    const point = pick(x, y);
    setSelection(point < 0 ? [] : [point % layout.nTokens]);
  };
  const onPointerLeave = (): void => tooltip.hide();
  plot.addEventListener('pointerdown', onPointerDown, { capture: true });
  plot.addEventListener('pointermove', onPointerMove);
  plot.addEventListener('pointerup', onPointerUp);
  plot.addEventListener('pointerleave', onPointerLeave);
  cleanups.push(() => {
    plot.removeEventListener('pointerdown', onPointerDown, { capture: true });
    plot.removeEventListener('pointermove', onPointerMove);
    plot.removeEventListener('pointerup', onPointerUp);
    plot.removeEventListener('pointerleave', onPointerLeave);
  });

  const resizeObserver = new ResizeObserver(() => scene?.resize(plot.clientWidth, plot.clientHeight));
  resizeObserver.observe(plot);
  cleanups.push(() => resizeObserver.disconnect());
  scene?.resize(plot.clientWidth || 640, plot.clientHeight || 480);

  const handle: ViewHandle = {
    pointCount: () => (layout ? 2 * layout.nTokens : 0),
    canvasPosition: (point) => {
      if (!layout || !scene) throw new Error('no layout yet');
      return scene.worldToCanvas(layout.xy[2 * point], layout.xy[2 * point + 1]);
    },
    tokenRow: (point) => (layout ? point % layout.nTokens : -1),
    snapshot: () => {
      if (!scene) throw new Error('WebGL is unavailable');
      scene.renderNow();
      return scene.canvas;
    },
  };
  Object.assign(root, { attentionviz: handle });

  applyTheme();
  refreshAll();
  if (layout) root.dataset.ready = 'true';
  listen('change:_qk_meta', () => {
    if (layout) root.dataset.ready = 'true';
  });

  return () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    scene?.dispose();
    scene = null;
    root.remove();
  };
}
