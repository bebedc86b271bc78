/**
 * The aggregate view of one head: its attention averaged over the whole corpus by
 * relative offset (key position - query position) as a bar chart, and for short sequences
 * by absolute position as a small matrix (compute/aggregate.ts).
 */
import { attentionByOffset, attentionByPosition, offsetSummary, type OffsetProfile, type PositionProfile } from '../compute/aggregate';
import { hexToRgb, rampColor, type RGB } from '../compute/colors';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { valueWeighting } from './value_norms';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Offsets drawn: -SPAN .. SPAN (the rest is folded into the summary line). */
const SPAN = 12;
/** Sequences at most this long also get the by-position matrix. */
const SHORT = 24;
const WIDTH = 280;
const HEIGHT = 130;
const RAMP: RGB[] = ['#f7fbff', '#6baed6', '#08306b'].map(hexToRgb);

interface Profiles {
  key: string;
  offsets: OffsetProfile;
  positions: PositionProfile | null;
}

export class AggregateView {
  readonly element = h('div', { className: 'av-aggregate' });
  private cached: Profiles | null = null;

  constructor(private readonly ctx: ViewContext) {}

  render(qk: HeadQK): void {
    const profiles = this.profiles(qk);
    if (!profiles) return;
    const { peak, meanAbs } = offsetSummary(profiles.offsets);
    this.ctx.root.dataset.aggregatePeak = String(peak);
    this.ctx.root.dataset.aggregateMeanOffset = meanAbs.toFixed(3);
    const weighting = valueWeighting(this.ctx, qk) ? ' · weighted by |v|' : '';
    this.element.replaceChildren(
      h('div', { className: 'av-analysis-caption' }, `L${qk.layer} H${qk.head}: mean attention by offset over the corpus${weighting}`),
      this.offsetChart(profiles.offsets),
      h('div', { className: 'av-analysis-caption' }, `peak at offset ${peak > 0 ? '+' : ''}${peak} · mean |offset| ${meanAbs.toFixed(2)} tokens`),
      ...(profiles.positions ? [h('div', { className: 'av-analysis-caption' }, 'by position (rows queries, columns keys)'), this.positionMatrix(profiles.positions)] : []),
    );
  }

  private profiles(qk: HeadQK): Profiles | null {
    const tokens = this.ctx.tokens; // the capture's rows only: typed-in text is not the corpus
    if (!tokens) return null;
    const norms = valueWeighting(this.ctx, qk);
    const key = `${qk.layer}/${qk.head}/${norms ? 'v' : ''}/${this.ctx.model.get('_capture_id')}`;
    if (this.cached?.key === key) return this.cached;
    const n = Math.min(qk.nTokens, tokens.length);
    const sequences = [...tokens.rowsBySeq.values()].filter((rows) => rows.length && rows[rows.length - 1] < n);
    const input = { queries: qk.queries, keys: qk.keys, dHead: qk.dHead, sequences, scale: this.ctx.model.get('scale'), causal: this.ctx.model.get('mask') === 'causal', valueNorms: norms };
    const longest = sequences.reduce((m, rows) => Math.max(m, rows.length), 0);
    this.cached = { key, offsets: attentionByOffset(input), positions: longest <= SHORT ? attentionByPosition(input, longest) : null };
    return this.cached;
  }

  private offsetChart(profile: OffsetProfile): SVGSVGElement {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', String(WIDTH));
    svg.setAttribute('height', String(HEIGHT));
    svg.setAttribute('class', 'av-aggregate-chart');
    const shown: Array<[number, number]> = [];
    profile.offsets.forEach((d, m) => {
      if (Math.abs(d) <= SPAN && profile.count[m]) shown.push([d, profile.mean[m]]);
    });
    const top = Math.max(1e-6, ...shown.map(([, w]) => w));
    const bar = (WIDTH - 20) / (2 * SPAN + 1);
    const base = HEIGHT - 16;
    for (const [d, w] of shown) {
      const rect = document.createElementNS(SVG_NS, 'rect');
      const height = (w / top) * (base - 6);
      rect.setAttribute('x', String(10 + (d + SPAN) * bar + 1));
      rect.setAttribute('y', String(base - height));
      rect.setAttribute('width', String(Math.max(1, bar - 2)));
      rect.setAttribute('height', String(height));
      rect.setAttribute('fill', d === 0 ? this.ctx.theme.query : this.ctx.theme.key);
      rect.setAttribute('data-offset', String(d));
      const title = document.createElementNS(SVG_NS, 'title');
      title.textContent = `offset ${d}: mean weight ${w.toFixed(3)}`;
      rect.append(title);
      svg.append(rect);
    }
    for (const d of [-SPAN, -5, -1, 0, 1, 5, SPAN]) {
      const text = document.createElementNS(SVG_NS, 'text');
      text.setAttribute('x', String(10 + (d + SPAN + 0.5) * bar));
      text.setAttribute('y', String(HEIGHT - 3));
      text.setAttribute('text-anchor', 'middle');
      text.setAttribute('class', 'av-aggregate-tick');
      text.textContent = d > 0 ? `+${d}` : String(d);
      svg.append(text);
    }
    return svg;
  }

  private positionMatrix(profile: PositionProfile): HTMLCanvasElement {
    const cell = Math.max(2, Math.floor(180 / Math.max(1, profile.size)));
    const side = cell * profile.size;
    const canvas = h('canvas', { className: 'av-aggregate-positions', attrs: { width: String(side), height: String(side) } });
    const context = canvas.getContext('2d');
    if (!context) return canvas;
    let top = 1e-6;
    for (const w of profile.mean) top = Math.max(top, w);
    for (let i = 0; i < profile.size; i++) {
      for (let j = 0; j < profile.size; j++) {
        const [r, g, b] = rampColor(RAMP, Math.sqrt(profile.mean[i * profile.size + j] / top));
        context.fillStyle = `rgb(${Math.round(r * 255)},${Math.round(g * 255)},${Math.round(b * 255)})`;
        context.fillRect(j * cell, i * cell, cell, cell);
      }
    }
    return canvas;
  }
}
