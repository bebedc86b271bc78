/** A head plot as drawn, for PNG/SVG export (export/figure.ts): points, lines, labels, legend, title. */
import type { Figure } from '../../export/figure';
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import type { ScatterScene } from '../../render/scatter';
import type { ViewContext } from '../context';
import type { PlotSurface } from './plot';
import { methodName } from './status';

/** Selected tokens labelled in a figure at most. */
const MAX_LABELS = 40;

/** `shown` (a head laid out with `method`, of capture `source`) as `surface` draws it with `scene`. */
export function headFigure(ctx: ViewContext, scene: ScatterScene, surface: PlotSurface, shown: { qk: HeadQK; method: string }, source: QKSourceName): Figure {
  const { qk, method } = shown;
  const { colors, emphasis } = surface;
  const n = qk.nTokens;
  const xy = scene.projectAll();
  const points = Array.from({ length: 2 * n }, (_, i) => ({
    x: xy[2 * i],
    y: xy[2 * i + 1],
    r: colors[3 * i] ?? 0.5,
    g: colors[3 * i + 1] ?? 0.5,
    b: colors[3 * i + 2] ?? 0.5,
    emphasis: emphasis[i] ?? 1,
  }));
  const tokens = ctx.headTokens();
  const labelled = [...ctx.selectedRows()].slice(0, MAX_LABELS);
  const labels = tokens ? labelled.map((row) => ({ x: xy[2 * row], y: xy[2 * row + 1], text: tokens.text[row] })) : [];
  const rect = surface.element.getBoundingClientRect();
  return {
    width: Math.round(rect.width) || 640,
    height: Math.round(rect.height) || 480,
    background: ctx.theme.background,
    foreground: ctx.theme.foreground,
    ring: ctx.theme.ring,
    pointSize: scene.getPointSize(),
    points,
    lines: surface.lineList,
    labels,
    legend: surface.legendEntries,
    title: `${ctx.captureInfo(source).modelName || 'attentionviz'} · layer ${qk.layer} head ${qk.head} · ${methodName(method)}`,
  };
}
