/** Trait changes -> the panes: which view shows, what each pane redraws when a trait changes. */
import { decodeTokenTable } from '../model/tokens';
import type { TextInputBar } from '../ui/text_input';
import type { Control } from '../ui/toolbar';
import { resolveTheme } from '../ui/theme';
import { colorModes } from './coloring';
import type { CompareView } from './compare';
import type { ViewContext } from './context';
import type { HeadView } from './head';
import { patchColumns } from './image';
import type { MatrixView } from './matrix';
import type { ListenTraits, ToolbarControls } from './toolbar_bindings';

export interface Panes {
  headView: HeadView;
  matrixView: MatrixView;
  compareView: CompareView;
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
    // The compare panels have their own layer/head pickers.
    for (const control of [controls.layer, controls.head, controls.compare]) control.show(view === 'head');
    for (const control of [controls.dims, controls.size, controls.reset, exportButtons[1], exportButtons[2]]) control.show(!matrix);
    controls.back.show(view === 'compare');
    controls.points.show(!matrix && patchColumns(ctx.tokens) !== null);
    textBar?.show(!matrix);
    controls.order.show(matrix);
    controls.source.show(matrix && ctx.compareCapture() !== null);
    if (matrix) matrixView.start();
    else {
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
  listen(['matrix_source'], restartMatrix);
  listen(['matrix_order'], () => {
    matrixView.recaption();
    matrixView.arrange();
  });
  listen(['theme'], applyTheme);
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
