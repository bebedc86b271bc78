/**
 * Token labels beside points without overlaps. Greedy placement, nearest first: the
 * candidates closest to the anchor (the focused point, or the plot's centre) are placed
 * first, each at the first of a few slots around its point (right, left, above, below)
 * whose box overlaps no label already placed and lies inside the plot; a candidate with
 * no free slot gets no label. A uniform grid over the plot finds overlaps quickly.
 */

export interface LabelCandidate {
  /** The point, canvas pixels. */
  x: number;
  y: number;
  /** The label's box size, canvas pixels. */
  width: number;
  height: number;
}

export interface PlacedLabel {
  /** Index into the candidates. */
  index: number;
  /** The box's top-left corner. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Gap between a point and its label, and between labels, in pixels. */
const GAP = 3;

/** Slots around a point, tried in order: right, left, above, below. */
function slots(c: LabelCandidate): Array<[number, number]> {
  return [
    [c.x + GAP, c.y - c.height / 2],
    [c.x - GAP - c.width, c.y - c.height / 2],
    [c.x - c.width / 2, c.y - GAP - c.height],
    [c.x - c.width / 2, c.y + GAP],
  ];
}

/**
 * Places labels for `candidates` (nearest to `anchor` first) inside a `width` x `height`
 * plot; at most `limit`. No two placed boxes overlap.
 */
export function placeLabels(candidates: LabelCandidate[], anchor: [number, number], width: number, height: number, limit = 200): PlacedLabel[] {
  const order = candidates.map((_, i) => i).filter((i) => [candidates[i].x, candidates[i].y].every(Number.isFinite));
  const distance = (i: number): number => (candidates[i].x - anchor[0]) ** 2 + (candidates[i].y - anchor[1]) ** 2;
  const distances = new Float64Array(candidates.length);
  for (const i of order) distances[i] = distance(i);
  order.sort((a, b) => distances[a] - distances[b] || a - b);
  const cell = 32;
  const columns = Math.max(1, Math.ceil(width / cell));
  const grid = new Map<number, PlacedLabel[]>();
  const cellsOf = (left: number, top: number, w: number, h: number): number[] => {
    const cells: number[] = [];
    for (let gy = Math.floor(top / cell); gy <= Math.floor((top + h) / cell); gy++) {
      for (let gx = Math.floor(left / cell); gx <= Math.floor((left + w) / cell); gx++) cells.push(gy * columns + gx);
    }
    return cells;
  };
  const free = (left: number, top: number, w: number, h: number): boolean => {
    if (left < 0 || top < 0 || left + w > width || top + h > height) return false;
    for (const key of cellsOf(left, top, w, h)) {
      for (const other of grid.get(key) ?? []) {
        if (left < other.left + other.width + GAP && other.left < left + w + GAP && top < other.top + other.height && other.top < top + h) return false;
      }
    }
    return true;
  };
  const placed: PlacedLabel[] = [];
  for (const index of order) {
    if (placed.length >= limit) break;
    const candidate = candidates[index];
    const slot = slots(candidate).find(([left, top]) => free(left, top, candidate.width, candidate.height));
    if (!slot) continue;
    const label = { index, left: slot[0], top: slot[1], width: candidate.width, height: candidate.height };
    placed.push(label);
    for (const key of cellsOf(label.left - GAP, label.top, label.width + 2 * GAP, label.height)) {
      const list = grid.get(key);
      if (list) list.push(label);
      else grid.set(key, [label]);
    }
  }
  return placed;
}

/** Whether two placed boxes overlap (for tests and callers checking a placement). */
export function overlaps(a: PlacedLabel, b: PlacedLabel): boolean {
  return a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
}
