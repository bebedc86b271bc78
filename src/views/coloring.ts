/** Point colours and their legend for a colour mode, over a joint layout (queries, then keys). */
import { CATEGORIES, tokenCategory } from '../compute/categories';
import { categoryColors, hexToRgb, queryKeyColors, rampColor, valueColors, type RGB } from '../compute/colors';
import { normalizeQK } from '../compute/normalize';
import { rowNorms } from '../compute/sizes';
import { attentionReceived, positionModulo, sentenceLengths, tokenFrequencies, tokenLengths } from '../compute/token_columns';
import type { TokenTable } from '../model/tokens';
import type { Theme } from '../ui/theme';

export interface LegendEntry {
  color: string;
  label: string;
}

export interface Coloring {
  rgb: Float32Array;
  legend: LegendEntry[];
}

const VIRIDIS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#393b79', '#637939', '#8c6d31',
];
const OTHER = '#9e9e9e';

/** Colour modes offered for a token table: built-ins first, then its own columns. */
export function colorModes(tokens: TokenTable | null): Array<[string, string]> {
  const modes: Array<[string, string]> = [
    ['qk', 'query / key'],
    ['pos_norm', 'normalized position'],
    ['pos', 'position'],
    ['seq', 'sequence'],
    ['category', 'token category'],
    ['norm', 'vector norm |q|, |k|'],
    ['token_length', 'token length'],
    ['sentence_length', 'sentence length'],
    ['frequency', 'token frequency'],
    ['pos_mod', 'position mod k'],
    ['attention_received', 'attention received'],
  ];
  const builtIn = new Set(['text', 'raw', 'seq', 'pos', 'pos_norm', 'special', 'token_id']);
  for (const name of tokens?.columnNames ?? []) if (!builtIn.has(name)) modes.push([name, name]);
  return modes;
}

function lighter(colors: RGB[]): RGB[] {
  return colors.map((c) => c.map((v) => v + (1 - v) * 0.45) as RGB);
}

function categorical(codes: ArrayLike<number>, labels: string[]): Coloring {
  const palette = labels.map((label, i) => hexToRgb(label === 'other' ? OTHER : PALETTE[i % PALETTE.length]));
  return {
    rgb: categoryColors(codes, palette),
    legend: labels.map((label, i) => ({ color: label === 'other' ? OTHER : PALETTE[i % PALETTE.length], label })),
  };
}

function ramp(values: ArrayLike<number>, low: string, high: string): Coloring {
  const stops = VIRIDIS.map(hexToRgb);
  return {
    rgb: valueColors(values, stops, lighter(stops)),
    legend: [
      { color: VIRIDIS[0], label: low },
      { color: VIRIDIS[VIRIDIS.length - 1], label: `${high} (keys lighter)` },
    ],
  };
}

/** What the head-dependent colour modes (norm, attention received) and position mod k need. */
export interface HeadColoring {
  queries: Float32Array;
  keys: Float32Array;
  dHead: number;
  /** The normalize trait: norms of the normalized vectors, as the layout uses them. */
  normalize: boolean;
  scale: number;
  causal: boolean;
  /** hide_special: rows whose keys are hidden, or null. */
  hidden: Uint8Array | null;
  /** k of position mod k. */
  k: number;
}

/** Values from `low` to `high` on the ramp, legend "label low" .. "high". */
function rangeRamp(values: Float32Array, label: string, digits = 3, log = false): Coloring {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (!Number.isFinite(min)) min = max = 0;
  const f = (v: number): number => (log ? Math.log(Math.max(v, 1e-12)) : v);
  const span = f(max) - f(min) || 1;
  const shown = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(digits));
  return ramp(Float32Array.from(values, (v) => (f(v) - f(min)) / span), `${label} ${shown(min)}`, `${shown(max)}${log ? ' (log scale)' : ''}`);
}

/** Colour modes computed from the head shown (null when it is not given: a thumbnail falls back to query / key). */
function headColoring(mode: string, tokens: TokenTable, nTokens: number, head: HeadColoring | undefined): Coloring | null {
  if (mode === 'token_length') return rangeRamp(tokenLengths(tokens.text.slice(0, nTokens)), 'characters');
  if (mode === 'sentence_length') return rangeRamp(sentenceLengths(tokens.seq, tokens.rowsBySeq, nTokens), 'tokens');
  if (mode === 'frequency') return rangeRamp(tokenFrequencies(tokens.text, nTokens), 'occurrences', 3, true);
  if (mode === 'pos_mod') {
    const k = head?.k ?? 5;
    return categorical(positionModulo(tokens.pos, k, nTokens), Array.from({ length: k }, (_, r) => `pos mod ${k} = ${r}`));
  }
  if (!head) return null;
  if (mode === 'attention_received') {
    const sequences = tokens.rowsBySeq.values();
    const received = attentionReceived(head.queries, head.keys, head.dHead, nTokens, sequences, head);
    return rangeRamp(received, 'total weight', 2);
  }
  if (mode === 'norm') {
    const { queries, keys } = normalizeQK(head.queries, head.keys, nTokens, head.dHead, { translate: head.normalize, scale: head.normalize });
    return normColoring(rowNorms(queries, nTokens, head.dHead), rowNorms(keys, nTokens, head.dHead));
  }
  return null;
}

/** Each point by its own vector's norm, on one scale for queries and keys (keys lighter). */
function normColoring(queryNorms: Float64Array, keyNorms: Float64Array): Coloring {
  const n = queryNorms.length;
  let min = Infinity;
  let max = -Infinity;
  for (const v of [...queryNorms, ...keyNorms]) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const span = max - min || 1;
  const stops = VIRIDIS.map(hexToRgb);
  const keyStops = lighter(stops);
  const rgb = new Float32Array(6 * n);
  for (let i = 0; i < n; i++) {
    rgb.set(rampColor(stops, (queryNorms[i] - min) / span), 3 * i);
    rgb.set(rampColor(keyStops, (keyNorms[i] - min) / span), 3 * (n + i));
  }
  const legend = n
    ? [
        { color: VIRIDIS[0], label: `|q|, |k| ${min.toPrecision(3)}` },
        { color: VIRIDIS[VIRIDIS.length - 1], label: `${max.toPrecision(3)} (keys lighter)` },
      ]
    : [];
  return { rgb, legend };
}

export function pointColors(mode: string, tokens: TokenTable | null, nTokens: number, theme: Theme, head?: HeadColoring): Coloring {
  const qk: Coloring = {
    rgb: queryKeyColors(nTokens, hexToRgb(theme.query), hexToRgb(theme.key)),
    legend: [
      { color: theme.query, label: 'query' },
      { color: theme.key, label: 'key' },
    ],
  };
  if (!tokens || mode === 'qk') return qk;
  if (mode === 'pos_norm') return ramp(tokens.posNorm.subarray(0, nTokens), 'start', 'end of sequence');
  if (mode === 'pos') {
    let max = 1;
    for (const p of tokens.pos) max = Math.max(max, p);
    return ramp(Float32Array.from(tokens.pos.subarray(0, nTokens), (p) => p / max), 'position 0', `position ${max}`);
  }
  if (mode === 'seq') {
    return {
      rgb: categoryColors(tokens.seq.subarray(0, nTokens), PALETTE.map(hexToRgb)),
      legend: [{ color: PALETTE[0], label: `${tokens.rowsBySeq.size} sequences, one colour each (cycling)` }],
    };
  }
  if (mode === 'category') {
    const codes = Int32Array.from({ length: nTokens }, (_, i) => tokenCategory(tokens.text[i], tokens.raw?.[i], tokens.special[i] === 1));
    return categorical(codes, [...CATEGORIES]);
  }
  const derived = headColoring(mode, tokens, nTokens, head);
  if (derived) return derived;
  if (!tokens.columnNames.includes(mode)) return qk;
  const column = tokens.column(mode);
  if (column.kind === 'number') {
    const span = column.max - column.min || 1;
    const values = Float32Array.from(column.values.subarray(0, nTokens), (v) => (v - column.min) / span);
    return ramp(values, `${mode} ${column.min.toPrecision(3)}`, column.max.toPrecision(3));
  }
  return categorical(column.codes.subarray(0, nTokens), column.labels);
}
