/**
 * A head plot's drawing surface: the WebGL scatter scene and what lies over it (attention
 * lines, lasso, legend, controls hint, tooltip), and what it draws (colours, emphasis,
 * lines, legend), kept for figure export.
 */
import type { OverlayLine } from '../../render/overlay';
import { LineOverlay } from '../../render/overlay';
import { LabelOverlay, type DrawnLabel } from '../../render/labels';
import { EMPHASIS, ScatterScene } from '../../render/scatter';
import { h } from '../../ui/dom';
import { LassoOverlay } from '../../ui/lasso';
import { Tooltip } from '../../ui/tooltip';
import type { Coloring, LegendEntry } from '../coloring';

/** Legend entries shown (and exported) at most. */
const LEGEND_ENTRIES = 12;

export class PlotSurface {
  readonly element = h('div', { className: 'av-plot', attrs: { tabindex: '-1' } });
  readonly tooltip = new Tooltip();
  readonly lasso = new LassoOverlay();
  private readonly lines = new LineOverlay();
  readonly labels = new LabelOverlay();
  private readonly legend = h('div', { className: 'av-legend' });
  private readonly hint = h('div', { className: 'av-hint' });
  private sceneOrNull: ScatterScene | null = null;
  /** What is drawn, kept for figure export. */
  colors: Float32Array = new Float32Array(0);
  emphasis: Float32Array = new Float32Array(0);
  legendEntries: LegendEntry[] = [];
  lineList: OverlayLine[] = [];
  labelList: DrawnLabel[] = [];

  /** `showMessage` says why when WebGL cannot start (the surface then has no scene). */
  constructor(showMessage: (text: string) => void) {
    try {
      this.sceneOrNull = new ScatterScene(this.element);
    } catch (error) {
      showMessage(`attentionviz could not start WebGL, so the plot cannot be drawn.\n${String(error)}`);
    }
    this.element.append(this.lines.canvas, this.labels.canvas, this.lasso.element, this.legend, this.hint, this.tooltip.element);
  }

  /** Null when WebGL could not start, and after dispose(). */
  get scene(): ScatterScene | null {
    return this.sceneOrNull;
  }

  /** The controls hint for a 2D or 3D plot. */
  setHint(dims: 2 | 3): void {
    this.hint.textContent = dims === 3 ? 'drag: orbit · right-drag: pan · wheel: zoom · click: select · shift-drag: lasso' : 'drag: pan · wheel: zoom · click: select · shift-drag: lasso';
  }

  setColoring(coloring: Coloring): void {
    this.sceneOrNull?.setColors(coloring.rgb);
    this.colors = coloring.rgb;
    this.legendEntries = coloring.legend.slice(0, LEGEND_ENTRIES);
    this.legend.replaceChildren(
      ...this.legendEntries.map(({ color, label }) => h('span', {}, Object.assign(h('span', { className: 'av-swatch' }), { style: `background:${color}` }), label)),
    );
  }

  setEmphasis(emphasis: Float32Array): void {
    this.sceneOrNull?.setEmphasis(emphasis);
    this.emphasis = emphasis;
  }

  /** How point i is drawn (normal before anything is). */
  emphasisOf(point: number): number {
    return this.emphasis[point] ?? EMPHASIS.normal;
  }

  drawLines(lines: OverlayLine[]): void {
    this.lineList = lines;
    this.lines.draw(lines);
  }

  /** Token labels, in `text` colour over a `halo` of the background. */
  drawLabels(labels: DrawnLabel[], text: string, halo: string): void {
    this.labelList = labels;
    this.labels.draw(labels, text, halo);
  }

  /** Scene and line overlay follow the element's size (640 x 480 while it has none). */
  resize(): void {
    const width = this.element.clientWidth || 640;
    const height = this.element.clientHeight || 480;
    this.sceneOrNull?.resize(width, height);
    this.lines.resize(width, height);
    this.labels.resize(width, height);
  }

  dispose(): void {
    this.sceneOrNull?.dispose();
    this.sceneOrNull = null;
  }
}
