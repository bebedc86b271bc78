/**
 * What a head plot emphasises: the selection, search matches, a token hovered in another
 * plot, and the focused query (the one selected token) with lines to its top-k keys, or
 * (`lines` "sentence") lines from every query of its sentence to that query's top 2 keys.
 * With `hide_special` the attention to [CLS]/[SEP]/first tokens is dropped and the rest
 * renormalized before keys are chosen.
 */
import { allowedKeys, attentionRow, topK } from '../../compute/attention';
import { renormalize } from '../../compute/renormalize';
import { sentenceLines, type AttentionLink } from '../../compute/sentence_lines';
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import type { OverlayLine } from '../../render/overlay';
import { EMPHASIS } from '../../render/scatter';
import type { ViewContext } from '../context';
import { maybeValueWeighted } from '../value_norms';

export interface FocusedQuery {
  row: number;
  targets: Array<{ row: number; weight: number }>;
  /** `lines` "sentence": every query of the sentence to its top 2 keys (weight >= 0.05); else null. */
  links?: AttentionLink[] | null;
}

/** The one selected token of `qk` and its top-k keys by attention in capture `source`, when exactly one is selected. */
export function focusedQuery(ctx: ViewContext, qk: HeadQK | undefined, source: QKSourceName): FocusedQuery | null {
  const selected = ctx.selectedRows();
  const tokens = ctx.headTokens();
  if (selected.length !== 1 || !qk || !tokens) return null;
  const row = selected[0];
  if (row >= qk.nTokens) return null;
  const sequence = tokens.rowsBySeq.get(tokens.seq[row]) ?? [row];
  const { scale, causal } = ctx.captureInfo(source); // this plot's capture's attention
  const hidden = ctx.hiddenKeys(tokens);
  if (ctx.model.get('lines') === 'sentence') {
    const rows = sequence.filter((r) => r < qk.nTokens);
    const links = sentenceLines(qk.queries, qk.keys, qk.dHead, rows, { scale, causal, hidden });
    return { row, targets: links.filter((link) => link.query === row).map(({ key, weight }) => ({ row: key, weight })), links };
  }
  const keyRows = allowedKeys(sequence, sequence.indexOf(row), causal);
  const weights = renormalize(valueWeighted(ctx, qk, source, attentionRow(qk.queries, qk.keys, qk.dHead, row, keyRows, scale), keyRows), keyRows, hidden);
  const best = topK(weights, ctx.model.get('top_k')).filter((i) => !hidden?.[keyRows[i]]);
  return { row, targets: best.map((i) => ({ row: keyRows[i], weight: weights[i] })), links: null };
}

/** What each plot draws emphasised besides the focused query: token rows. */
export interface Highlights {
  selected: Uint32Array;
  matches: number[];
  /** A token hovered in another plot (-1: none). */
  hovered: number;
}

/**
 * How each of the 2n points (queries, then keys) is drawn: highlighted when its token is
 * selected, matched or hovered elsewhere, or it is a top key of the focused query; the
 * rest dimmed while anything is highlighted, else all normal.
 */
export function pointEmphasis(n: number, { selected, matches, hovered }: Highlights, focus: FocusedQuery | null): Float32Array {
  const hover = hovered >= 0 && hovered < n;
  const emphasis = new Float32Array(2 * n).fill(selected.length || matches.length || hover ? EMPHASIS.dimmed : EMPHASIS.normal);
  for (const row of selected) if (row < n) emphasis[row] = emphasis[n + row] = EMPHASIS.highlighted;
  for (const row of matches) if (row < n) emphasis[row] = emphasis[n + row] = EMPHASIS.highlighted;
  if (focus) for (const { row } of focus.targets) emphasis[n + row] = EMPHASIS.highlighted;
  for (const { query, key } of focus?.links ?? []) emphasis[query] = emphasis[n + key] = EMPHASIS.highlighted;
  if (hover) emphasis[hovered] = emphasis[n + hovered] = EMPHASIS.highlighted;
  return emphasis;
}

/**
 * Lines from the focused query to its top keys (n tokens), wider and stronger with more
 * attention; in sentence mode from each query of the sentence to its keys (the focused
 * query's in `accent`, the others in `color`).
 */
export function attentionLines(focus: FocusedQuery, n: number, toCanvas: (point: number) => [number, number], color: string, accent = color): OverlayLine[] {
  if (focus.links) {
    return focus.links.map(({ query, key, weight }) => ({
      from: toCanvas(query),
      to: toCanvas(n + key),
      width: 0.75 + 4 * weight,
      color: query === focus.row ? accent : color,
      alpha: 0.25 + 0.6 * weight,
    }));
  }
  const from = toCanvas(focus.row);
  return focus.targets.map(({ row, weight }) => ({
    from,
    to: toCanvas(n + row),
    width: 1 + 7 * weight,
    color,
    alpha: 0.35 + 0.5 * weight,
  }));
}

/** Highlight one query point and one key point (the analysis heatmap's hovered cell), dimming the rest. */
export function highlightPair(emphasis: Float32Array, n: number, [queryRow, keyRow]: [number, number]): void {
  if (queryRow >= n || keyRow >= n) return;
  for (let p = 0; p < emphasis.length; p++) if (emphasis[p] === EMPHASIS.normal) emphasis[p] = EMPHASIS.dimmed;
  emphasis[queryRow] = emphasis[n + keyRow] = EMPHASIS.highlighted;
}

/** weight_by_value (alpha * |v|, renormalized) for this capture's heads; the other model's have no norms here. */
function valueWeighted(ctx: ViewContext, qk: HeadQK, source: QKSourceName, weights: Float32Array, keyRows: ArrayLike<number>): Float32Array {
  return source === 'capture' ? maybeValueWeighted(ctx, qk, weights, keyRows) : weights;
}
