/**
 * The original AttentionViz's sentence-wide lines: for every query of one sentence, its
 * top 2 keys by attention with weight >= 0.05 (after hiding attention sinks, when asked).
 */
import { allowedKeys, attentionRow, topK } from './attention';
import { renormalize } from './renormalize';

export interface AttentionLink {
  query: number;
  key: number;
  weight: number;
}

export interface SentenceLineOptions {
  scale: number;
  causal: boolean;
  /** Rows whose keys are hidden (renormalized away), or null. */
  hidden: Uint8Array | null;
  /** Keys per query (default 2). */
  perQuery?: number;
  /** Weight a key needs to be drawn (default 0.05). */
  minWeight?: number;
}

/** The links of every query of `rows` (one sequence, in position order). */
export function sentenceLines(queries: Float32Array, keys: Float32Array, dHead: number, rows: ArrayLike<number>, options: SentenceLineOptions): AttentionLink[] {
  const perQuery = options.perQuery ?? 2;
  const minWeight = options.minWeight ?? 0.05;
  const links: AttentionLink[] = [];
  for (let i = 0; i < rows.length; i++) {
    const keyRows = allowedKeys(rows, i, options.causal);
    const weights = renormalize(attentionRow(queries, keys, dHead, rows[i], keyRows, options.scale), keyRows, options.hidden);
    for (const j of topK(weights, perQuery)) {
      if (weights[j] >= minWeight) links.push({ query: rows[i], key: keyRows[j], weight: weights[j] });
    }
  }
  return links;
}
