/**
 * The attention pattern of one sequence and head (CircuitsVis' attention pattern): rows
 * are queries, columns keys, each cell w_ij (value-weighted with `weight_by_value`).
 * Linked with the scatterplot: hovering a cell highlights that query and that key point,
 * the focused (selected) token's row is outlined, clicking a cell selects its query and
 * shows the pair in the per-dimension view (`pair_key`).
 */
import { allowedKeys, attentionRow } from '../compute/attention';
import { hexToRgb, rampColor, type RGB } from '../compute/colors';
import type { HeadQK } from '../model/qk_source';
import { h } from '../ui/dom';
import type { ViewContext } from './context';
import { maybeValueWeighted } from './value_norms';

const SIZE = 280;
const LABELS = 64; // room for token labels when the sequence is short enough to read them
const RAMP: RGB[] = ['#f7fbff', '#6baed6', '#08306b'].map(hexToRgb);
const RAMP_DARK: RGB[] = ['#0b0b0b', '#2171b5', '#c6dbef'].map(hexToRgb);

/** The focused sequence: the selected token's, else the first; with its rows and focus row (-1: none). */
export function focusedSequence(ctx: ViewContext, qk: HeadQK): { seq: number; rows: number[]; focus: number } | null {
  const tokens = ctx.headTokens();
  if (!tokens || !tokens.length) return null;
  const selected = ctx.selectedRows();
  const focus = selected.length && selected[0] < qk.nTokens ? selected[0] : -1;
  const seq = focus >= 0 ? tokens.seq[focus] : tokens.seq[0];
  return { seq, rows: tokens.rowsBySeq.get(seq) ?? [], focus };
}

/** w_ij of a sequence, row-major [n, n], zero where the mask forbids. */
export function attentionPattern(ctx: ViewContext, qk: HeadQK, rows: number[]): Float32Array {
  const n = rows.length;
  const causal = ctx.model.get('mask') === 'causal';
  const scale = ctx.model.get('scale');
  const pattern = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const keyRows = allowedKeys(rows, i, causal);
    const weights = maybeValueWeighted(ctx, qk, attentionRow(qk.queries, qk.keys, qk.dHead, rows[i], keyRows, scale), keyRows);
    pattern.set(weights, i * n);
  }
  return pattern;
}

export class HeatmapView {
  readonly element = h('div', { className: 'av-heatmap' });
  private readonly canvas = h('canvas', { className: 'av-heatmap-canvas', attrs: { width: String(SIZE), height: String(SIZE) } });
  private readonly caption = h('div', { className: 'av-analysis-caption' });
  private rows: number[] = [];
  private pattern: Float32Array = new Float32Array(0);
  private cell = 1;
  private margin = 0;
  private hovered: [number, number] | null = null;

  constructor(
    private readonly ctx: ViewContext,
    private readonly onPairHover: (queryRow: number, keyRow: number) => void,
  ) {
    this.element.append(this.canvas, this.caption);
    this.canvas.addEventListener('pointermove', (event) => this.hover(this.cellAt(event)));
    this.canvas.addEventListener('pointerleave', () => this.hover(null));
    this.canvas.addEventListener('click', (event) => {
      const at = this.cellAt(event);
      if (!at) return;
      this.ctx.update({ pair_key: this.rows[at[1]] });
      this.ctx.setSelection([this.rows[at[0]]]);
    });
  }

  render(qk: HeadQK): void {
    const focused = focusedSequence(this.ctx, qk);
    if (!focused) return;
    this.rows = focused.rows;
    this.pattern = attentionPattern(this.ctx, qk, this.rows);
    const n = this.rows.length;
    this.margin = n <= 32 ? LABELS : 0;
    this.cell = Math.max(1, Math.floor((SIZE - this.margin) / Math.max(1, n)));
    const side = this.margin + this.cell * n;
    Object.assign(this.canvas, { width: side, height: side });
    this.ctx.root.dataset.heatmapSeq = String(focused.seq);
    this.ctx.root.dataset.heatmapSize = String(n);
    this.draw(focused.focus);
    this.describe();
  }

  private draw(focus: number): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const n = this.rows.length;
    const { cell, margin } = this;
    const ramp = this.ctx.theme.name === 'dark' ? RAMP_DARK : RAMP;
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const [r, g, b] = rampColor(ramp, Math.sqrt(this.pattern[i * n + j])); // sqrt: small weights stay visible
        context.fillStyle = `rgb(${Math.round(r * 255)},${Math.round(g * 255)},${Math.round(b * 255)})`;
        context.fillRect(margin + j * cell, margin + i * cell, cell, cell);
      }
    }
    const tokens = this.ctx.headTokens();
    if (margin && tokens) {
      context.fillStyle = this.ctx.theme.foreground;
      context.font = `${Math.min(11, cell)}px monospace`;
      context.textBaseline = 'middle';
      this.rows.forEach((row, i) => {
        const text = tokens.text[row].slice(0, 8); // canvas text: drawn, never parsed as markup
        context.textAlign = 'right';
        context.fillText(text, margin - 3, margin + (i + 0.5) * cell);
        context.save();
        context.translate(margin + (i + 0.5) * cell, margin - 3);
        context.rotate(-Math.PI / 2);
        context.textAlign = 'left';
        context.fillText(text, 0, 0);
        context.restore();
      });
    }
    const outline = (x: number, y: number, w: number, hgt: number, color: string): void => {
      context.strokeStyle = color;
      context.lineWidth = 2;
      context.strokeRect(x + 1, y + 1, w - 2, hgt - 2);
    };
    const focusIndex = this.rows.indexOf(focus);
    if (focusIndex >= 0) outline(margin, margin + focusIndex * cell, n * cell, cell, this.ctx.theme.key);
    if (this.hovered) outline(margin + this.hovered[1] * cell, margin + this.hovered[0] * cell, cell, cell, this.ctx.theme.query);
  }

  private cellAt(event: MouseEvent): [number, number] | null {
    const box = this.canvas.getBoundingClientRect();
    const scale = this.canvas.width / Math.max(1, box.width);
    const x = (event.clientX - box.left) * scale - this.margin;
    const y = (event.clientY - box.top) * scale - this.margin;
    const i = Math.floor(y / this.cell);
    const j = Math.floor(x / this.cell);
    const n = this.rows.length;
    return x < 0 || y < 0 || i >= n || j >= n ? null : [i, j];
  }

  private hover(at: [number, number] | null): void {
    const same = at && this.hovered && at[0] === this.hovered[0] && at[1] === this.hovered[1];
    if (same || (!at && !this.hovered)) return;
    this.hovered = at;
    this.ctx.root.dataset.heatmapHover = at ? `${this.rows[at[0]]},${this.rows[at[1]]}` : '';
    this.onPairHover(at ? this.rows[at[0]] : -1, at ? this.rows[at[1]] : -1);
    const selected = this.ctx.selectedRows();
    this.draw(selected.length ? selected[0] : -1);
    this.describe();
  }

  private describe(): void {
    const tokens = this.ctx.headTokens();
    const n = this.rows.length;
    if (this.hovered && tokens) {
      const [i, j] = this.hovered;
      const weight = this.pattern[i * n + j];
      this.caption.textContent = `query “${tokens.text[this.rows[i]]}” (${i}) → key “${tokens.text[this.rows[j]]}” (${j}): ${weight.toFixed(3)}`;
    } else {
      this.caption.textContent = `${n} tokens · rows queries, columns keys · hover a cell, click to pick the pair`;
    }
  }
}
