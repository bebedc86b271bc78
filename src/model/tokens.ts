/**
 * The token table (one row per token) decoded from the Arrow IPC stream the kernel
 * sends. Columns the view always needs are pulled into typed arrays once; any other
 * column can be read for colouring.
 */
import { tableFromIPC, type Table } from 'apache-arrow';

/** A column ready for colouring: numbers on a ramp, or categories on a palette. */
export type ColumnValues =
  | { kind: 'number'; values: Float64Array; min: number; max: number }
  | { kind: 'category'; codes: Int32Array; labels: string[] };

export interface TokenTable {
  length: number;
  /** Token text as a reader sees it; always rendered with textContent. */
  text: string[];
  /** The tokenizer's raw piece (e.g. "##ing"), when the table has it. */
  raw: string[] | null;
  /** Sequence (input text) id per token. */
  seq: Int32Array;
  /** Position in its sequence. */
  pos: Int32Array;
  /** pos / (length - 1), in [0, 1]. */
  posNorm: Float32Array;
  special: Uint8Array;
  /** Rows of each sequence, in position order. */
  rowsBySeq: Map<number, number[]>;
  columnNames: string[];
  column(name: string): ColumnValues;
}

/** Distinct values beyond this are not a useful categorical colouring. */
const MAX_CATEGORIES = 24;

function values(table: Table, name: string): unknown[] {
  const column = table.getChild(name);
  if (!column) throw new Error(`token table has no "${name}" column`);
  return Array.from(column as Iterable<unknown>);
}

function numbers<T extends Int32Array | Float32Array | Uint8Array>(table: Table, name: string, make: (n: number) => T): T {
  const out = make(table.numRows);
  values(table, name).forEach((value, i) => (out[i] = Number(value)));
  return out;
}

export function decodeTokenTable(view: DataView): TokenTable {
  const table: Table = tableFromIPC(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  const columnNames = table.schema.fields.map((field) => field.name);
  const has = (name: string): boolean => columnNames.includes(name);
  const text = values(table, 'text').map((value) => (value == null ? '' : String(value)));
  const seq = numbers(table, 'seq', (n) => new Int32Array(n));
  const pos = has('pos') ? numbers(table, 'pos', (n) => new Int32Array(n)) : new Int32Array(table.numRows);
  const posNorm = has('pos_norm') ? numbers(table, 'pos_norm', (n) => new Float32Array(n)) : new Float32Array(table.numRows);
  const special = has('special') ? numbers(table, 'special', (n) => new Uint8Array(n)) : new Uint8Array(table.numRows);
  const raw = has('raw') ? values(table, 'raw').map((value) => (value == null ? '' : String(value))) : null;
  const rowsBySeq = new Map<number, number[]>();
  for (let row = 0; row < seq.length; row++) {
    let rows = rowsBySeq.get(seq[row]);
    if (!rows) rowsBySeq.set(seq[row], (rows = []));
    rows.push(row);
  }
  for (const rows of rowsBySeq.values()) rows.sort((a, b) => pos[a] - pos[b]);

  const cache = new Map<string, ColumnValues>();
  const column = (name: string): ColumnValues => {
    const hit = cache.get(name);
    if (hit) return hit;
    const raw = values(table, name);
    const numeric = raw.every((value) => value == null || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean');
    const distinct = new Map<string, number>();
    for (const value of raw) {
      const key = String(value);
      if (!distinct.has(key) && distinct.size <= MAX_CATEGORIES) distinct.set(key, distinct.size);
    }
    let result: ColumnValues;
    if (numeric && distinct.size > MAX_CATEGORIES / 2) {
      const nums = Float64Array.from(raw, (value) => (value == null ? NaN : Number(value)));
      let min = Infinity;
      let max = -Infinity;
      for (const v of nums) {
        if (!Number.isFinite(v)) continue;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      result = { kind: 'number', values: nums, min, max };
    } else {
      // Categories by frequency; values beyond the palette share "other".
      const counts = new Map<string, number>();
      for (const value of raw) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
      const labels = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label]) => label);
      const kept = labels.slice(0, MAX_CATEGORIES - 1);
      const index = new Map(kept.map((label, i) => [label, i]));
      const other = labels.length > kept.length ? kept.length : -1;
      if (other >= 0) kept.push('other');
      result = { kind: 'category', codes: Int32Array.from(raw, (value) => index.get(String(value)) ?? other), labels: kept };
    }
    cache.set(name, result);
    return result;
  };
  return { length: table.numRows, text, raw, seq, pos, posNorm, special, rowsBySeq, columnNames, column };
}
