/** Trait changes -> the panes: which view shows, what each pane redraws when a trait changes. */
import { decodeTokenTable } from '../model/tokens';
import type { TextInputBar } from '../ui/text_input';
import type { Control } from '../ui/toolbar';
import { resolveTheme } from '../ui/theme';
import { colorModes } from './coloring';
import type { CompareView } from './compare';
import type { ViewContext } from './context';
import type { HeadView } from './head';
import type { HeadMapView } from './headmap';
import { patchColumns } from './image';
import type { MatrixView } from './matrix';
import type { ListenTraits, ToolbarControls } from './toolbar_bindings';

export interface Panes {
  headView: HeadView;
  matrixView: MatrixView;
  compareView: CompareView;
  headmapView: HeadMapView;
}

/** Toolbar parts whose visibility follows the view. */
export interface ShownControls {
  controls: ToolbarControls;
  /** PNG, SVG, HTML. */
  exportButtons: Array<Control<string>>;
  textBar: TextInputBar | null;
}

/** What the panes do on trait changes (each guarded where a bad value could throw). */
function paneActions(ctx: ViewContext, panes: Panes, shown: ShownControls) {
  const { model } = ctx;
  const { headView, matrixView, compareView } = panes;
  const { controls, exportButtons, textBar } = shown;
  const guard = (what: string, work: () => void) => (): void => {
    try {
      work();
    } catch (error) {
      ctx.showMessage(`attentionviz could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(error);
    }
  };
  const restartMatrix = (): void => {
    if (model.get('view') === 'matrix') matrixView.start();
  };
  const refreshHead = guard('show this head', () => {
    headView.refresh();
    compareView.refresh();
    // A good head replaces the error a bad one left (unless WebGL itself is missing).
    if (headView.available()) ctx.showMessage(model.get('error') ?? '');
  });
  const showView = (): void => {
    const view = model.get('view');
    const matrix = view === 'matrix';
    ctx.root.dataset.view = view;
    matrixView.element.style.display = matrix ? '' : 'none';
    headView.element.style.display = view === 'head' ? '' : 'none';
    compareView.show(view === 'compare');
    const headmap = view === 'headmap';
    panes.headmapView.element.style.display = headmap ? '' : 'none';
    // The compare panels have their own layer/head pickers.
    for (const control of [controls.layer, controls.head, controls.compare]) control.show(view === 'head');
    for (const control of [controls.dims, controls.size, controls.reset]) control.show(!matrix && !headmap);
    for (const control of [exportButtons[1], exportButtons[2]]) control.show(!matrix);
    // The head map has its own colour (headmap_color); token-level controls do not apply.
    for (const control of [controls.projection, controls.normalize, controls.color, controls.search]) control.show(!headmap);
    controls.headmapColor.show(headmap);
    for (const control of [controls.lines, controls.labels, controls.hideQueries, controls.hideKeys]) control.show(!matrix && !headmap);
    controls.k.show(!matrix && !headmap && model.get('color_by') === 'pos_mod');
    controls.back.show(view === 'compare');
    controls.points.show(!matrix && !headmap && patchColumns(ctx.tokens) !== null);
    textBar?.show(!matrix && !headmap);
    controls.order.show(matrix);
    controls.source.show(matrix && ctx.compareCapture() !== null);
    if (matrix) matrixView.start();
    else if (headmap) {
      matrixView.stop();
      panes.headmapView.start();
    } else {
      matrixView.stop();
      refreshHead();
    }
  };
  const loadTokens = guard('read the token table', () => {
    const buffer = model.get('_tokens');
    ctx.tokens = buffer ? decodeTokenTable(buffer) : null;
    controls.color.setOptions(colorModes(ctx.tokens), model.get('color_by'));
    controls.points.show(model.get('view') !== 'matrix' && patchColumns(ctx.tokens) !== null);
  });
  const applyTheme = (): void => {
    ctx.theme = resolveTheme(model.get('theme'));
    ctx.root.classList.toggle('av-dark', ctx.theme.name === 'dark');
    headView.applyTheme();
    compareView.applyTheme();
    matrixView.redraw();
    panes.headmapView.redraw();
  };
  const emphasis = (): void => {
    headView.applyEmphasis();
    compareView.applyEmphasis();
  };

  return { guard, restartMatrix, refreshHead, showView, loadTokens, applyTheme, emphasis };
}

/** Binds the panes to the traits; `run` draws the first time, `applyTheme` re-themes. */
export function bindPanes(ctx: ViewContext, panes: Panes, shown: ShownControls, listen: ListenTraits): { run(): void; applyTheme(): void } {
  const { model } = ctx;
  const { headView, matrixView, compareView } = panes;
  const { guard, restartMatrix, refreshHead, showView, loadTokens, applyTheme, emphasis } = paneActions(ctx, panes, shown);
  listen(['_tokens'], () => {
    loadTokens();
    refreshHead();
    restartMatrix();
  });
  listen(['_qk_meta', 'layout_backend'], () => refreshHead());
  listen(['head', 'compare_head'], () => compareView.headsChanged());
  listen(['normalize', 'projection', 'dims'], () => {
    refreshHead();
    restartMatrix();
  });
  listen(['view'], showView);
  listen(['size_by'], () => {
    headView.applySizes();
    compareView.applySizes();
  });
  // Kernel-side layouts (layout_backend "kernel"): shown when they arrive.
  listen(['_layout', '_layout_meta'], guard('show the kernel layout', () => {
    headView.showKernelLayout();
    compareView.showKernelLayout();
  }));
  listen(['color_by'], () => {
    headView.recolor();
    compareView.recolor();
    matrixView.redraw();
  });
  listen(['_selected_rows', 'top_k', 'scale', 'mask', 'search', 'weight_by_value', '_value_norms'], emphasis);
  // The original AttentionViz's head-view options (issue #17).
  listen(['labels', 'lines'], emphasis);
  listen(['pos_mod_k'], () => {
    headView.recolor();
    compareView.recolor();
  });
  listen(['hide_special'], () => {
    emphasis();
    headView.recolor();
    compareView.recolor();
    restartMatrix(); // its per-head statistics renormalize too
  });
  listen(['hide_queries', 'hide_keys'], () => {
    headView.applySizes();
    compareView.applySizes();
  });
  listen(['matrix_source'], restartMatrix);
  listen(['search'], () => matrixView.redraw()); // matches marked in every thumbnail, with their count
  listen(['matrix_order'], () => {
    matrixView.recaption();
    matrixView.arrange();
  });
  listen(['theme'], applyTheme);
  listen(['headmap_color'], () => panes.headmapView.redraw());
  listen(['error'], () => ctx.showMessage(model.get('error') ?? ''));

  return {
    applyTheme,
    run: () => {
      loadTokens();
      applyTheme();
      showView();
      if (model.get('error')) ctx.showMessage(model.get('error'));
    },
  };
}
