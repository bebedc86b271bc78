/**
 * Raster export: each WebGL plot re-rendered at `scale` x, with its attention lines,
 * labels, legend and title drawn over it on a 2D canvas; several panels (the compare
 * view) sit side by side. The matrix view exports as a grid of its thumbnails.
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
  return encodePng(canvas);
}

/** One cell of a grid figure: its picture (already drawn at the export scale) and caption. */
export interface GridCell {
  image: HTMLCanvasElement;
  caption: string;
}

/** The matrix view as a figure: cells row-major in display order, `columns` per row. */
export interface GridFigure {
  columns: number;
  /** Side of one cell's picture, CSS px. */
  cellSize: number;
  cells: GridCell[];
  title: string;
  background: string;
  foreground: string;
}

/** Margins of a grid figure, CSS px: around cells, the caption line under each, the title line. */
export const GRID_SPACING = { pad: 8, caption: 16, title: 28 };

/** A grid figure at `scale` x: title on top, each picture with its caption under it. */
export async function composeGridPng(figure: GridFigure, scale: number): Promise<Blob> {
  checkPngScale(scale);
  const { pad, caption, title } = GRID_SPACING;
  const rows = Math.ceil(figure.cells.length / figure.columns);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round((pad + figure.columns * (figure.cellSize + pad)) * scale);
  canvas.height = Math.round((title + rows * (figure.cellSize + caption + pad)) * scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas for the PNG export');
  context.fillStyle = figure.background;
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.scale(scale, scale);
  context.fillStyle = figure.foreground;
  context.font = 'bold 13px sans-serif';
  context.fillText(figure.title, pad, 18);
  figure.cells.forEach((cell, i) => {
    const x = pad + (i % figure.columns) * (figure.cellSize + pad);
    const y = title + Math.floor(i / figure.columns) * (figure.cellSize + caption + pad);
    context.drawImage(cell.image, x, y, figure.cellSize, figure.cellSize);
    // A caption fits its cell's column: a long one is set smaller rather than cut.
    context.font = '10px sans-serif';
    const fit = Math.min(1, (figure.cellSize + pad / 2) / Math.max(1, context.measureText(cell.caption).width));
    context.font = `${(10 * fit).toFixed(2)}px sans-serif`;
    context.fillText(cell.caption, x, y + figure.cellSize + 12);
  });
  return encodePng(canvas);
}

function encodePng(canvas: HTMLCanvasElement): Promise<Blob> {
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
