/**
 * Raster export: the WebGL plot re-rendered at `scale` x, with the attention lines,
 * labels, legend and title drawn over it on a 2D canvas.
 */
import type { Figure } from './figure';

export function composePng(plot: HTMLCanvasElement, figure: Figure, scale: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(figure.width * scale);
  canvas.height = Math.round(figure.height * scale);
  const context = canvas.getContext('2d');
  if (!context) return Promise.reject(new Error('no 2D canvas for the PNG export'));
  context.drawImage(plot, 0, 0, canvas.width, canvas.height);
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
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'),
  );
}
