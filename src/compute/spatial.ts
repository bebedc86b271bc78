/**
 * Nearest-point lookup for hover and click: a static k-d tree (kdbush) over the 2D
 * layout, so a mouse move costs O(log n + hits), not a scan of every point.
 */
import KDBush from 'kdbush';

export class PointIndex {
  private readonly tree: KDBush;

  /** `xy` holds interleaved 2D coordinates, one pair per point. */
  constructor(private readonly xy: Float32Array) {
    const count = xy.length >> 1;
    this.tree = new KDBush(Math.max(count, 1), 64, Float32Array);
    for (let i = 0; i < count; i++) this.tree.add(xy[2 * i], xy[2 * i + 1]);
    if (count === 0) this.tree.add(Infinity, Infinity);
    this.tree.finish();
  }

  /** Index of the closest point within `radius` of (x, y), or -1. */
  nearest(x: number, y: number, radius: number): number {
    let best = -1;
    let bestDistance = radius * radius;
    for (const i of this.tree.within(x, y, radius)) {
      if (2 * i >= this.xy.length) continue;
      const distance = (this.xy[2 * i] - x) ** 2 + (this.xy[2 * i + 1] - y) ** 2;
      if (distance <= bestDistance) {
        bestDistance = distance;
        best = i;
      }
    }
    return best;
  }
}
