/**
 * The matrix grid's geometry, pure: how wide a cell is so every head of a layer fits the
 * width (at zoom 1), how far zoom goes (to one head filling the width), where the axes
 * put a label, and how many tokens each thumbnail lays out for a model of that size.
 */

/** Space a cell spends besides its canvas: border and padding (px, both sides). */
export const CELL_CHROME = 4;
/** Gap between cells (px). */
export const CELL_GAP = 2;
/** The widest a cell gets at zoom 1 (few heads: a row need not fill the width). */
export const MAX_FIT_PITCH = 132;
/** Below this pitch a cell drops its caption (the axes name it; hover gives its numbers). */
export const CAPTION_PITCH = 64;
/** Width of the layer axis beside the grid, and the head axis' height above it. */
export const AXIS_SIZE = 30;
/** Room kept for a vertical scrollbar so one appearing never adds a horizontal one. */
export const SCROLLBAR_ALLOWANCE = 18;

/** Cell pitch (canvas + chrome + gap, px) so `nHeads` cells fill `available` px at zoom 1. */
export function fitPitch(available: number, nHeads: number): number {
  const heads = Math.max(1, nHeads);
  return Math.max(6, Math.min(MAX_FIT_PITCH, Math.floor(available / heads)));
}

/** The largest zoom: one cell as wide as the grid's width (never below 1). */
export function maxZoom(available: number, nHeads: number): number {
  return Math.max(1, available / fitPitch(available, nHeads));
}

/** Zoom clamped to [1, maxZoom]. */
export function clampZoom(zoom: number, available: number, nHeads: number): number {
  if (!Number.isFinite(zoom)) return 1;
  return Math.min(maxZoom(available, nHeads), Math.max(1, zoom));
}

/** Pitch at `zoom` (integer px, at most the grid's width). */
export function pitchAt(available: number, nHeads: number, zoom: number): number {
  const fit = fitPitch(available, nHeads);
  return Math.max(fit, Math.min(Math.max(fit, Math.floor(available)), Math.round(fit * clampZoom(zoom, available, nHeads))));
}

/** A canvas' side in a cell of `pitch` px. */
export function canvasSide(pitch: number): number {
  return Math.max(2, pitch - CELL_GAP - CELL_CHROME);
}

/** Label every `stride`-th index on an axis of cells `pitch` px apart (labels need ~`room` px). */
export function labelStride(pitch: number, room = 22): number {
  const stride = Math.ceil(room / Math.max(1, pitch));
  // 1, 2, 4, 8...: labels at round indices (0, 4, 8...).
  return stride <= 1 ? 1 : 2 ** Math.ceil(Math.log2(stride));
}

/**
 * Scroll offset that keeps the content point under the pointer (at `pointer` px in the
 * viewport) in place when the content scales from `before` to `after` px per cell.
 */
export function anchoredScroll(scroll: number, pointer: number, before: number, after: number): number {
  return Math.max(0, ((scroll + pointer) * after) / Math.max(1e-9, before) - pointer);
}

/**
 * Tokens per thumbnail: 1,500 for a small model (72 heads), fewer as heads multiply so
 * the whole grid lays out about the same number of points (a 100 px thumbnail, or a
 * 30 px one, shows no more); never under 256 (four 64-token sequences).
 */
export const THUMBNAIL_TOKENS = 1500;
export const MIN_THUMBNAIL_TOKENS = 256;
const GRID_TOKEN_BUDGET = THUMBNAIL_TOKENS * 72;

export function thumbnailTokens(totalHeads: number): number {
  return Math.max(MIN_THUMBNAIL_TOKENS, Math.min(THUMBNAIL_TOKENS, Math.floor(GRID_TOKEN_BUDGET / Math.max(1, totalHeads))));
}

/**
 * The sample: whole sequences from the start, up to `budget` tokens (at least one
 * sequence); `rows` is the count of leading token rows it covers.
 */
export function leadingSequences(bySeq: Iterable<number[]>, budget: number): { sequences: number[][]; rows: number } {
  const sequences: number[][] = [];
  let rows = 0;
  for (const sequence of bySeq) {
    const end = Math.max(...sequence) + 1;
    if (sequences.length && end > budget) break;
    sequences.push(sequence);
    rows = Math.max(rows, end);
  }
  return { sequences, rows };
}
