/**
 * The head map's picture: one SVG circle per head at its given 2-D position (scaled to fit,
 * same scale on both axes, so distances read true), in its given colour. SVG because a
 * model has hundreds, not hundreds of thousands, of heads: each point is an element the
 * browser hit-tests, focuses and exports as it is.
 */
const SVG = 'http://www.w3.org/2000/svg';

export interface HeadMapPoint {
  layer: number;
  head: number;
  x: number;
  y: number;
  /** '#rrggbb'. */
  color: string;
}

export interface HeadMapPicture {
  svg: SVGSVGElement;
  /** The circle of each point, in the order given. */
  circles: SVGCircleElement[];
}

const svgElement = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string>): SVGElementTagNameMap[K] => {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
  return element;
};

/** Point radius in px: smaller as heads get many (72 heads: 6, 512: 4, 1024: 3). */
export function pointRadius(count: number): number {
  return count <= 128 ? 6 : count <= 600 ? 4 : 3;
}

/** Draw `points` in a `width` x `height` SVG with `padding` px around them. */
export function drawHeadMap(points: HeadMapPoint[], width: number, height: number, background: string, padding = 24): HeadMapPicture {
  const svg = svgElement('svg', { width: String(width), height: String(height), viewBox: `0 0 ${width} ${height}`, xmlns: SVG, class: 'av-headmap-svg' });
  svg.append(svgElement('rect', { x: '0', y: '0', width: String(width), height: String(height), fill: background }));
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const { x, y } of points) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const span = Math.max(maxX - minX, maxY - minY, 1e-12);
  const scale = Math.min(width - 2 * padding, height - 2 * padding) / span;
  // centred: the unused extent of the shorter axis splits evenly
  const offsetX = (width - (maxX - minX) * scale) / 2;
  const offsetY = (height - (maxY - minY) * scale) / 2;
  const radius = String(pointRadius(points.length));
  const circles = points.map((point) => {
    const circle = svgElement('circle', {
      cx: ((point.x - minX) * scale + offsetX).toFixed(2),
      // up is +y, as in a scatterplot
      cy: ((maxY - point.y) * scale + offsetY).toFixed(2),
      r: radius,
      fill: point.color,
      stroke: '#00000055',
      'stroke-width': '0.75',
      class: 'av-headmap-point',
      tabindex: '0',
      role: 'button',
      'data-layer': String(point.layer),
      'data-head': String(point.head),
      'aria-label': `layer ${point.layer}, head ${point.head}: open`,
    });
    return circle;
  });
  svg.append(...circles);
  return { svg, circles };
}
