/** Point-in-polygon selection for the lasso, on typed arrays. */

/**
 * Indices of the 2D points (xy interleaved) inside the polygon (xy interleaved,
 * implicitly closed), by the even-odd ray-casting rule.
 */
export function pointsInPolygon(points: Float32Array, polygon: ArrayLike<number>): Uint32Array {
  const vertexCount = polygon.length >> 1;
  if (vertexCount < 3) return new Uint32Array(0);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let v = 0; v < vertexCount; v++) {
    minX = Math.min(minX, polygon[2 * v]);
    maxX = Math.max(maxX, polygon[2 * v]);
    minY = Math.min(minY, polygon[2 * v + 1]);
    maxY = Math.max(maxY, polygon[2 * v + 1]);
  }
  const inside: number[] = [];
  const count = points.length >> 1;
  for (let i = 0; i < count; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    let crossings = false;
    for (let a = 0, b = vertexCount - 1; a < vertexCount; b = a++) {
      const ax = polygon[2 * a], ay = polygon[2 * a + 1];
      const bx = polygon[2 * b], by = polygon[2 * b + 1];
      if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) crossings = !crossings;
    }
    if (crossings) inside.push(i);
  }
  return Uint32Array.from(inside);
}
