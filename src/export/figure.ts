/**
 * What a figure export needs from the view, independent of the output format: the
 * points as drawn (canvas CSS-pixel positions, colours, emphasis), the attention lines,
 * labels, legend and a title.
 */
import type { OverlayLine } from '../render/overlay';

export interface FigurePoint {
  x: number;
  y: number;
  /** rgb in [0, 1]. */
  r: number;
  g: number;
  b: number;
  /** 0 dimmed, 1 normal, 2 highlighted (see render/scatter EMPHASIS). */
  emphasis: number;
}

export interface Figure {
  width: number;
  height: number;
  background: string;
  foreground: string;
  ring: string;
  pointSize: number;
  points: FigurePoint[];
  lines: OverlayLine[];
  /** Token labels drawn next to highlighted points. */
  labels: Array<{ x: number; y: number; text: string }>;
  legend: Array<{ color: string; label: string }>;
  title: string;
}

/** Opacity of a point by emphasis, as the point shader draws it. */
export function pointAlpha(emphasis: number): number {
  return emphasis < 0.5 ? 0.12 : 0.85;
}
