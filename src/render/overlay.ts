/**
 * A 2D canvas over the WebGL canvas for attention lines: drawn in screen space, so
 * they stay crisp and keep their width in 2D and 3D alike.
 */
export interface OverlayLine {
  from: [number, number];
  to: [number, number];
  /** Line width in CSS pixels. */
  width: number;
  color: string;
  alpha: number;
}

export class LineOverlay {
  readonly canvas = document.createElement('canvas');
  private lines: OverlayLine[] = [];

  constructor() {
    this.canvas.className = 'av-overlay';
  }

  resize(width: number, height: number): void {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    this.canvas.width = Math.max(1, Math.floor(width * ratio));
    this.canvas.height = Math.max(1, Math.floor(height * ratio));
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw(this.lines);
  }

  draw(lines: OverlayLine[]): void {
    this.lines = lines;
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const ratio = this.canvas.width / Math.max(1, this.canvas.clientWidth || this.canvas.width);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.lineCap = 'round';
    for (const line of lines) {
      if (![...line.from, ...line.to].every(Number.isFinite)) continue;
      context.globalAlpha = line.alpha;
      context.strokeStyle = line.color;
      context.lineWidth = line.width;
      context.beginPath();
      context.moveTo(line.from[0], line.from[1]);
      context.lineTo(line.to[0], line.to[1]);
      context.stroke();
    }
    context.globalAlpha = 1;
  }
}
