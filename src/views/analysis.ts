/**
 * The analysis pane beside the single-head plot (`analysis` trait): the attention pattern
 * heatmap of the focused sequence, the head's attention by offset over the corpus, or the
 * per-dimension products of the focused query with one key; plus the "weight by |v|"
 * switch (`weight_by_value`). Collapsed to one button when `analysis` is "none".
 */
import type { HeadQK } from '../model/qk_source';
import type { ViewTraits } from '../model/traits';
import { h } from '../ui/dom';
import { AggregateView } from './aggregate';
import type { ViewContext } from './context';
import { DimsView } from './dims';
import { HeatmapView } from './heatmap';
import { valueNormsOf } from './value_norms';

type Analysis = NonNullable<ViewTraits['analysis']>;
const TABS: Array<[Analysis, string, string]> = [
  ['pattern', 'pattern', 'Attention pattern of the focused sequence (rows queries, columns keys)'],
  ['offsets', 'offsets', 'Attention averaged over the corpus by relative offset (and position)'],
  ['dims', 'q·k dims', 'The focused query against one key, dimension by dimension'],
];

export class AnalysisPane {
  readonly element = h('div', { className: 'av-analysis', attrs: { 'aria-label': 'analysis pane' } });
  private readonly tabs = h('div', { className: 'av-analysis-tabs' });
  private readonly body = h('div', { className: 'av-analysis-body' });
  private readonly weightBox = h('input', { attrs: { type: 'checkbox', 'aria-label': 'weight by |v|' } });
  private readonly weightLabel = h('label', { className: 'av-analysis-weight', title: 'Weight attention by the key’s value-vector norm, α·|v| renormalized (Kobayashi et al. 2020): lines, sentence view, this pane' }, this.weightBox, '×|v|');
  private readonly heatmap: HeatmapView;
  private readonly aggregate: AggregateView;
  private readonly dims: DimsView;
  private readonly buttons = new Map<Analysis, HTMLButtonElement>();
  private qk: HeadQK | null = null;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly ctx: ViewContext,
    onPairHover: (queryRow: number, keyRow: number) => void,
  ) {
    this.heatmap = new HeatmapView(ctx, onPairHover);
    this.aggregate = new AggregateView(ctx);
    this.dims = new DimsView(ctx);
    const open = h('button', { className: 'av-analysis-open', title: 'Open the analysis pane: attention pattern, by offset, q·k per dimension', attrs: { type: 'button', 'data-control': 'analysis' } }, 'analysis');
    open.addEventListener('click', () => ctx.update({ analysis: 'pattern' }));
    this.buttons.set('none', open);
    for (const [value, label, title] of TABS) {
      const button = h('button', { title, attrs: { type: 'button', 'data-analysis': value } }, label);
      button.addEventListener('click', () => ctx.update({ analysis: value }));
      this.buttons.set(value, button);
    }
    const close = h('button', { title: 'Close the analysis pane', attrs: { type: 'button', 'data-analysis': 'none' } }, '×');
    close.addEventListener('click', () => ctx.update({ analysis: 'none' }));
    this.weightBox.addEventListener('change', () => {
      try {
        ctx.update({ weight_by_value: this.weightBox.checked });
      } catch (error) {
        ctx.showMessage(error instanceof Error ? error.message : String(error));
      }
    });
    this.tabs.append(...TABS.map(([value]) => this.buttons.get(value)!), this.weightLabel, close);
    this.element.append(open, this.tabs, this.body);
    const listen = (names: string[], callback: () => void): void => {
      for (const name of names) {
        ctx.model.on(`change:${name}`, callback);
        this.offs.push(() => ctx.model.off(`change:${name}`, callback));
      }
    };
    listen(['analysis', 'weight_by_value', 'pair_key', '_value_norms'], () => this.render(this.qk));
  }

  /** Draws the chosen analysis of `qk` (the head shown), or the collapsed button. */
  render(qk: HeadQK | null): void {
    this.qk = qk;
    const chosen = this.ctx.model.get('analysis') ?? 'none';
    const open = chosen !== 'none';
    this.element.classList.toggle('av-analysis-collapsed', !open);
    this.buttons.get('none')!.style.display = open ? 'none' : '';
    this.tabs.style.display = open ? '' : 'none';
    this.body.style.display = open ? '' : 'none';
    this.ctx.root.dataset.analysis = chosen;
    for (const [value, button] of this.buttons) if (value !== 'none') button.classList.toggle('av-active', value === chosen);
    const norms = qk ? valueNormsOf(this.ctx, qk) : null;
    this.weightBox.checked = Boolean(this.ctx.model.get('weight_by_value'));
    this.weightBox.disabled = !norms && !this.weightBox.checked;
    this.weightLabel.title = norms ? this.weightLabel.title : 'This capture holds no value norms (capture it again with this attentionviz to weight by |v|)';
    if (!open || !qk) return;
    const view = chosen === 'pattern' ? this.heatmap : chosen === 'offsets' ? this.aggregate : this.dims;
    view.render(qk);
    this.body.replaceChildren(view.element);
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
    this.element.remove();
  }
}
