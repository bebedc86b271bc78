/**
 * Rows typed into the view (text input) appended to the capture's token table, so the
 * head view, its tooltip, colouring, search and sentence view treat them like any
 * token: rows 0..N-1 are the capture's, N..N+M-1 the added ones (the same numbering
 * as Python's `viz.added_tokens` / `viz.selection`).
 */
import type { ColumnValues, TokenTable } from './tokens';

/** Added tokens, one entry per token, in row order. */
export interface AddedTokens {
  text: string[];
  seq: number[];
  pos: number[];
  token_id: number[];
  special: boolean[];
  /** The text the token came from, as typed. */
  sentence: string[];
}

export const ADDED_LABEL = 'typed text';

export function emptyAdded(): AddedTokens {
  return { text: [], seq: [], pos: [], token_id: [], special: [], sentence: [] };
}

/** A token table of `base`'s rows followed by `added`'s. `base` is not modified. */
export function withAddedRows(base: TokenTable, added: AddedTokens): TokenTable {
  const m = added.text.length;
  if (m === 0) return base;
  const n = base.length;
  const length = n + m;
  const seq = new Int32Array(length);
  seq.set(base.seq);
  seq.set(added.seq, n);
  const pos = new Int32Array(length);
  pos.set(base.pos);
  pos.set(added.pos, n);
  const special = new Uint8Array(length);
  special.set(base.special);
  added.special.forEach((s, i) => (special[n + i] = s ? 1 : 0));
  const rowsBySeq = new Map<number, number[]>();
  for (const [s, rows] of base.rowsBySeq) rowsBySeq.set(s, rows);
  const lastPos = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    let rows = rowsBySeq.get(added.seq[i]);
    if (!rows || !lastPos.has(added.seq[i])) rowsBySeq.set(added.seq[i], (rows = [...(rows ?? [])]));
    rows.push(n + i);
    lastPos.set(added.seq[i], Math.max(lastPos.get(added.seq[i]) ?? 0, added.pos[i]));
  }
  for (const s of lastPos.keys()) rowsBySeq.get(s)!.sort((a, b) => pos[a] - pos[b]);
  const posNorm = new Float32Array(length);
  posNorm.set(base.posNorm);
  for (let i = 0; i < m; i++) {
    const last = lastPos.get(added.seq[i]) ?? 0;
    posNorm[n + i] = last > 0 ? added.pos[i] / last : 0;
  }
  const own: Record<string, ArrayLike<number>> = { seq: added.seq, pos: added.pos, token_id: added.token_id };
  const cache = new Map<string, ColumnValues>();
  const column = (name: string): ColumnValues => {
    const hit = cache.get(name);
    if (hit) return hit;
    const source = base.column(name);
    let result: ColumnValues;
    if (source.kind === 'number') {
      const values = new Float64Array(length).fill(NaN);
      values.set(source.values);
      const mine = own[name];
      if (mine) for (let i = 0; i < m; i++) values[n + i] = mine[i];
      result = { ...source, values };
    } else {
      // Added rows share one extra category: they have no value for the capture's columns.
      const codes = new Int32Array(length).fill(source.labels.length);
      codes.set(source.codes);
      result = { kind: 'category', codes, labels: [...source.labels, ADDED_LABEL] };
    }
    cache.set(name, result);
    return result;
  };
  return {
    length,
    text: [...base.text, ...added.text],
    raw: base.raw ? [...base.raw, ...added.text] : null,
    seq,
    pos,
    posNorm,
    special,
    rowsBySeq,
    columnNames: base.columnNames,
    column,
  };
}
