/** Which point of a head plot is under the pointer, and which lie inside a lasso. */
import { pointsInPolygon } from '../../compute/polygon';
import { PointIndex } from '../../compute/spatial';
import type { ScatterScene } from '../../render/scatter';

/** Canvas pixels around the pointer within which a point is picked. */
const PICK_RADIUS = 8;

export class Picker {
  private positions: Float32Array | null = null;
  private dims: 2 | 3 = 2;
  /** 2D: index over world positions; 3D: over canvas positions, rebuilt after camera moves. */
  private index: PointIndex | null = null;
  /** Per point, 1 when hidden (hide_queries / hide_keys): never picked nor lassoed. */
  private hidden: Uint8Array | null = null;

  setPoints(positions: Float32Array, dims: 2 | 3): void {
    this.positions = positions;
    this.dims = dims;
    this.index = dims === 2 ? new PointIndex(flat2(positions, dims)) : null;
  }

  setHidden(hidden: Uint8Array | null): void {
    this.hidden = hidden;
  }

  /** The camera moved or the canvas resized: in 3D the points' canvas positions changed. */
  invalidate(): void {
    if (this.dims === 3) this.index = null;
  }

  /** Nearest point to a canvas position within the pick radius, or -1. */
  pick(scene: ScatterScene, px: number, py: number): number {
    const point = this.nearest(scene, px, py);
    return point >= 0 && this.hidden?.[point] ? -1 : point;
  }

  private nearest(scene: ScatterScene, px: number, py: number): number {
    if (!this.positions) return -1;
    if (this.dims === 2) {
      const [x, y] = scene.canvasToWorld(px, py);
      return this.index!.nearest(x, y, PICK_RADIUS * scene.worldPerPixel());
    }
    if (!this.index) this.index = new PointIndex(scene.projectAll());
    return this.index.nearest(px, py, PICK_RADIUS);
  }

  /** The points inside `polygon` (canvas pixels, x0 y0 x1 y1 ...). */
  inside(scene: ScatterScene, polygon: number[]): Uint32Array {
    const points = this.allInside(scene, polygon);
    const hidden = this.hidden;
    return hidden ? points.filter((point) => !hidden[point]) : points;
  }

  private allInside(scene: ScatterScene, polygon: number[]): Uint32Array {
    if (!this.positions) return new Uint32Array(0);
    if (this.dims === 3) return pointsInPolygon(scene.projectAll(), polygon);
    const world: number[] = [];
    for (let i = 0; i < polygon.length; i += 2) world.push(...scene.canvasToWorld(polygon[i], polygon[i + 1]));
    return pointsInPolygon(flat2(this.positions, 2), world);
  }
}

/** The first two coordinates of [n, dims] positions, interleaved. */
function flat2(positions: Float32Array, dims: number): Float32Array {
  if (dims === 2) return positions;
  const count = positions.length / dims;
  const out = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    out[2 * i] = positions[dims * i];
    out[2 * i + 1] = positions[dims * i + 1];
  }
  return out;
}
