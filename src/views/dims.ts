/**
 * The per-dimension view of one query-key pair (bertviz's neuron view): the focused
 * query's elementwise products q_c * k_c with one key (`pair_key`, else its top key),
 * largest magnitude first, then how they become a weight: sum = q . k, times the scale =
 * the logit, softmax over the query's keys = the attention weight.
 */
import { allowedKeys, attentionRow, topK } from '../compute/attention';
import { cumulativeShare, pairDims } from '../compute/dims';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { focusedSequence } from './heatmap';
import { maybeValueWeighted } from './value_norms';

const SVG_NS = 'http://www.w3.org/2000/svg';
const BARS = 24;
const WIDTH = 280;
const BAR_HEIGHT = 9;

export class DimsView {
  readonly element = h('div', { className: 'av-dims' });

  constructor(private readonly ctx: ViewContext) {}

  render(qk: HeadQK): void {
    const focused = focusedSequence(this.ctx, qk);
    const tokens = this.ctx.headTokens();
    if (!focused || focused.focus < 0 || !tokens) {
      this.element.replaceChildren(h('div', { className: 'av-sentence-empty' }, 'Click a point (or a heatmap cell) to see its query against one key, dimension by dimension.'));
      this.ctx.root.dataset.dimsPair = '';
      return;
    }
    const { rows, focus } = focused;
    const keyRows = allowedKeys(rows, rows.indexOf(focus), this.ctx.model.get('mask') === 'causal');
    const scale = this.ctx.model.get('scale');
    const chosen = this.ctx.model.get('pair_key') ?? -1;
    const weights = maybeValueWeighted(this.ctx, qk, attentionRow(qk.queries, qk.keys, qk.dHead, focus, keyRows, scale), keyRows);
    const key = Array.prototype.includes.call(keyRows, chosen) ? chosen : keyRows[topK(weights, 1)[0]];
    const pair = pairDims(qk.queries, qk.keys, qk.dHead, focus, key, keyRows, scale);
    const share = cumulativeShare(pair.products);
    const needed = share.findIndex((s) => s >= 0.5) + 1;
    this.ctx.root.dataset.dimsPair = `${focus},${key}`;
    const shownWeight = weights[Array.prototype.indexOf.call(keyRows, key) as number];
    const valueNote = this.ctx.model.get('weight_by_value') && shownWeight !== pair.weight ? ` · × |v| renormalized ${shownWeight.toFixed(3)}` : '';
    this.element.replaceChildren(
      h('div', { className: 'av-analysis-caption' }, `query “${tokens.text[focus]}” · key “${tokens.text[key]}” (L${qk.layer} H${qk.head}, d=${qk.dHead})`),
      this.bars(pair.dims, pair.products),
      h(
        'div',
        { className: 'av-dims-steps' },
        h('div', {}, `Σ q_c·k_c = q·k = ${pair.dot.toFixed(3)}`),
        h('div', {}, `× scale ${scale.toPrecision(3)} = logit ${pair.logit.toFixed(3)}`),
        h('div', {}, `softmax over ${keyRows.length} keys = weight ${pair.weight.toFixed(3)}${valueNote}`),
        h('div', {}, `${needed} of ${qk.dHead} dimensions carry half of Σ|q_c·k_c|`),
      ),
    );
  }

  private bars(dims: Int32Array, products: Float64Array): SVGSVGElement {
    const count = Math.min(BARS, products.length);
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', String(WIDTH));
    svg.setAttribute('height', String(count * BAR_HEIGHT + 4));
    svg.setAttribute('class', 'av-dims-chart');
    const top = Math.max(1e-9, Math.abs(products[0] ?? 0));
    const mid = WIDTH / 2 + 20;
    for (let n = 0; n < count; n++) {
      const value = products[n];
      const length = (Math.abs(value) / top) * (WIDTH / 2 - 30);
      const rect = document.createElementNS(SVG_NS, 'rect');
      rect.setAttribute('x', String(value >= 0 ? mid : mid - length));
      rect.setAttribute('y', String(2 + n * BAR_HEIGHT));
      rect.setAttribute('width', String(Math.max(0.5, length)));
      rect.setAttribute('height', String(BAR_HEIGHT - 2));
      rect.setAttribute('fill', value >= 0 ? this.ctx.theme.key : this.ctx.theme.query);
      rect.setAttribute('data-dim', String(dims[n]));
      const title = document.createElementNS(SVG_NS, 'title');
      title.textContent = `dim ${dims[n]}: q·k contribution ${value.toFixed(4)}`;
      rect.append(title);
      const label = document.createElementNS(SVG_NS, 'text');
      label.setAttribute('x', '4');
      label.setAttribute('y', String(2 + n * BAR_HEIGHT + BAR_HEIGHT - 2));
      label.setAttribute('class', 'av-aggregate-tick');
      label.textContent = `d${dims[n]}`;
      svg.append(rect, label);
    }
    return svg;
  }
}
