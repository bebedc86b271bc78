/** Point colours and their legend for a colour mode, over a joint layout (queries, then keys). */
import { CATEGORIES, tokenCategory } from '../compute/categories';
import { categoryColors, hexToRgb, queryKeyColors, valueColors, type RGB } from '../compute/colors';
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

export function pointColors(mode: string, tokens: TokenTable | null, nTokens: number, theme: Theme): Coloring {
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
  if (!tokens.columnNames.includes(mode)) return qk;
  const column = tokens.column(mode);
  if (column.kind === 'number') {
    const span = column.max - column.min || 1;
    const values = Float32Array.from(column.values.subarray(0, nTokens), (v) => (v - column.min) / span);
    return ramp(values, `${mode} ${column.min.toPrecision(3)}`, column.max.toPrecision(3));
  }
  return categorical(column.codes.subarray(0, nTokens), column.labels);
}
