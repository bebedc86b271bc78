/**
 * Matrix-view thumbnails: a head's joint layout drawn into a small 2D canvas (a
 * WebGL context per cell would exceed the browser's limit of ~16 contexts). Points
 * are blended into one pixel buffer and blitted once: no per-point canvas calls.
 */

function parseHex(hex: string): [number, number, number] {
  const value = parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Points drawn on top of the others, larger and ringed (typed-in tokens). */
export interface MarkedPoints {
  /** 1 for a marked point, per point. */
  marked: Float32Array;
  /** Ring colour, '#rrggbb'. */
  ring: string;
}

/** Token text beside some points (close zoom), drawn as canvas text (never markup). */
export interface ThumbnailLabels {
  /** Point indices to label, most important first (a label that would overlap is skipped). */
  points: number[];
  text: (point: number) => string;
  color: string;
}

/** Extras of a close-up or searched thumbnail. */
export interface ThumbnailExtras {
  labels?: ThumbnailLabels | null;
  /** Draw unmarked points faint (a search is on: its matches are the marked points). */
  dimUnmarked?: boolean;
}

/**
 * Draw [n, dims] positions (first two coordinates) with per-point rgb in [0, 1].
 * `pointScale` multiplies the point size (a figure export draws at 2x the cell's pixels).
 */
export function drawThumbnail(
  canvas: HTMLCanvasElement,
  positions: Float32Array,
  dims: number,
  rgb: Float32Array,
  background: string,
  pointScale = 1,
  marks: MarkedPoints | null = null,
  extras: ThumbnailExtras = {},
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const image = context.createImageData(width, height);
  const pixels = image.data;
  const [br, bg, bb] = parseHex(background);
  for (let i = 0; i < pixels.length; i += 4) {
    pixels[i] = br;
    pixels[i + 1] = bg;
    pixels[i + 2] = bb;
    pixels[i + 3] = 255;
  }
  const count = positions.length / dims;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = positions[dims * i], y = positions[dims * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const span = Math.max(maxX - minX, maxY - minY, 1e-9);
  const scale = (Math.min(width, height) - 8) / span;
  const offsetX = (width - (maxX - minX) * scale) / 2;
  const offsetY = (height - (maxY - minY) * scale) / 2;
  // Points grow with the canvas (semantic zoom): 2 px in a 100 px cell, more when closer.
  const base = count > 20000 ? 1 : Math.max(2, Math.min(6, Math.round(Math.min(width, height) / 120)));
  const size = Math.max(1, Math.round(base * pointScale));
  // A square of side `side` centred on point i, blended by `alpha` towards (r, g, b).
  const square = (i: number, side: number, r: number, g: number, b: number, alpha: number): void => {
    const cx = Math.round(offsetX + (positions[dims * i] - minX) * scale);
    const cy = Math.round(height - (offsetY + (positions[dims * i + 1] - minY) * scale)); // y up
    for (let dy = 0; dy < side; dy++) {
      const y = cy + dy - (side >> 1);
      if (y < 0 || y >= height) continue;
      for (let dx = 0; dx < side; dx++) {
        const x = cx + dx - (side >> 1);
        if (x < 0 || x >= width) continue;
        const p = 4 * (y * width + x);
        pixels[p] += (r - pixels[p]) * alpha;
        pixels[p + 1] += (g - pixels[p + 1]) * alpha;
        pixels[p + 2] += (b - pixels[p + 2]) * alpha;
      }
    }
  };
  const marked = marks?.marked;
  for (let i = 0; i < count; i++) {
    if (marked?.[i]) continue;
    square(i, size, rgb[3 * i] * 255, rgb[3 * i + 1] * 255, rgb[3 * i + 2] * 255, extras.dimUnmarked ? 0.18 : 0.7);
  }
  if (marks && marked) {
    // Marked points last, opaque, one pixel larger inside a one-pixel ring: visible in the crowd.
    const [rr, rg, rb] = parseHex(marks.ring);
    const pixel = Math.max(1, Math.round(pointScale));
    const inner = size + pixel;
    for (let i = 0; i < count; i++) {
      if (!marked[i]) continue;
      square(i, inner + 2 * pixel, rr, rg, rb, 1);
      square(i, inner, rgb[3 * i] * 255, rgb[3 * i + 1] * 255, rgb[3 * i + 2] * 255, 1);
    }
  }
  context.putImageData(image, 0, 0);
  if (extras.labels) {
    const at = (i: number): [number, number] => [offsetX + (positions[dims * i] - minX) * scale, height - (offsetY + (positions[dims * i + 1] - minY) * scale)];
    drawLabels(context, extras.labels, at, width, height, pointScale);
  }
}

/** Labels right of their points, skipping any that would overlap one already drawn. */
function drawLabels(
  context: CanvasRenderingContext2D,
  labels: ThumbnailLabels,
  at: (point: number) => [number, number],
  width: number,
  height: number,
  pointScale: number,
): void {
  const fontPx = Math.round(11 * pointScale);
  context.font = `${fontPx}px sans-serif`;
  context.fillStyle = labels.color;
  context.textBaseline = 'middle';
  const taken: Array<[number, number, number, number]> = [];
  for (const point of labels.points) {
    const text = labels.text(point).trim().slice(0, 24);
    if (!text) continue;
    const [x, y] = at(point);
    const box: [number, number, number, number] = [x + 4, y - fontPx / 2, x + 4 + context.measureText(text).width, y + fontPx / 2];
    if (box[2] > width || box[1] < 0 || box[3] > height) continue;
    if (taken.some((t) => box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1])) continue;
    taken.push(box);
    context.fillText(text, box[0], y);
    if (taken.length >= 60) break;
  }
}
