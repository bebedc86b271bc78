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

/**
 * Wheel zooms the picture around the cursor (points keep their size on screen, so crowded
 * heads come apart), drag pans, double-click fits it again. A drag never counts as a click
 * on the point it started on. Returns the removal.
 */
export function bindZoom(picture: HeadMapPicture, width: number, height: number): () => void {
  const { svg, circles } = picture;
  const radius = Number(circles[0]?.getAttribute('r') ?? 4);
  let view = { x: 0, y: 0, w: width, h: height };
  const apply = (): void => {
    svg.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`);
    const r = String(radius * (view.w / width));
    for (const circle of circles) circle.setAttribute('r', r);
    svg.dataset.zoom = (width / view.w).toFixed(3);
  };
  const toView = (event: MouseEvent): [number, number] => {
    const box = svg.getBoundingClientRect();
    return [view.x + ((event.clientX - box.left) / (box.width || width)) * view.w, view.y + ((event.clientY - box.top) / (box.height || height)) * view.h];
  };
  const onWheel = (event: WheelEvent): void => {
    event.preventDefault();
    const factor = Math.exp(Math.max(-1, Math.min(1, event.deltaY / 300)));
    const w = Math.max(width / 64, Math.min(width, view.w * factor));
    const [px, py] = toView(event);
    const f = w / view.w;
    view = { x: px - (px - view.x) * f, y: py - (py - view.y) * f, w, h: view.h * f };
    apply();
  };
  let drag: { x: number; y: number; view: typeof view; moved: boolean } | null = null;
  let dragged = false;
  const onDown = (event: PointerEvent): void => {
    drag = { x: event.clientX, y: event.clientY, view, moved: false };
    dragged = false;
  };
  const onMove = (event: PointerEvent): void => {
    if (!drag || !(event.buttons & 1)) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    drag.moved = true;
    const scale = view.w / (svg.getBoundingClientRect().width || width);
    view = { ...drag.view, x: drag.view.x - dx * scale, y: drag.view.y - dy * scale };
    apply();
  };
  const onUp = (): void => {
    dragged = drag?.moved ?? false;
    drag = null;
  };
  const onClick = (event: MouseEvent): void => {
    if (!dragged) return;
    dragged = false;
    event.stopPropagation(); // the end of a pan, not a click on a point
  };
  const onDouble = (): void => {
    view = { x: 0, y: 0, w: width, h: height };
    apply();
  };
  svg.addEventListener('wheel', onWheel, { passive: false });
  svg.addEventListener('pointerdown', onDown);
  svg.addEventListener('pointermove', onMove);
  svg.addEventListener('pointerup', onUp);
  svg.addEventListener('click', onClick, true);
  svg.addEventListener('dblclick', onDouble);
  return () => {
    svg.removeEventListener('wheel', onWheel);
    svg.removeEventListener('pointerdown', onDown);
    svg.removeEventListener('pointermove', onMove);
    svg.removeEventListener('pointerup', onUp);
    svg.removeEventListener('click', onClick, true);
    svg.removeEventListener('dblclick', onDouble);
  };
}
