/**
 * Which token labels a head plot draws, and where: the tokens of the points on screen,
 * once few enough are on screen to read (zoomed in), placed without overlaps nearest
 * first to the focused query (or the plot's centre). While tokens are highlighted
 * (selection, search, attention targets) only theirs are labelled. Text captures only:
 * a vision capture's patches have no text worth reading.
 */
import { placeLabels, type LabelCandidate } from '../../compute/labels';
import type { TokenTable } from '../../model/tokens';
import { LABEL_HEIGHT, type DrawnLabel } from '../../render/labels';
import { EMPHASIS } from '../../render/scatter';

/** Points on screen at most for labels to be drawn: more are too dense to read. */
export const READABLE_POINTS = 250;

export interface LabelScene {
  /** Canvas CSS-pixel positions of every point, x0 y0 x1 y1 ... */
  xy: Float32Array;
  width: number;
  height: number;
  emphasis: Float32Array;
  /** Per point, 1 when hidden (hide_queries / hide_keys). */
  hidden: Uint8Array | null;
  /** The focused query's point, or -1. */
  focus: number;
  measure: (text: string) => number;
}

/** Whether a token table is a vision capture's (its labels would be "[CLS]" and patch names). */
export function isVision(tokens: TokenTable): boolean {
  return tokens.columnNames.includes('patch_row');
}

/** The labels of a head of `n` tokens as drawn in `scene` (none when too many points are on screen). */
export function tokenLabels(tokens: TokenTable | null, n: number, scene: LabelScene): DrawnLabel[] {
  if (!tokens || isVision(tokens)) return [];
  const { xy, width, height, emphasis, hidden } = scene;
  const onScreen: number[] = [];
  let highlighted = false;
  for (let point = 0; point < 2 * n; point++) {
    const x = xy[2 * point];
    const y = xy[2 * point + 1];
    if (hidden?.[point] || !(x >= 0 && x <= width && y >= 0 && y <= height)) continue;
    onScreen.push(point);
    if (emphasis[point] === EMPHASIS.highlighted) highlighted = true;
  }
  const shown = highlighted ? onScreen.filter((point) => emphasis[point] === EMPHASIS.highlighted) : onScreen;
  if (shown.length > READABLE_POINTS) return [];
  const candidates: LabelCandidate[] = shown.map((point) => ({
    x: xy[2 * point],
    y: xy[2 * point + 1],
    width: scene.measure(tokens.text[point % n]),
    height: LABEL_HEIGHT,
  }));
  const anchor: [number, number] = scene.focus >= 0 ? [xy[2 * scene.focus], xy[2 * scene.focus + 1]] : [width / 2, height / 2];
  return placeLabels(candidates, anchor, width, height).map(({ index, left, top }) => ({ text: tokens.text[shown[index] % n], left, top }));
}

/** Per point, 1 when hidden by `hide_queries` / `hide_keys`; null when none is. */
export function hiddenPoints(n: number, hideQueries: boolean, hideKeys: boolean): Uint8Array | null {
  if (!hideQueries && !hideKeys) return null;
  const hidden = new Uint8Array(2 * n);
  if (hideQueries) hidden.fill(1, 0, n);
  if (hideKeys) hidden.fill(1, n, 2 * n);
  return hidden;
}
