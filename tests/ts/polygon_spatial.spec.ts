import { pointsInPolygon } from '../../src/compute/polygon';
import { PointIndex } from '../../src/compute/spatial';
import { mulberry32 } from './helpers';

const SQUARE = [0, 0, 1, 0, 1, 1, 0, 1];
/** An L: the unit-2 square minus its top-right quarter [1, 2] x [1, 2]. */
const L_SHAPE = [0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2];

function insideL(x: number, y: number): boolean {
  return (x > 0 && x < 2 && y > 0 && y < 1) || (x > 0 && x < 1 && y > 0 && y < 2);
}

function reversePolygon(polygon: number[]): number[] {
  const out: number[] = [];
  for (let i = polygon.length - 2; i >= 0; i -= 2) out.push(polygon[i], polygon[i + 1]);
  return out;
}

describe('pointsInPolygon', () => {
  it('selects the points inside a square, in index order', () => {
    const points = new Float32Array([0.5, 0.5, 1.5, 0.5, -0.1, 0.5, 0.1, 0.9, 0.5, 2, 0.99, 0.01]);
    expect(Array.from(pointsInPolygon(points, SQUARE))).toEqual([0, 3, 5]);
    // Orientation of the outline does not matter.
    expect(Array.from(pointsInPolygon(points, reversePolygon(SQUARE)))).toEqual([0, 3, 5]);
    // An explicitly closed outline (first vertex repeated) gives the same answer.
    expect(Array.from(pointsInPolygon(points, [...SQUARE, 0, 0]))).toEqual([0, 3, 5]);
  });

  it('handles a concave L-shape: the notch inside the bounding box is outside', () => {
    const points = new Float32Array([0.5, 1.5, 1.5, 0.5, 1.5, 1.5, 0.5, 0.5, 1.9, 1.9, 3, 0.5]);
    expect(Array.from(pointsInPolygon(points, L_SHAPE))).toEqual([0, 1, 3]);
  });

  it('agrees with the analytic L-shape on 2,000 random points', () => {
    const random = mulberry32(11);
    const points = new Float32Array(4000);
    for (let i = 0; i < points.length; i++) points[i] = random() * 2.6 - 0.3;
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) if (insideL(points[2 * i], points[2 * i + 1])) expected.push(i);
    expect(expected.length).toBeGreaterThan(500);
    expect(Array.from(pointsInPolygon(points, L_SHAPE))).toEqual(expected);
    expect(Array.from(pointsInPolygon(points, reversePolygon(L_SHAPE)))).toEqual(expected);
  });

  it('agrees with an analytic diamond (convex, bounding box mostly outside) on 2,000 random points', () => {
    const diamond = [1, 0, 2, 1, 1, 2, 0, 1]; // |x - 1| + |y - 1| < 1
    const random = mulberry32(12);
    const points = new Float32Array(4000);
    for (let i = 0; i < points.length; i++) points[i] = random() * 2.4 - 0.2;
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) if (Math.abs(points[2 * i] - 1) + Math.abs(points[2 * i + 1] - 1) < 1) expected.push(i);
    expect(expected.length).toBeGreaterThan(500);
    expect(Array.from(pointsInPolygon(points, diamond))).toEqual(expected);
  });

  it('returns nothing for fewer than 3 vertices or no points', () => {
    const points = new Float32Array([0.5, 0.5, 0, 0]);
    expect(pointsInPolygon(points, []).length).toBe(0);
    expect(pointsInPolygon(points, [0, 0, 1, 1]).length).toBe(0);
    expect(pointsInPolygon(new Float32Array(0), SQUARE).length).toBe(0);
  });
});

describe('PointIndex.nearest', () => {
  const COUNT = 2000;
  const random = mulberry32(2024);
  const xy = new Float32Array(2 * COUNT);
  for (let i = 0; i < xy.length; i++) xy[i] = random() * 100;
  const index = new PointIndex(xy);

  function bruteForce(x: number, y: number, radius: number): { best: number; distance: number } {
    let best = -1;
    let distance = Infinity;
    for (let i = 0; i < COUNT; i++) {
      const d = Math.hypot(xy[2 * i] - x, xy[2 * i + 1] - y);
      if (d <= radius && d < distance) {
        distance = d;
        best = i;
      }
    }
    return { best, distance };
  }

  it('matches a brute-force scan for 200 random queries at several radii', () => {
    let found = 0;
    let missed = 0;
    for (let q = 0; q < 200; q++) {
      // Half the queries sit exactly on a point (distance 0), half anywhere (some outside the data).
      const onPoint = q % 2 === 0;
      const p = Math.floor(random() * COUNT);
      const x = onPoint ? xy[2 * p] : random() * 110 - 5;
      const y = onPoint ? xy[2 * p + 1] : random() * 110 - 5;
      const radius = [0.5, 1.5, 4][q % 3];
      const expected = bruteForce(x, y, radius);
      const got = index.nearest(x, y, radius);
      if (expected.best < 0) {
        expect(got).withContext(`query ${q} (${x}, ${y}) r=${radius}`).toBe(-1);
        missed++;
      } else {
        expect(got).withContext(`query ${q}`).toBeGreaterThanOrEqual(0);
        // Ties are allowed to resolve to any of the tied points: compare distances.
        const distance = Math.hypot(xy[2 * got] - x, xy[2 * got + 1] - y);
        expect(distance).withContext(`query ${q} (${x}, ${y}) r=${radius}`).toBeCloseTo(expected.distance, 9);
        found++;
      }
    }
    // The sample exercises both outcomes.
    expect(found).toBeGreaterThan(50);
    expect(missed).toBeGreaterThan(10);
  });

  it('finds nothing beyond the radius and the point itself at radius 0', () => {
    expect(index.nearest(-50, -50, 10)).toBe(-1);
    expect(index.nearest(xy[0], xy[1], 0)).toBe(0);
    expect(index.nearest(xy[2] + 1e-4, xy[3], 1e-3)).toBe(1);
  });

  it('returns -1 from an empty index, whatever the radius', () => {
    const empty = new PointIndex(new Float32Array(0));
    expect(empty.nearest(0, 0, 10)).toBe(-1);
    expect(empty.nearest(0, 0, 1e12)).toBe(-1);
    expect(empty.nearest(Infinity, Infinity, 1)).toBe(-1);
  });

  it('works with a single point', () => {
    const one = new PointIndex(new Float32Array([3, 4]));
    expect(one.nearest(0, 0, 5)).toBe(0);
    expect(one.nearest(0, 0, 4.9)).toBe(-1);
  });
});
