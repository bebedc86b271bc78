/**
 * Matrix-view thumbnails: a head's joint layout drawn into a small 2D canvas (a
 * WebGL context per cell would exceed the browser's limit of ~16 contexts). Points
 * are blended into one pixel buffer and blitted once: no per-point canvas calls.
 */

function parseHex(hex: string): [number, number, number] {
  const value = parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
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
  const size = Math.max(1, Math.round((count > 20000 ? 1 : 2) * pointScale));
  const alpha = 0.7;
  for (let i = 0; i < count; i++) {
    const cx = Math.round(offsetX + (positions[dims * i] - minX) * scale);
    const cy = Math.round(height - (offsetY + (positions[dims * i + 1] - minY) * scale)); // y up
    const r = rgb[3 * i] * 255, g = rgb[3 * i + 1] * 255, b = rgb[3 * i + 2] * 255;
    for (let dy = 0; dy < size; dy++) {
      const y = cy + dy - (size >> 1);
      if (y < 0 || y >= height) continue;
      for (let dx = 0; dx < size; dx++) {
        const x = cx + dx - (size >> 1);
        if (x < 0 || x >= width) continue;
        const p = 4 * (y * width + x);
        pixels[p] += (r - pixels[p]) * alpha;
        pixels[p + 1] += (g - pixels[p + 1]) * alpha;
        pixels[p + 2] += (b - pixels[p + 2]) * alpha;
      }
    }
  }
  context.putImageData(image, 0, 0);
}
