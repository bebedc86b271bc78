/**
 * Raster export: each WebGL plot re-rendered at `scale` x, with its attention lines,
 * labels, legend and title drawn over it on a 2D canvas; several panels (the compare
 * view) sit side by side.
 */
import type { Figure } from './figure';

/** One plot to export: its re-rendered canvas (at the export scale) and what is drawn over it. */
export interface PngPanel {
  plot: HTMLCanvasElement;
  figure: Figure;
}

/** Throws unless `scale` is a PNG export scale the view accepts, (0, 8]. */
export function checkPngScale(scale: number): void {
  if (!(scale > 0 && scale <= 8)) throw new Error(`PNG scale must be in (0, 8], got ${scale}`);
}

/** Panels left to right at `scale` x their on-screen size, as one PNG. */
export async function composePng(panels: PngPanel[], scale: number): Promise<Blob> {
  checkPngScale(scale);
  if (!panels.length) throw new Error('no figure to export');
  const canvas = document.createElement('canvas');
  canvas.width = panels.reduce((sum, panel) => sum + Math.round(panel.figure.width * scale), 0);
  canvas.height = Math.max(...panels.map((panel) => Math.round(panel.figure.height * scale)));
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas for the PNG export');
  let left = 0;
  for (const { plot, figure } of panels) {
    const width = Math.round(figure.width * scale);
    context.setTransform(1, 0, 0, 1, left, 0);
    drawPanel(context, plot, figure, scale);
    left += width;
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'),
  );
}

/** One panel from the context's current origin. */
function drawPanel(context: CanvasRenderingContext2D, plot: HTMLCanvasElement, figure: Figure, scale: number): void {
  context.drawImage(plot, 0, 0, Math.round(figure.width * scale), Math.round(figure.height * scale));
  context.scale(scale, scale);
  context.lineCap = 'round';
  for (const line of figure.lines) {
    context.globalAlpha = line.alpha;
    context.strokeStyle = line.color;
    context.lineWidth = line.width;
    context.beginPath();
    context.moveTo(...line.from);
    context.lineTo(...line.to);
    context.stroke();
  }
  context.globalAlpha = 1;
  context.fillStyle = figure.foreground;
  context.font = '11px sans-serif';
  for (const label of figure.labels) context.fillText(label.text, label.x + 6, label.y - 6);
  figure.legend.forEach((entry, i) => {
    const y = figure.height - 12 - (figure.legend.length - 1 - i) * 16;
    context.fillStyle = entry.color;
    context.beginPath();
    context.arc(14, y - 4, 5, 0, 2 * Math.PI);
    context.fill();
    context.fillStyle = figure.foreground;
    context.fillText(entry.label, 24, y);
  });
  context.font = 'bold 13px sans-serif';
  context.fillText(figure.title, 10, 18);
}
