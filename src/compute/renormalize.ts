/**
 * Hiding attention sinks: the keys of special tokens ([CLS], [SEP], <s>...) and of each
 * sequence's first token often take most of a head's attention. Hiding them drops the
 * attention to those keys and renormalizes the rest to sum to 1, as the original
 * AttentionViz does: w'_j = w_j / sum_{k not hidden} w_k for visible j, 0 for hidden j.
 */

/** 1 for the rows whose keys are hidden: special tokens and position 0. */
export function sinkRows(special: ArrayLike<number>, pos: ArrayLike<number>, nTokens: number): Uint8Array {
  const hidden = new Uint8Array(nTokens);
  for (let i = 0; i < nTokens; i++) hidden[i] = special[i] === 1 || pos[i] === 0 ? 1 : 0;
  return hidden;
}

/**
 * `weights` over `keyRows` with the hidden keys dropped and the rest renormalized (a new
 * array; all zeros when every key is hidden). Without `hidden`, a copy of `weights`.
 */
export function renormalize(weights: ArrayLike<number>, keyRows: ArrayLike<number>, hidden: Uint8Array | null): Float32Array {
  const out = Float32Array.from(weights);
  if (!hidden) return out;
  let sum = 0;
  for (let j = 0; j < out.length; j++) {
    if (hidden[keyRows[j]]) out[j] = 0;
    sum += out[j];
  }
  if (sum <= 0) return out.fill(0);
  for (let j = 0; j < out.length; j++) out[j] /= sum;
  return out;
}
