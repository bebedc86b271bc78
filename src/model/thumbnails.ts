/**
 * Kernel-computed thumbnails (the `thumbnails` request, protocol/kinds.ts): many heads'
 * 2D PCA in one float32 buffer, [heads, 2 n_tokens, 2] little-endian, queries first
 * per head; the same layout shape `jointLayout` returns for a 2D PCA.
 */
import { decodeMatrix } from './decode';

export interface ThumbnailBatch {
  heads: Array<[number, number]>;
  nTokens: number;
  /** One [2 nTokens, 2] layout per head, in the order of `heads`. */
  positions: Float32Array[];
}

/** Split the reply's buffer into one layout per head; a buffer of the wrong size is refused. */
export function decodeThumbnails(result: { heads: Array<[number, number]>; n_tokens: number }, buffer: DataView | undefined): ThumbnailBatch {
  const { heads, n_tokens: nTokens } = result;
  if (!Array.isArray(heads) || !Number.isInteger(nTokens) || nTokens < 0) throw new Error('thumbnails reply without its heads and n_tokens');
  if (!buffer) throw new Error('thumbnails reply without its buffer');
  const perHead = 4 * nTokens; // 2 nTokens points x 2 coordinates
  if (buffer.byteLength !== heads.length * perHead * 4) {
    throw new Error(`thumbnails buffer holds ${buffer.byteLength} bytes, expected ${heads.length} heads x ${perHead} float32 = ${heads.length * perHead * 4}`);
  }
  const all = decodeMatrix(buffer, 'float32', heads.length, perHead);
  const positions = heads.map((_, i) => all.slice(i * perHead, (i + 1) * perHead));
  return { heads: heads.map(([layer, head]) => [layer, head]), nTokens, positions };
}
