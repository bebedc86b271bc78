/**
 * The sentence view: the classic two columns of one sequence's tokens, queries on
 * the left and keys on the right, joined by lines weighted by attention (recomputed
 * from Q.K with the capture's scale and mask). Linked with the scatterplot: it shows
 * the sequence of the selected token; clicking a token selects it.
 */
import { allowedKeys, attentionRow } from '../compute/attention';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { maybeValueWeighted } from './value_norms';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ROW_HEIGHT = 18;
/** Sequences longer than this show only the lines of the focused token (readability). */
const ALL_LINES_LIMIT = 48;

export class SentenceView {
  readonly element = h('div', { className: 'av-sentence', attrs: { 'aria-label': 'sentence view' } });

  constructor(
    private readonly ctx: ViewContext,
    private readonly onPick: (row: number) => void,
  ) {}

  render(qk: HeadQK | null): void {
    const tokens = this.ctx.headTokens();
    const selected = this.ctx.selectedRows();
    if (!qk || !tokens || !selected.length || selected[0] >= qk.nTokens) {
      this.element.replaceChildren(h('div', { className: 'av-sentence-empty' }, 'Click a point to see its sentence here.'));
      return;
    }
    const focus = selected[0];
    const rows = tokens.rowsBySeq.get(tokens.seq[focus]) ?? [focus];
    const causal = this.ctx.model.get('mask') === 'causal';
    const scale = this.ctx.model.get('scale');
    const width = 300;
    const height = rows.length * ROW_HEIGHT + 8;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('class', 'av-sentence-svg');
    const leftX = 110;
    const rightX = width - 110;
    const y = (i: number): number => 4 + i * ROW_HEIGHT + ROW_HEIGHT / 2;
    rows.forEach((row, i) => {
      const isFocus = row === focus;
      if (rows.length > ALL_LINES_LIMIT && !isFocus) return;
      const keyRows = allowedKeys(rows, i, causal);
      const weights = maybeValueWeighted(this.ctx, qk, attentionRow(qk.queries, qk.keys, qk.dHead, row, keyRows, scale), keyRows);
      weights.forEach((weight, j) => {
        if (weight < 0.02) return;
        const line = document.createElementNS(SVG_NS, 'line');
        line.setAttribute('x1', String(leftX + 4));
        line.setAttribute('y1', String(y(i)));
        line.setAttribute('x2', String(rightX - 4));
        line.setAttribute('y2', String(y(j)));
        line.setAttribute('stroke', isFocus ? this.ctx.theme.key : this.ctx.theme.foreground);
        line.setAttribute('stroke-width', String(isFocus ? 1 + 5 * weight : 0.5 + 2 * weight));
        line.setAttribute('stroke-opacity', String(isFocus ? 0.3 + 0.7 * weight : 0.08 + 0.3 * weight));
        svg.append(line);
      });
    });
    const label = (text: string, x: number, i: number, anchor: string, row: number, kind: string): void => {
      const element = document.createElementNS(SVG_NS, 'text');
      element.setAttribute('x', String(x));
      element.setAttribute('y', String(y(i) + 4));
      element.setAttribute('text-anchor', anchor);
      element.setAttribute('class', `av-sentence-token av-sentence-${kind}${row === focus ? ' av-sentence-focus' : ''}`);
      element.textContent = text; // token text is data, never markup
      element.addEventListener('click', () => this.onPick(row));
      svg.append(element);
    };
    rows.forEach((row, i) => {
      label(tokens.text[row], leftX, i, 'end', row, 'query');
      label(tokens.text[row], rightX, i, 'start', row, 'key');
    });
    this.element.replaceChildren(
      h('div', { className: 'av-sentence-head' }, h('span', {}, 'queries'), h('span', {}, `sequence ${tokens.seq[focus]}`), h('span', {}, 'keys')),
      svg,
    );
  }
}
