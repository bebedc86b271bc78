/**
 * The head map view (`view = "headmap"`): every head of the capture one point, placed by
 * how alike its attention is to the other heads' (the host's `head-map` reply, see
 * model/head_map.ts), coloured by layer or by a summary number (`headmap_color`). Hover
 * shows the head's label, numbers, closest head and a PCA thumbnail of its Q/K; a click
 * (or Enter on a focused point) opens the head.
 */
import { hexToRgb, rampColor, type RGB } from '../compute/colors';
import { jointLayout } from '../layout/joint';
import type { HeadMapData } from '../model/head_map';
import { bindZoom, drawHeadMap, type HeadMapPicture } from '../render/head_map_svg';
import { drawThumbnail } from '../render/thumbnail';
import { h } from '../ui/dom';
import { pointColors } from './coloring';
import type { ViewContext } from './context';

/** Viridis, in 5 stops: ordered, readable on light and dark, colour-blind safe. */
const VIRIDIS: RGB[] = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'].map(hexToRgb);
const STAT_LABELS: Record<string, string> = { entropy: 'entropy (nats)', distance: 'Q-K distance', offset: 'attended offset (tokens)' };
/** Tokens of a hover thumbnail (first rows): enough for its 120 px. */
const THUMBNAIL_ROWS = 1500;
const THUMBNAIL_SIZE = 120;
/** Heads closer than this (RMS Hellinger) are "at the same place" in the tooltip. */
const SAME_PLACE = 1e-3;

const toHex = (rgb: RGB): string => `#${rgb.map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join('')}`;
const label = (flat: number, nHeads: number): string => `L${Math.floor(flat / nHeads)} H${flat % nHeads}`;

export type HeadMapLoader = () => Promise<HeadMapData>;

export class HeadMapView {
  readonly element = h('div', { className: 'av-headmap', attrs: { 'data-testid': 'headmap' } });
  private readonly plot = h('div', { className: 'av-headmap-plot' });
  private readonly legend = h('div', { className: 'av-headmap-legend' });
  private readonly tooltip = h('div', { className: 'av-headmap-tooltip', attrs: { role: 'tooltip' } });
  private data: HeadMapData | null = null;
  private loading: Promise<void> | null = null;
  private picture: HeadMapPicture | null = null;
  private readonly thumbnails = new Map<number, Promise<HTMLCanvasElement>>();
  private hovered = -1;
  private disposed = false;
  private unbindZoom: (() => void) | null = null;

  constructor(
    private readonly ctx: ViewContext,
    private readonly load: HeadMapLoader,
    private readonly onOpen: (layer: number, head: number) => void,
  ) {
    this.plot.style.position = 'relative';
    this.plot.append(this.tooltip);
    this.tooltip.style.display = 'none';
    this.element.append(this.legend, this.plot);
  }

  /** Show it: the first time asks the host for the map, later redraws what it has. */
  start(): void {
    if (this.data) return this.redraw();
    if (this.loading) return;
    this.ctx.setStatus('head map: comparing every head\'s attention…');
    this.ctx.root.dataset.headmap = 'loading';
    this.loading = this.load().then(
      (data) => {
        if (this.disposed) return;
        this.data = data;
        this.ctx.root.dataset.headmap = 'ready';
        this.redraw();
      },
      (error: unknown) => {
        this.loading = null; // a later visit tries again
        if (this.disposed) return;
        this.ctx.root.dataset.headmap = 'error';
        this.legend.textContent = `The head map could not be computed: ${error instanceof Error ? error.message : String(error)}`;
        this.ctx.setStatus('');
      },
    );
  }

  /** Redraw with the current colour mode and theme (no-op before the map arrived). */
  redraw(): void {
    const data = this.data;
    if (!data || this.disposed) return;
    const n = data.nLayers * data.nHeads;
    const colors = this.colors(data);
    const points = Array.from({ length: n }, (_, i) => ({
      layer: Math.floor(i / data.nHeads),
      head: i % data.nHeads,
      x: data.coords[2 * i],
      y: data.coords[2 * i + 1],
      color: colors[i],
    }));
    const width = Math.max(320, Math.min(900, (this.element.clientWidth || 720) - 16));
    const height = Math.round(Math.min(560, width * 0.72));
    this.picture = drawHeadMap(points, width, height, this.ctx.theme.background);
    this.unbindZoom?.();
    this.unbindZoom = bindZoom(this.picture, width, height);
    this.picture.circles.forEach((circle, i) => this.bindPoint(circle, i));
    this.plot.replaceChildren(this.picture.svg, this.tooltip);
    this.showLegend(data);
    const [a, b] = data.explained;
    this.ctx.setStatus(
      `head map · ${n} heads · ${data.measure === 'hellinger' ? 'RMS Hellinger distance' : data.measure} over ${data.nQueries} queries · ` +
        `classical MDS (axes show ${Math.round(100 * (a ?? 0))}% + ${Math.round(100 * (b ?? 0))}% of the variance)`,
    );
  }

  /** The map as an SVG file (the points as they are drawn). */
  exportSvg(): Promise<Blob> {
    if (!this.picture) return Promise.reject(new Error('the head map is not drawn yet'));
    const text = new XMLSerializer().serializeToString(this.picture.svg);
    return Promise.resolve(new Blob([text], { type: 'image/svg+xml' }));
  }

  /** The map as a PNG, `scale` x its size on screen. */
  async exportPng(scale: number): Promise<Blob> {
    const svg = await this.exportSvg();
    const width = Number(this.picture!.svg.getAttribute('width'));
    const height = Number(this.picture!.svg.getAttribute('height'));
    const url = URL.createObjectURL(svg);
    try {
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = h('canvas', { attrs: { width: String(Math.round(width * scale)), height: String(Math.round(height * scale)) } });
      canvas.getContext('2d')?.drawImage(image, 0, 0, canvas.width, canvas.height);
      return await new Promise<Blob>((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'));
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.unbindZoom?.();
    this.element.remove();
  }

  /** Colour per head: its layer, or the chosen number, on the ramp (min..max of all heads). */
  private colors(data: HeadMapData): string[] {
    const n = data.nLayers * data.nHeads;
    const mode = this.ctx.model.get('headmap_color') ?? 'layer';
    const values = data.stats[mode];
    if (mode === 'layer' || !values) return Array.from({ length: n }, (_, i) => toHex(rampColor(VIRIDIS, Math.floor(i / data.nHeads) / Math.max(1, data.nLayers - 1))));
    let min = Infinity, max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return Array.from(values, (v) => toHex(rampColor(VIRIDIS, max > min ? (v - min) / (max - min) : 0.5)));
  }

  private showLegend(data: HeadMapData): void {
    const mode = this.ctx.model.get('headmap_color') ?? 'layer';
    const values = data.stats[mode];
    let low = 'layer 0', high = `layer ${data.nLayers - 1}`;
    if (mode !== 'layer' && values) {
      low = `${STAT_LABELS[mode] ?? mode} ${Math.min(...values).toFixed(2)}`;
      high = Math.max(...values).toFixed(2);
    }
    const bar = h('span', { className: 'av-headmap-ramp', attrs: { style: `background: linear-gradient(to right, ${VIRIDIS.map(toHex).join(', ')})` } });
    this.legend.replaceChildren(
      h('span', {}, low),
      bar,
      h('span', {}, high),
      h('span', { className: 'av-headmap-hint' }, 'near = alike attention · hover: numbers · click: open · wheel: zoom · drag: pan · double-click: fit'),
    );
  }

  private bindPoint(circle: SVGCircleElement, index: number): void {
    const data = this.data!;
    const open = (): void => this.onOpen(Math.floor(index / data.nHeads), index % data.nHeads);
    circle.addEventListener('click', open);
    circle.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      open();
    });
    const show = (): void => this.showTooltip(index, circle);
    circle.addEventListener('mouseenter', show);
    circle.addEventListener('focus', show);
    const hide = (): void => {
      if (this.hovered === index) this.hideTooltip();
    };
    circle.addEventListener('mouseleave', hide);
    circle.addEventListener('blur', hide);
  }

  private showTooltip(index: number, circle: SVGCircleElement): void {
    const data = this.data!;
    this.hovered = index;
    this.ctx.root.dataset.headmapHover = label(index, data.nHeads);
    const numbers = Object.entries(data.stats).map(([name, values]) => h('div', {}, `${STAT_LABELS[name] ?? name}: ${values[index].toFixed(3)}`));
    const nearest = data.nearest[index];
    const same: string[] = [];
    const n = data.nLayers * data.nHeads;
    for (let other = 0; other < n; other++) {
      if (other === index) continue;
      const dx = data.coords[2 * other] - data.coords[2 * index];
      const dy = data.coords[2 * other + 1] - data.coords[2 * index + 1];
      if (Math.hypot(dx, dy) < SAME_PLACE) same.push(label(other, data.nHeads));
    }
    const thumb = h('div', { className: 'av-headmap-thumb' });
    this.tooltip.replaceChildren(
      h('div', { className: 'av-tooltip-head' }, h('span', { className: 'av-tooltip-token' }, `layer ${Math.floor(index / data.nHeads)}, head ${index % data.nHeads}`)),
      thumb,
      ...numbers,
      h('div', { className: 'av-tooltip-detail' }, nearest !== undefined ? `closest: ${label(nearest, data.nHeads)} (distance ${data.nearestDistance[index].toFixed(3)})` : ''),
      ...(same.length ? [h('div', { className: 'av-tooltip-detail' }, `same place: ${same.slice(0, 8).join(', ')}${same.length > 8 ? ` +${same.length - 8}` : ''}`)] : []),
      h('div', { className: 'av-tooltip-detail' }, 'click to open'),
    );
    this.tooltip.style.display = 'block';
    this.place(circle);
    this.thumbnail(index)
      .then((canvas) => {
        if (this.hovered !== index) return;
        thumb.replaceChildren(canvas);
        this.place(circle); // taller now: keep it inside the plot
      })
      .catch((error: unknown) => {
        if (this.hovered === index) thumb.textContent = `(no thumbnail: ${error instanceof Error ? error.message : String(error)})`;
      });
  }

  /** Beside the point (where it is on screen: the map may be zoomed), inside the plot. */
  private place(circle: SVGCircleElement): void {
    const box = circle.getBoundingClientRect();
    const frame = this.plot.getBoundingClientRect();
    const cx = box.left + box.width / 2 - frame.left;
    const cy = box.top + box.height / 2 - frame.top;
    const tip = this.tooltip.getBoundingClientRect();
    // beside the point, on the side with room; above it when it would run off the bottom
    this.tooltip.style.left = `${cx + 12 + tip.width > frame.width ? Math.max(0, cx - 12 - tip.width) : cx + 12}px`;
    this.tooltip.style.top = `${cy - 20 + tip.height > frame.height ? Math.max(0, cy + 12 - tip.height) : Math.max(0, cy - 20)}px`;
  }

  private hideTooltip(): void {
    this.hovered = -1;
    this.tooltip.style.display = 'none';
  }

  /** The head's PCA (first rows, query/key colours), computed once per head on this thread (ms). */
  private thumbnail(index: number): Promise<HTMLCanvasElement> {
    const cached = this.thumbnails.get(index);
    if (cached) return cached;
    const data = this.data!;
    const made = this.ctx.qk.fetch(Math.floor(index / data.nHeads), index % data.nHeads, THUMBNAIL_ROWS).then((qk) => {
      const params = { ...this.ctx.layoutParams('pca'), dims: 2 as const };
      const positions = this.ctx.cachedLayout(qk, params) ?? jointLayout(qk.queries, qk.keys, qk.nTokens, qk.dHead, params);
      const canvas = h('canvas', { attrs: { width: String(THUMBNAIL_SIZE), height: String(THUMBNAIL_SIZE) } });
      drawThumbnail(canvas, positions, 2, pointColors('qk', null, qk.nTokens, this.ctx.theme).rgb, this.ctx.theme.background);
      return canvas;
    });
    made.catch(() => this.thumbnails.delete(index)); // retried on the next hover
    this.thumbnails.set(index, made);
    return made;
  }
}
