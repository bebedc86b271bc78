/**
 * Vector export: one <circle> per visible point (up to SVG_POINT_LIMIT), lines,
 * labels, legend and title, per figure; several figures (the compare view's panels)
 * sit side by side, each in its own <g class="figure">. Built with DOM calls and
 * serialised with XMLSerializer, so token text is always escaped data, never markup.
 */
import { pointAlpha, type Figure } from './figure';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Above this many visible points the SVG aggregates: one square per occupied 2x2 px
 * cell, in the mean colour of its points (documented in the README), so files stay
 * openable.
 */
export const SVG_POINT_LIMIT = 100_000;

function element(name: string, attributes: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function rgb(r: number, g: number, b: number): string {
  return `rgb(${Math.round(r * 255)},${Math.round(g * 255)},${Math.round(b * 255)})`;
}

/** Figures left to right in one SVG document (one figure: the single-head view). */
export function figuresToSvg(figures: Figure[]): string {
  if (!figures.length) throw new Error('no figure to export');
  const width = figures.reduce((sum, figure) => sum + figure.width, 0);
  const height = Math.max(...figures.map((figure) => figure.height));
  const svg = element('svg', { xmlns: SVG_NS, width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'sans-serif' });
  let left = 0;
  for (const figure of figures) {
    const group = figureGroup(figure);
    if (left) group.setAttribute('transform', `translate(${left} 0)`);
    svg.append(group);
    left += figure.width;
  }
  return new XMLSerializer().serializeToString(svg);
}

/** One figure drawn from the origin, as a <g class="figure">. */
function figureGroup(figure: Figure): SVGElement {
  const { width, height } = figure;
  const svg = element('g', { class: 'figure' });
  svg.append(element('rect', { x: 0, y: 0, width, height, fill: figure.background }));
  const visible = figure.points.filter((p) => p.x >= 0 && p.x <= width && p.y >= 0 && p.y <= height);
  const points = element('g', { class: 'points' });
  const radius = figure.pointSize / 2;
  // Dimmed first so highlighted points sit on top, as on screen.
  visible.sort((a, b) => a.emphasis - b.emphasis);
  if (visible.length <= SVG_POINT_LIMIT) {
    for (const p of visible) {
      const circle = element('circle', {
        cx: p.x.toFixed(2),
        cy: p.y.toFixed(2),
        r: (p.emphasis > 1.5 ? radius * 1.7 : radius).toFixed(2),
        fill: rgb(p.r, p.g, p.b),
        'fill-opacity': pointAlpha(p.emphasis),
      });
      if (p.emphasis > 1.5) {
        circle.setAttribute('stroke', figure.ring);
        circle.setAttribute('stroke-width', '1');
      }
      points.append(circle);
    }
  } else {
    points.setAttribute('class', 'points aggregated');
    const cells = new Map<number, [number, number, number, number]>();
    const columns = Math.ceil(width / 2);
    for (const p of visible) {
      const key = Math.floor(p.y / 2) * columns + Math.floor(p.x / 2);
      const cell = cells.get(key) ?? [0, 0, 0, 0];
      cell[0] += p.r;
      cell[1] += p.g;
      cell[2] += p.b;
      cell[3] += 1;
      cells.set(key, cell);
    }
    for (const [key, [r, g, b, n]] of cells) {
      points.append(element('rect', { x: (key % columns) * 2, y: Math.floor(key / columns) * 2, width: 2, height: 2, fill: rgb(r / n, g / n, b / n), 'fill-opacity': 0.85 }));
    }
  }
  svg.append(points);
  const lines = element('g', { class: 'lines', 'stroke-linecap': 'round' });
  for (const line of figure.lines) {
    lines.append(element('line', { x1: line.from[0], y1: line.from[1], x2: line.to[0], y2: line.to[1], stroke: line.color, 'stroke-width': line.width.toFixed(2), 'stroke-opacity': line.alpha.toFixed(3) }));
  }
  svg.append(lines);
  const labels = element('g', { class: 'labels', 'font-size': 11, fill: figure.foreground });
  for (const label of figure.labels) {
    const text = element('text', { x: (label.x + 6).toFixed(1), y: (label.y - 6).toFixed(1) });
    text.textContent = label.text;
    labels.append(text);
  }
  svg.append(labels);
  const legend = element('g', { class: 'legend', 'font-size': 11, fill: figure.foreground });
  figure.legend.forEach((entry, i) => {
    const y = height - 12 - (figure.legend.length - 1 - i) * 16;
    legend.append(element('circle', { cx: 14, cy: y - 4, r: 5, fill: entry.color }));
    const text = element('text', { x: 24, y });
    text.textContent = entry.label;
    legend.append(text);
  });
  svg.append(legend);
  const title = element('text', { x: 10, y: 18, 'font-size': 13, 'font-weight': 'bold', fill: figure.foreground, class: 'title' });
  title.textContent = figure.title;
  svg.append(title);
  return svg;
}
