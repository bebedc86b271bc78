/**
 * Per-token values for the colour modes that are not token-table columns: token length,
 * sentence length, token frequency in the corpus, position modulo k, vector norm and
 * attention received (the total weight a key gets from the queries of its sequence).
 */
import { allowedKeys, attentionRow } from './attention';
import { renormalize } from './renormalize';

/** The text of a token without a subword marker (WordPiece "##", SentencePiece "▁", byte-BPE "Ġ"). */
export function bareToken(text: string): string {
  return text.replace(/^(##|▁|Ġ)/, '');
}

/** Characters of each token (subword markers not counted). */
export function tokenLengths(texts: readonly string[]): Float32Array {
  return Float32Array.from(texts, (text) => [...bareToken(text)].length);
}

/** Tokens in each token's sequence. */
export function sentenceLengths(seq: ArrayLike<number>, rowsBySeq: Map<number, number[]>, nTokens: number): Float32Array {
  return Float32Array.from({ length: nTokens }, (_, i) => rowsBySeq.get(seq[i])?.length ?? 1);
}

/** How often each token's text occurs in the corpus (the first `nTokens` rows; case kept). */
export function tokenFrequencies(texts: readonly string[], nTokens: number): Float32Array {
  const counts = new Map<string, number>();
  for (let i = 0; i < nTokens; i++) counts.set(texts[i], (counts.get(texts[i]) ?? 0) + 1);
  return Float32Array.from({ length: nTokens }, (_, i) => counts.get(texts[i]) ?? 0);
}

/** pos mod k for each token (k >= 1). */
export function positionModulo(pos: ArrayLike<number>, k: number, nTokens: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`position modulo k needs an integer k >= 1, got ${k}`);
  return Int32Array.from({ length: nTokens }, (_, i) => pos[i] % k);
}

/**
 * Per token row, the total attention weight its key receives from the queries of its
 * sequence (each query's weights sum to 1, so a sequence of m tokens hands out m).
 */
export function attentionReceived(
  queries: Float32Array,
  keys: Float32Array,
  dHead: number,
  nTokens: number,
  sequences: Iterable<number[]>,
  options: { scale: number; causal: boolean; hidden: Uint8Array | null },
): Float32Array {
  const received = new Float32Array(nTokens);
  for (const rows of sequences) {
    const inHead = rows.filter((row) => row < nTokens);
    for (let i = 0; i < inHead.length; i++) {
      const keyRows = allowedKeys(inHead, i, options.causal);
      const weights = renormalize(attentionRow(queries, keys, dHead, inHead[i], keyRows, options.scale), keyRows, options.hidden);
      for (let j = 0; j < weights.length; j++) received[keyRows[j]] += weights[j];
    }
  }
  return received;
}
