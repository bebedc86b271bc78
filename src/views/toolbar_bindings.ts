/** The toolbar's controls, each bound both ways to one trait (a control sets it; a change of it sets the control). */
import type { ViewTraits } from '../model/traits';
import type { Toolbar } from '../ui/toolbar';
import { colorModes } from './coloring';
import type { CompareView } from './compare';
import type { ViewContext } from './context';
import type { HeadView } from './head';

/** Calls `callback` on a change of any of `names` (removed with the view). */
export type ListenTraits = (names: Array<keyof ViewTraits & string>, callback: () => void) => void;

export type ToolbarControls = ReturnType<typeof bindToolbar>;

const range = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [String(i), String(i)]);

/**
 * The matrix view's model picker: this capture and the other model's, by model name (past
 * 48 characters without its "org/" part, then cut); when both carry the same name, the
 * second says it is compare_to's.
 */
export function sourceOptions(mine: string, theirs: string): Array<[string, string]> {
  const short = (name: string): string => {
    const bare = name.length > 48 ? name.slice(name.indexOf('/') + 1) : name;
    return bare.length > 48 ? `${bare.slice(0, 47)}…` : bare;
  };
  const a = short(mine || 'this capture');
  const b = short(theirs || 'compare_to');
  return [['capture', a], ['compare', b === a ? `${b} (compare_to)` : b]];
}

/** The pane whose camera the reset button and `r` reset. */
export const cameraPane = (ctx: ViewContext, panes: { headView: HeadView; compareView: CompareView }): HeadView | CompareView =>
  ctx.model.get('view') === 'compare' ? panes.compareView : panes.headView;

export function bindToolbar(ctx: ViewContext, toolbar: Toolbar, panes: { headView: HeadView; compareView: CompareView }, listen: ListenTraits) {
  const model = ctx.model;
  const [layer0, head0] = model.get('head');
  const other = ctx.compareCapture();
  const controls = {
    view: toolbar.select('view', [['matrix', 'all heads'], ['head', 'one head'], ['compare', 'two heads'], ['headmap', 'head map']], model.get('view'), (view) => ctx.update({ view })),
    layer: toolbar.select('layer', range(model.get('n_layers')), String(layer0), (layer) => ctx.update({ head: [Number(layer), model.get('head')[1]] })),
    head: toolbar.select('head', range(model.get('n_heads')), String(head0), (head) => ctx.update({ head: [model.get('head')[0], Number(head)] })),
    projection: toolbar.select('layout', [['pca', 'PCA'], ['umap', 'UMAP'], ['tsne', 't-SNE']], model.get('projection'), (projection) => ctx.update({ projection })),
    dims: toolbar.select('dims', [['2', '2D'], ['3', '3D']], String(model.get('dims')), (dims) => ctx.update({ dims: Number(dims) })),
    normalize: toolbar.checkbox('normalize', 'Translate keys to the query centroid and equalise Q/K norms (attention unchanged)', model.get('normalize'), (normalize) => ctx.update({ normalize })),
    color: toolbar.select('colour', colorModes(null), model.get('color_by'), (color_by) => ctx.update({ color_by })),
    size: toolbar.select('size', [['none', 'uniform'], ['norm', 'by |q|, |k|']], model.get('size_by') ?? 'none', (size_by) => ctx.update({ size_by })),
    order: toolbar.select('order', [['index', 'layer x head'], ['entropy', 'entropy ↑'], ['distance', 'Q-K distance ↑'], ['offset', 'attended offset ↑']], model.get('matrix_order'), (matrix_order) => ctx.update({ matrix_order })),
    // With another model's capture (compare_to=), the matrix view shows either model's heads.
    source: toolbar.select('model', sourceOptions(model.get('model_name'), other?.model_name ?? ''), model.get('matrix_source') ?? 'capture', (matrix_source) => ctx.update({ matrix_source })),
    search: toolbar.search('search token', model.get('search'), (search) => ctx.update({ search })),
    reset: toolbar.button('reset', 'Reset the camera (r)', () => cameraPane(ctx, panes).resetCamera()),
    // Compare: this head beside the next one of its layer (pick another in the right panel's header).
    compare: toolbar.button('compare', 'Show this head beside another, linked (starts with the next head of this layer, or the other model\'s same head)', () =>
      ctx.update({ compare_head: ctx.defaultCompareHead(), view: 'compare' }),
    ),
    headmapColor: toolbar.select('map colour', [['layer', 'layer'], ['entropy', 'entropy'], ['distance', 'Q-K distance'], ['offset', 'attended offset']], model.get('headmap_color') ?? 'layer', (headmap_color) => ctx.update({ headmap_color })),
    // Vision captures: dots or image patches (shown only for them, see pane_bindings).
    points: toolbar.select('points', [['dot', 'dots'], ['patch', 'patches'], ['patch_plain', 'patches, no outline']], model.get('point_style') ?? 'dot', (point_style) => ctx.update({ point_style })),
    back: toolbar.button('back', 'Back to the single-head view (Esc)', () => ctx.update({ view: 'head' })),
    // The original AttentionViz's head-view options (issue #17).
    k: toolbar.select('k', Array.from({ length: 15 }, (_, i) => [String(i + 2), String(i + 2)] as [string, string]), String(model.get('pos_mod_k') ?? 5), (k) => ctx.update({ pos_mod_k: Number(k) })),
    lines: toolbar.select('lines', [['query', 'top-k of query'], ['sentence', 'top-2, whole sentence']], model.get('lines') ?? 'query', (lines) => ctx.update({ lines })),
    labels: toolbar.checkbox('labels', 'Token labels beside points (once zoomed in enough to read them)', model.get('labels') ?? true, (labels) => ctx.update({ labels })),
    hideSpecial: toolbar.checkbox('hide [CLS]/[SEP]', 'Drop attention to [CLS], [SEP] and first tokens and renormalize the rest', model.get('hide_special') ?? false, (hide_special) => ctx.update({ hide_special })),
    hideQueries: toolbar.checkbox('hide queries', 'Hide the query points', model.get('hide_queries') ?? false, (hide_queries) => ctx.update({ hide_queries })),
    hideKeys: toolbar.checkbox('hide keys', 'Hide the key points', model.get('hide_keys') ?? false, (hide_keys) => ctx.update({ hide_keys })),
  };
  listen(['head'], () => {
    const [layer, head] = model.get('head');
    controls.layer.set(String(layer));
    controls.head.set(String(head));
  });
  listen(['normalize', 'projection', 'dims'], () => {
    controls.normalize.set(model.get('normalize'));
    controls.projection.set(model.get('projection'));
    controls.dims.set(String(model.get('dims')));
  });
  listen(['view'], () => controls.view.set(model.get('view')));
  listen(['size_by'], () => controls.size.set(model.get('size_by') ?? 'none'));
  listen(['color_by'], () => controls.color.set(model.get('color_by')));
  listen(['search'], () => controls.search.set(model.get('search')));
  listen(['matrix_source'], () => controls.source.set(model.get('matrix_source') ?? 'capture'));
  listen(['matrix_order'], () => controls.order.set(model.get('matrix_order')));
  listen(['headmap_color'], () => controls.headmapColor.set(model.get('headmap_color') ?? 'layer'));
  listen(['pos_mod_k', 'color_by'], () => {
    controls.k.set(String(model.get('pos_mod_k') ?? 5));
    controls.k.show(model.get('color_by') === 'pos_mod' && model.get('view') !== 'matrix' && model.get('view') !== 'headmap');
  });
  listen(['lines'], () => controls.lines.set(model.get('lines') ?? 'query'));
  listen(['labels', 'hide_special', 'hide_queries', 'hide_keys'], () => {
    controls.labels.set(model.get('labels') ?? true);
    controls.hideSpecial.set(model.get('hide_special') ?? false);
    controls.hideQueries.set(model.get('hide_queries') ?? false);
    controls.hideKeys.set(model.get('hide_keys') ?? false);
  });
  listen(['point_style'], () => controls.points.set(model.get('point_style') ?? 'dot'));
  return controls;
}
