/**
 * The compare view: two heads side by side, linked: two heads of one capture, or (with
 * `_compare`, Python's `compare_to=`) a head of another model's capture over the same
 * token rows on the right. The left panel shows `head`, the right one `compare_head`;
 * each is a HeadView panel (the single-head view's scatterplot with the current
 * projection, dims, normalization, colour and size modes) under a small header "L2 H3"
 * (with two models "model · L2 H3") with its own layer/head pickers. Selection and search are
 * model traits, so both panels show them; hovering a token in one panel emphasises its
 * query and key in the other and shows its tooltip there. The panels (two WebGL contexts)
 * exist only while the compare view is shown: a page of widgets stays far from the
 * browser's limit of live contexts.
 */
import { composePng } from '../export/png';
import { figuresToSvg } from '../export/svg';
import { h, select } from '../ui/dom';
import type { ViewContext } from './context';
import { HeadView, type ViewHandle } from './head';

type HeadTrait = 'head' | 'compare_head';

interface Panel {
  trait: HeadTrait;
  plot: HeadView;
  title: HTMLElement;
  layer: HTMLSelectElement;
  head: HTMLSelectElement;
  status: HTMLElement;
}

/** The panel element carries its plot's handle as `attentionviz` (as the root does for the head view). */
export type ComparePanelElement = HTMLElement & { attentionviz: ViewHandle };

export class CompareView {
  readonly element = h('div', { className: 'av-compare', attrs: { 'aria-label': 'compare two heads' } });
  /** Left (`head`) and right (`compare_head`) while shown; none otherwise. */
  private panels: Panel[] = [];
  /** Last token row reported hovered, and by which panel. */
  private hovered: { from: HeadTrait | null; row: number } = { from: null, row: -1 };

  constructor(private readonly ctx: ViewContext) {}

  /** Show or hide the view: the panels are built when shown and freed (WebGL too) when hidden. */
  show(visible: boolean): void {
    this.element.style.display = visible ? '' : 'none';
    if (visible && !this.panels.length) {
      this.panels = [this.panel('head', 'left'), this.panel('compare_head', 'right')];
      this.element.append(...this.panels.map((panel) => panel.plot.element));
      for (const panel of this.panels) panel.plot.applyTheme();
      this.syncHeaders();
    } else if (!visible && this.panels.length) {
      for (const panel of this.panels.splice(0)) panel.plot.dispose();
      this.hovered = { from: null, row: -1 };
      delete this.element.dataset.linkedHover;
    }
  }

  /**
   * `head` or `compare_head` changed: pickers and titles follow; the right panel loads its
   * head if that is another one (the left one reloads when the new head's Q/K arrive).
   */
  headsChanged(): void {
    this.syncHeaders();
    const right = this.panels.find((panel) => panel.trait === 'compare_head');
    const [layer, head] = this.ctx.compareHead();
    if (right && (right.plot.element.dataset.layer !== String(layer) || right.plot.element.dataset.head !== String(head))) right.plot.refresh();
  }

  refresh(): void {
    this.syncHeaders();
    for (const panel of this.panels) panel.plot.refresh();
  }

  /** Tokens typed into the view changed: each panel places them in its head's layout. */
  placeAdded(): void {
    for (const panel of this.panels) panel.plot.placeAdded();
  }

  applyEmphasis(): void {
    for (const panel of this.panels) panel.plot.applyEmphasis();
  }

  recolor(): void {
    for (const panel of this.panels) panel.plot.recolor();
  }

  applySizes(): void {
    for (const panel of this.panels) panel.plot.applySizes();
  }

  applyTheme(): void {
    for (const panel of this.panels) panel.plot.applyTheme();
  }

  showKernelLayout(): void {
    for (const panel of this.panels) panel.plot.showKernelLayout();
  }

  resetCamera(): void {
    for (const panel of this.panels) panel.plot.resetCamera();
  }

  /** Both panels side by side, as drawn: PNG at `scale` x the on-screen size, or SVG. */
  async exportFigure(format: 'png' | 'svg', scale = 1): Promise<Blob> {
    if (!this.panels.length) throw new Error('the compare view is not shown');
    if (format === 'svg') return new Blob([figuresToSvg(this.panels.map((panel) => panel.plot.figure()))], { type: 'image/svg+xml' });
    return composePng(this.panels.map((panel) => panel.plot.pngPanel(scale)), scale);
  }

  /** "L2-H0-vs-L2-H1": the heads shown, for file names. */
  heads(): string {
    const [[l0, h0], [l1, h1]] = [this.ctx.model.get('head'), this.ctx.compareHead()];
    return `L${l0}-H${h0}-vs-L${l1}-H${h1}`;
  }

  dispose(): void {
    for (const panel of this.panels.splice(0)) panel.plot.dispose();
    this.element.remove();
  }

  private panel(trait: HeadTrait, side: 'left' | 'right'): Panel {
    const title = h('span', { className: 'av-compare-title' });
    const status = h('span', { className: 'av-compare-status', attrs: { 'aria-live': 'polite' } });
    const range = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [String(i), String(i)]);
    // Each panel picks among its own capture's heads (the right one may be another model's).
    const { nLayers, nHeads } = this.ctx.captureInfo(this.ctx.sourceOf(trait));
    const layer = select(range(nLayers), '0', `${side} layer`);
    const head = select(range(nHeads), '0', `${side} head`);
    const pick = (): void => this.ctx.update({ [trait]: [Number(layer.value), Number(head.value)] });
    layer.addEventListener('change', pick);
    head.addEventListener('change', pick);
    const plot = new HeadView(this.ctx, {
      headTrait: trait,
      shownIn: 'compare',
      onHover: (row) => this.linkHover(trait, row),
      // The header's title already names the head.
      setStatus: (text) => {
        status.textContent = text.replace(/^L\d+ H\d+ · /, '');
      },
    });
    const header = h('div', { className: 'av-compare-header' }, title, h('label', {}, 'layer ', layer), h('label', {}, 'head ', head), status);
    plot.element.classList.add('av-compare-panel');
    plot.element.dataset.side = side;
    plot.element.prepend(header);
    Object.assign(plot.element, { attentionviz: plot.handle() });
    return { trait, plot, title, layer, head, status };
  }

  /** The token hovered in the panel showing `from` is emphasised, with its tooltip, in the other. */
  private linkHover(from: HeadTrait, row: number): void {
    if (this.hovered.from === from && this.hovered.row === row) return; // the pointer moved within one point
    this.hovered = { from, row };
    const other = this.panels.find((panel) => panel.trait !== from);
    other?.plot.linkHover(row, true);
    this.element.dataset.linkedHover = row < 0 ? '' : String(row);
  }

  private syncHeaders(): void {
    const heads: Record<HeadTrait, [number, number]> = { head: this.ctx.model.get('head'), compare_head: this.ctx.compareHead() };
    // Two models: each title names its model.
    const twoModels = this.ctx.compareCapture() !== null;
    for (const panel of this.panels) {
      const [layer, head] = heads[panel.trait];
      const model = twoModels ? `${this.ctx.captureInfo(this.ctx.sourceOf(panel.trait)).modelName} · ` : '';
      panel.title.textContent = `${model}L${layer} H${head}`;
      panel.title.title = panel.title.textContent;
      panel.layer.value = String(layer);
      panel.head.value = String(head);
    }
    if (this.panels.length) this.ctx.setStatus(`comparing ${this.panels.map((panel) => panel.title.textContent).join(' with ')}`);
  }
}
