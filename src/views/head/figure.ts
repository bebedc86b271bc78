/** A head plot as drawn, for PNG/SVG export (export/figure.ts): points, lines, labels, legend, title. */
import type { Figure } from '../../export/figure';
import type { HeadQK, QKSourceName } from '../../model/qk_source';
import { LABEL_BASELINE } from '../../render/labels';
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
  const hideQueries = ctx.model.get('hide_queries') ?? false;
  const hideKeys = ctx.model.get('hide_keys') ?? false;
  const all = Array.from({ length: 2 * n }, (_, i) => ({
    x: xy[2 * i],
    y: xy[2 * i + 1],
    r: colors[3 * i] ?? 0.5,
    g: colors[3 * i + 1] ?? 0.5,
    b: colors[3 * i + 2] ?? 0.5,
    emphasis: emphasis[i] ?? 1,
  }));
  // Hidden queries / keys are not drawn on screen: not in the figure either.
  const points = all.filter((_, i) => !(i < n ? hideQueries : hideKeys));
  const tokens = ctx.headTokens();
  const labelled = [...ctx.selectedRows()].slice(0, MAX_LABELS);
  // The token labels on screen (`labels`), where they are drawn: the exporters write a
  // label's text at (x + 6, y - 6) from its baseline, so the box corner is shifted back.
  const placed = surface.labelList.map(({ text, left, top }) => ({ x: left - 6, y: top + LABEL_BASELINE + 6, text }));
  const selectedLabels = tokens ? labelled.map((row) => ({ x: xy[2 * row], y: xy[2 * row + 1], text: tokens.text[row] })) : [];
  const labels = placed.length ? placed : selectedLabels;
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
