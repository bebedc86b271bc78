/** The lasso outline drawn while shift-dragging, in canvas CSS pixels. */
const SVG_NS = 'http://www.w3.org/2000/svg';

export class LassoOverlay {
  readonly element: SVGSVGElement;
  private readonly path: SVGPolylineElement;
  private points: number[] = [];

  constructor() {
    this.element = document.createElementNS(SVG_NS, 'svg');
    this.element.setAttribute('class', 'av-lasso');
    this.path = document.createElementNS(SVG_NS, 'polyline');
    this.element.append(this.path);
  }

  start(x: number, y: number): void {
    this.points = [x, y];
    this.draw();
  }

  extend(x: number, y: number): void {
    const n = this.points.length;
    // Skip sub-pixel moves: they add vertices without changing the shape.
    if (n >= 2 && Math.hypot(this.points[n - 2] - x, this.points[n - 1] - y) < 2) return;
    this.points.push(x, y);
    this.draw();
  }

  /** The closed polygon (interleaved x, y) and clears the outline. */
  finish(): number[] {
    const polygon = this.points;
    this.points = [];
    this.draw();
    return polygon;
  }

  private draw(): void {
    const pairs: string[] = [];
    for (let i = 0; i < this.points.length; i += 2) pairs.push(`${this.points[i]},${this.points[i + 1]}`);
    if (pairs.length) pairs.push(pairs[0]);
    this.path.setAttribute('points', pairs.join(' '));
  }
}
