/**
 * The sentence view: the classic two columns of one sequence's tokens, queries on
 * the left and keys on the right, joined by lines weighted by attention (recomputed
 * from Q.K with the capture's scale and mask; with `hide_special` the attention to
 * [CLS]/[SEP]/first tokens is dropped, the rest renormalized, and those keys greyed).
 * Linked with the scatterplot: it shows the sequence of the selected token, whose lines
 * are drawn strongest. Clicking a token toggles its lines: while any token is toggled
 * only lines from toggled queries or to toggled keys are drawn. Double-clicking a token
 * selects it. Every line is drawn for sequences of any length; the view scrolls.
 */
import { allowedKeys, attentionRow } from '../compute/attention';
import { renormalize } from '../compute/renormalize';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { maybeValueWeighted } from './value_norms';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ROW_HEIGHT = 18;
/** Weights below this draw no line (thinner than a pixel at the widths used). */
const MIN_WEIGHT = 0.02;

/** A token of one column: "q" (query, left) or "k" (key, right), and its row. */
type Side = 'q' | 'k';

export class SentenceView {
  readonly element = h('div', { className: 'av-sentence', attrs: { 'aria-label': 'sentence view' } });
  /** Tokens whose lines are toggled on ("q:row" / "k:row"), for the sequence `toggledSeq`. */
  private readonly toggled = new Set<string>();
  private toggledSeq = -1;
  private last: HeadQK | null = null;

  constructor(
    private readonly ctx: ViewContext,
    private readonly onPick: (row: number) => void,
  ) {}

  /** Toggles the lines of a token (`side` column, `row`) and redraws. */
  toggle(side: Side, row: number): void {
    const key = `${side}:${row}`;
    if (!this.toggled.delete(key)) this.toggled.add(key);
    this.render(this.last);
  }

  render(qk: HeadQK | null): void {
    this.last = qk;
    const tokens = this.ctx.headTokens();
    const selected = this.ctx.selectedRows();
    if (!qk || !tokens || !selected.length || selected[0] >= qk.nTokens) {
      this.element.replaceChildren(h('div', { className: 'av-sentence-empty' }, 'Click a point to see its sentence here.'));
      this.element.dataset.lines = '0';
      return;
    }
    const focus = selected[0];
    const seq = tokens.seq[focus];
    if (seq !== this.toggledSeq) {
      this.toggled.clear();
      this.toggledSeq = seq;
    }
    const rows = (tokens.rowsBySeq.get(seq) ?? [focus]).filter((row) => row < qk.nTokens);
    const hidden = this.ctx.hiddenKeys(tokens);
    const width = 300;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(rows.length * ROW_HEIGHT + 8));
    svg.setAttribute('class', 'av-sentence-svg');
    const leftX = 110;
    const rightX = width - 110;
    const y = (i: number): number => 4 + i * ROW_HEIGHT + ROW_HEIGHT / 2;
    let drawn = 0;
    for (const link of this.links(qk, rows, hidden)) {
      const { i, j, weight, strong } = link;
      const line = document.createElementNS(SVG_NS, 'line');
      line.setAttribute('x1', String(leftX + 4));
      line.setAttribute('y1', String(y(i)));
      line.setAttribute('x2', String(rightX - 4));
      line.setAttribute('y2', String(y(j)));
      line.setAttribute('stroke', strong ? this.ctx.theme.key : this.ctx.theme.foreground);
      line.setAttribute('stroke-width', String(strong ? 1 + 5 * weight : 0.5 + 2 * weight));
      line.setAttribute('stroke-opacity', String(strong ? 0.3 + 0.7 * weight : 0.08 + 0.3 * weight));
      svg.append(line);
      drawn++;
    }
    rows.forEach((row, i) => {
      svg.append(this.label(tokens.text[row], leftX, y(i), 'end', row, 'q', row === focus, false));
      svg.append(this.label(tokens.text[row], rightX, y(i), 'start', row, 'k', row === focus, hidden?.[row] === 1));
    });
    this.element.dataset.lines = String(drawn);
    this.element.dataset.toggled = String(this.toggled.size);
    const title = `sequence ${seq}${hidden ? ' · sinks hidden' : ''}`;
    this.element.replaceChildren(h('div', { className: 'av-sentence-head' }, h('span', {}, 'queries'), h('span', {}, title), h('span', {}, 'keys')), svg);
  }

  /** The lines to draw: (query index, key index) within `rows`, weight, and whether it is emphasised. */
  private *links(qk: HeadQK, rows: number[], hidden: Uint8Array | null): Generator<{ i: number; j: number; weight: number; strong: boolean }> {
    const focus = this.ctx.selectedRows()[0];
    const causal = this.ctx.model.get('mask') === 'causal';
    const scale = this.ctx.model.get('scale');
    const anyToggled = this.toggled.size > 0;
    for (let i = 0; i < rows.length; i++) {
      const keyRows = allowedKeys(rows, i, causal);
      const weights = renormalize(maybeValueWeighted(this.ctx, qk, attentionRow(qk.queries, qk.keys, qk.dHead, rows[i], keyRows, scale), keyRows), keyRows, hidden);
      const queryToggled = this.toggled.has(`q:${rows[i]}`);
      for (let j = 0; j < weights.length; j++) {
        if (weights[j] < MIN_WEIGHT) continue;
        const toggled = queryToggled || this.toggled.has(`k:${keyRows[j]}`);
        if (anyToggled && !toggled) continue;
        yield { i, j, weight: weights[j], strong: anyToggled ? toggled : rows[i] === focus };
      }
    }
  }

  private label(text: string, x: number, y: number, anchor: string, row: number, side: Side, focus: boolean, hidden: boolean): SVGTextElement {
    const element = document.createElementNS(SVG_NS, 'text');
    element.setAttribute('x', String(x));
    element.setAttribute('y', String(y + 4));
    element.setAttribute('text-anchor', anchor);
    const toggled = this.toggled.has(`${side}:${row}`);
    const kind = side === 'q' ? 'query' : 'key';
    element.setAttribute('class', `av-sentence-token av-sentence-${kind}${focus ? ' av-sentence-focus' : ''}${toggled ? ' av-sentence-toggled' : ''}${hidden ? ' av-sentence-hidden' : ''}`);
    element.setAttribute('data-row', String(row));
    element.textContent = text; // token text is data, never markup
    element.addEventListener('click', () => this.toggle(side, row));
    element.addEventListener('dblclick', () => this.onPick(row));
    return element;
  }
}
