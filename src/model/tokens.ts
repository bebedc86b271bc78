/**
 * The token table (one row per token) decoded from the Arrow IPC stream the kernel
 * sends. Columns the view needs are pulled into typed arrays once.
 */
import { tableFromIPC, type Table } from 'apache-arrow';

export interface TokenTable {
  length: number;
  /** Token text as a reader sees it; always rendered with textContent. */
  text: string[];
  /** Sequence (input text) id per token. */
  seq: Int32Array;
  /** Position in its sequence. */
  pos: Int32Array;
  /** pos / (length - 1), in [0, 1]. */
  posNorm: Float32Array;
  /** Rows of each sequence, in position order (for the sentence context of a token). */
  rowsBySeq: Map<number, number[]>;
}

function numberColumn<T extends Int32Array | Float32Array>(
  table: Table,
  name: string,
  make: (n: number) => T,
): T {
  const column = table.getChild(name);
  if (!column) throw new Error(`token table has no "${name}" column`);
  const out = make(table.numRows);
  let i = 0;
  for (const value of column) out[i++] = Number(value);
  return out;
}

export function decodeTokenTable(view: DataView): TokenTable {
  const table: Table = tableFromIPC(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  const textColumn = table.getChild('text');
  if (!textColumn) throw new Error('token table has no "text" column');
  const text: string[] = [];
  for (const value of textColumn) text.push(value == null ? '' : String(value));
  const seq = numberColumn(table, 'seq', (n) => new Int32Array(n));
  const pos = numberColumn(table, 'pos', (n) => new Int32Array(n));
  const posNorm = numberColumn(table, 'pos_norm', (n) => new Float32Array(n));
  const rowsBySeq = new Map<number, number[]>();
  for (let row = 0; row < seq.length; row++) {
    let rows = rowsBySeq.get(seq[row]);
    if (!rows) rowsBySeq.set(seq[row], (rows = []));
    rows.push(row);
  }
  for (const rows of rowsBySeq.values()) rows.sort((a, b) => pos[a] - pos[b]);
  return { length: table.numRows, text, seq, pos, posNorm, rowsBySeq };
}
