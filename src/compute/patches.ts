/**
 * Attention of one query over the patch grid of its image (vision transformers):
 * the weights of attentionRow (softmax of q.k * scale over the keys of the query's
 * image) placed at each key's (patch_row, patch_col); keys that are not patches
 * ([CLS], distillation or register tokens, patch_row < 0) are summed into `other`.
 */

export interface PatchHeat {
  /** [gridRows, gridCols] row-major attention weight per patch (0 where no key). */
  heat: Float32Array;
  /** Total weight on keys that are not patches. */
  other: number;
  /** Largest patch weight. */
  max: number;
}

/**
 * `weights[j]` is the weight of key `keyRows[j]`; `patchRow` / `patchCol` give each
 * token row's grid cell (negative for non-patch tokens).
 */
export function patchHeat(
  weights: ArrayLike<number>,
  keyRows: ArrayLike<number>,
  patchRow: ArrayLike<number>,
  patchCol: ArrayLike<number>,
  gridRows: number,
  gridCols: number,
): PatchHeat {
  if (weights.length !== keyRows.length) throw new Error(`${weights.length} weights for ${keyRows.length} keys`);
  const heat = new Float32Array(gridRows * gridCols);
  let other = 0;
  let max = 0;
  for (let j = 0; j < keyRows.length; j++) {
    const r = patchRow[keyRows[j]];
    const c = patchCol[keyRows[j]];
    if (r < 0 || c < 0 || r >= gridRows || c >= gridCols) {
      other += weights[j];
      continue;
    }
    heat[r * gridCols + c] += weights[j];
    max = Math.max(max, heat[r * gridCols + c]);
  }
  return { heat, other, max };
}

/** Grid size from the patch columns of a token table: max index + 1 on each axis. */
export function gridShape(patchRow: ArrayLike<number>, patchCol: ArrayLike<number>): [number, number] {
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < patchRow.length; i++) {
    rows = Math.max(rows, patchRow[i] + 1);
    cols = Math.max(cols, patchCol[i] + 1);
  }
  return [rows, cols];
}
