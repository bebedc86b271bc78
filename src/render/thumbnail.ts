/**
 * Matrix-view thumbnails: a head's joint layout drawn into a small 2D canvas (a
 * WebGL context per cell would exceed the browser's limit of ~16 contexts).
 */

/** Draw [n, dims] positions (first two coordinates) with per-point rgb in [0, 1]. */
export function drawThumbnail(
  canvas: HTMLCanvasElement,
  positions: Float32Array,
  dims: number,
  rgb: Float32Array,
  background: string,
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  context.fillStyle = background;
  context.fillRect(0, 0, width, height);
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
  const size = count > 20000 ? 1 : 2;
  context.globalAlpha = 0.7;
  for (let i = 0; i < count; i++) {
    const r = (rgb[3 * i] * 255) | 0, g = (rgb[3 * i + 1] * 255) | 0, b = (rgb[3 * i + 2] * 255) | 0;
    context.fillStyle = `rgb(${r},${g},${b})`;
    const x = offsetX + (positions[dims * i] - minX) * scale;
    const y = height - (offsetY + (positions[dims * i + 1] - minY) * scale); // y up, as in the big view
    context.fillRect(x - size / 2, y - size / 2, size, size);
  }
  context.globalAlpha = 1;
}
