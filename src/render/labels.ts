/**
 * A 2D canvas over the WebGL canvas for token labels: drawn where it is told (the
 * placement comes from compute/labels.ts), text in the foreground colour over a halo of
 * the background so it stays readable on top of points. Token text is drawn as text.
 */
export interface DrawnLabel {
  text: string;
  /** Top-left corner of the label's box, CSS pixels. */
  left: number;
  top: number;
}

/** The labels' font, and the box height and baseline it gives. */
export const LABEL_FONT = '11px sans-serif';
export const LABEL_HEIGHT = 13;
export const LABEL_BASELINE = 10;

export class LabelOverlay {
  readonly canvas = document.createElement('canvas');
  private labels: DrawnLabel[] = [];
  private colors = { text: '#000', halo: '#fff' };
  private readonly widths = new Map<string, number>();

  constructor() {
    this.canvas.className = 'av-overlay av-labels';
  }

  /** Width of `text` in the label font, CSS pixels (cached per text). */
  measure(text: string): number {
    let width = this.widths.get(text);
    if (width === undefined) {
      const context = this.canvas.getContext('2d');
      if (context) context.font = LABEL_FONT;
      width = Math.ceil(context ? context.measureText(text).width : 6 * text.length);
      if (this.widths.size > 20000) this.widths.clear();
      this.widths.set(text, width);
    }
    return width;
  }

  resize(width: number, height: number): void {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    this.canvas.width = Math.max(1, Math.floor(width * ratio));
    this.canvas.height = Math.max(1, Math.floor(height * ratio));
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw(this.labels, this.colors.text, this.colors.halo);
  }

  draw(labels: DrawnLabel[], text: string, halo: string): void {
    this.labels = labels;
    this.colors = { text, halo };
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const ratio = this.canvas.width / Math.max(1, this.canvas.clientWidth || this.canvas.width);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.font = LABEL_FONT;
    context.textBaseline = 'alphabetic';
    context.lineJoin = 'round';
    context.lineWidth = 3;
    context.strokeStyle = halo;
    context.fillStyle = text;
    for (const label of labels) {
      context.strokeText(label.text, label.left, label.top + LABEL_BASELINE);
      context.fillText(label.text, label.left, label.top + LABEL_BASELINE);
    }
  }
}
