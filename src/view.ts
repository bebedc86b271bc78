/**
 * The whole widget: toolbar, matrix view and single-head view over one model.
 * Host-agnostic: the model may be anywidget's or an in-memory one. Returns the
 * cleanup that frees workers, WebGL, listeners and DOM.
 */
import { LayoutService } from './layout/service';
import { QKSource } from './model/qk_source';
import { decodeTokenTable } from './model/tokens';
import type { ViewModel, ViewTraits } from './model/traits';
import { h } from './ui/dom';
import { css } from './ui/style';
import { resolveTheme, watchTheme } from './ui/theme';
import { TextInputBar } from './ui/text_input';
import { Toolbar } from './ui/toolbar';
import { AddedText, textInputInfo, type InferenceApi } from './views/added';
import { colorModes } from './views/coloring';
import { CompareView } from './views/compare';
import { ViewContext } from './views/context';
import { HeadView, type ViewHandle } from './views/head';
import { MatrixView } from './views/matrix';

export type { ViewHandle } from './views/head';

/** Optional services a host provides: `inference` enables the "Add text…" box (with `_text_input`). */
export interface ViewServices {
  inference?: InferenceApi;
}

export function mountView(model: ViewModel, el: HTMLElement, services: ViewServices = {}): () => void {
  const root = h('div', { className: 'attentionviz', attrs: { 'data-testid': 'attentionviz', tabindex: '0' } });
  const message = h('div', { className: 'av-message', attrs: { role: 'alert' } });
  const notice = h('div', { className: 'av-notice', attrs: { role: 'status' } });
  const toolbar = new Toolbar();
  const body = h('div', { className: 'av-body' });
  root.append(h('style', {}, css), toolbar.element, body);
  el.append(root);

  const cleanups: Array<() => void> = [];
  const listen = (names: Array<keyof ViewTraits & string>, callback: () => void): void => {
    for (const name of names) {
      model.on(`change:${name}`, callback);
      cleanups.push(() => model.off(`change:${name}`, callback));
    }
  };
  const showMessage = (text: string): void => {
    message.textContent = text;
    message.classList.toggle('av-visible', text.length > 0);
  };
  const qk = new QKSource(model);
  const layouts = new LayoutService();
  const notify = (text: string): void => {
    notice.textContent = text;
    notice.classList.toggle('av-visible', text.length > 0);
  };
  notice.addEventListener('click', () => notify(''));
  const ctx = new ViewContext(model, root, layouts, qk, resolveTheme(model.get('theme')), (text) => toolbar.setStatus(text), showMessage, notify);
  const guard = (what: string, work: () => void) => (): void => {
    try {
      work();
    } catch (error) {
      showMessage(`attentionviz could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(error);
    }
  };

  const headView = new HeadView(ctx);
  // A cell of this capture opens that head; one of the other model's opens it beside `head`.
  const matrixView = new MatrixView(ctx, (layer, head, source) =>
    ctx.update(source === 'compare' ? { compare_head: [layer, head], view: 'compare' } : { head: [layer, head], view: 'head' }),
  );
  const compareView = new CompareView(ctx);
  body.append(notice, matrixView.element, headView.element, compareView.element, message);

  // Text typed into the view: computed in the browser, placed into the shown head(s).
  let textBar: TextInputBar | null = null;
  if (services.inference && textInputInfo(model)) {
    const bar = new TextInputBar((text) => {
      ctx.added
        ?.add(text, ctx.tokens)
        .then(() => bar.clear())
        .catch((error: unknown) => console.warn('attentionviz: typed text failed', error));
    });
    // Both the single head and the compare panels show typed-in tokens.
    const placeAdded = (): void => {
      headView.placeAdded();
      compareView.placeAdded();
    };
    ctx.added = new AddedText(model, services.inference, placeAdded, (text, state) => bar.setStatus(text, state), notify);
    root.insertBefore(bar.element, body);
    textBar = bar;
  }

  // Toolbar controls, each bound to one trait.
  const range = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [String(i), String(i)]);
  const [layer0, head0] = model.get('head');
  const viewControl = toolbar.select('view', [['matrix', 'all heads'], ['head', 'one head'], ['compare', 'two heads']], model.get('view'), (view) => ctx.update({ view }));
  const layerControl = toolbar.select('layer', range(model.get('n_layers')), String(layer0), (layer) => ctx.update({ head: [Number(layer), model.get('head')[1]] }));
  const headControl = toolbar.select('head', range(model.get('n_heads')), String(head0), (head) => ctx.update({ head: [model.get('head')[0], Number(head)] }));
  const projectionControl = toolbar.select('layout', [['pca', 'PCA'], ['umap', 'UMAP'], ['tsne', 't-SNE']], model.get('projection'), (projection) => ctx.update({ projection }));
  const dimsControl = toolbar.select('dims', [['2', '2D'], ['3', '3D']], String(model.get('dims')), (dims) => ctx.update({ dims: Number(dims) }));
  const normalizeControl = toolbar.checkbox('normalize', 'Translate keys to the query centroid and equalise Q/K norms (attention unchanged)', model.get('normalize'), (normalize) => ctx.update({ normalize }));
  const colorControl = toolbar.select('colour', colorModes(null), model.get('color_by'), (color_by) => ctx.update({ color_by }));
  const sizeControl = toolbar.select('size', [['none', 'uniform'], ['norm', 'by |q|, |k|']], model.get('size_by') ?? 'none', (size_by) => ctx.update({ size_by }));
  const orderControl = toolbar.select('order', [['index', 'layer x head'], ['entropy', 'entropy ↑'], ['distance', 'Q-K distance ↑'], ['offset', 'attended offset ↑']], model.get('matrix_order'), (matrix_order) => ctx.update({ matrix_order }));
  // With another model's capture (compare_to=), the matrix view shows either model's heads.
  const other = ctx.compareCapture();
  const sourceControl = toolbar.select('model', sourceOptions(model.get('model_name'), other?.model_name ?? ''), model.get('matrix_source') ?? 'capture', (matrix_source) =>
    ctx.update({ matrix_source }),
  );
  const searchControl = toolbar.search('search token', model.get('search'), (search) => ctx.update({ search }));
  const resetControl = toolbar.button('reset', 'Reset the camera (r)', () => (model.get('view') === 'compare' ? compareView : headView).resetCamera());
  // Compare: this head beside the next one of its layer (pick another in the right panel's header).
  const compareControl = toolbar.button('compare', 'Show this head beside another, linked (starts with the next head of this layer, or the other model\'s same head)', () =>
    ctx.update({ compare_head: ctx.defaultCompareHead(), view: 'compare' }),
  );
  const backControl = toolbar.button('back', 'Back to the single-head view (Esc)', () => ctx.update({ view: 'head' }));
  const download = (blob: Blob, name: string): void => {
    const url = URL.createObjectURL(blob);
    const anchor = h('a', { attrs: { href: url, download: name } });
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const figureName = (extension: string): string => {
    const [layer, head] = model.get('head');
    const view = model.get('view');
    const heads = view === 'compare' ? compareView.heads() : view === 'matrix' ? 'matrix' : `L${layer}-H${head}`;
    return `attentionviz-${heads}.${extension}`;
  };
  // PNG/SVG draw what is shown: the single head, both compare panels side by side, or
  // the matrix's thumbnails (PNG only: an SVG of every head's points would not open).
  const exportFigure = async (format: 'png' | 'svg', scale: number): Promise<Blob> => {
    const view = model.get('view');
    if (view !== 'matrix') return (view === 'compare' ? compareView : headView).exportFigure(format, scale);
    if (format === 'svg') throw new Error('the matrix view exports as PNG only (an SVG of every head\'s points would be too big to open)');
    return matrixView.exportPng(scale);
  };
  const exportButtons = [
    toolbar.button('PNG', 'Download the plot as PNG (2x)', () =>
      exportFigure('png', 2).then((blob) => download(blob, figureName('png')), (error) => notify(String(error))),
    ),
    toolbar.button('SVG', 'Download the plot as SVG', () =>
      exportFigure('svg', 1).then((blob) => download(blob, figureName('svg')), (error) => notify(String(error))),
    ),
    toolbar.button('HTML', 'Download a standalone, offline HTML view', () => {
      const request = Date.now();
      pendingHtml.add(request);
      model.send({ type: 'html-request', request });
    }),
  ];
  // Export requests from the host (Python's viz.save) and its HTML answers.
  const pendingHtml = new Set<number>();
  const onCustom = (message: unknown, buffers: DataView[] = []): void => {
    const content = message as { type?: string; request?: number; format?: string; scale?: number; message?: string };
    if (content?.type === 'export' && (content.format === 'png' || content.format === 'svg')) {
      const format = content.format;
      exportFigure(format, content.scale ?? 1)
        .then((blob) => blob.arrayBuffer())
        .then((bytes) => model.send({ type: 'export-result', request: content.request, format }, undefined, [bytes]))
        .catch((error: unknown) => model.send({ type: 'export-error', request: content.request, message: String(error instanceof Error ? error.message : error) }));
    } else if (content?.type === 'html' && pendingHtml.delete(content.request ?? -1) && buffers[0]) {
      const view = buffers[0];
      download(new Blob([view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer], { type: 'text/html' }), figureName('html'));
    } else if (content?.type === 'html-error' && pendingHtml.delete(content.request ?? -1)) {
      notify(`HTML export failed: ${content.message}`);
    }
  };
  model.on('msg:custom', onCustom);
  cleanups.push(() => model.off('msg:custom', onCustom));
  toolbar.setTitle(model.get('model_name') || 'attentionviz');

  const refreshHead = guard('show this head', () => {
    headView.refresh();
    compareView.refresh();
    // A good head replaces the error a bad one left (unless WebGL itself is missing).
    if (headView.available()) showMessage(model.get('error') ?? '');
  });
  const showView = (): void => {
    const view = model.get('view');
    const matrix = view === 'matrix';
    viewControl.set(view);
    root.dataset.view = view;
    matrixView.element.style.display = matrix ? '' : 'none';
    headView.element.style.display = view === 'head' ? '' : 'none';
    compareView.show(view === 'compare');
    // The compare panels have their own layer/head pickers.
    for (const control of [layerControl, headControl, compareControl]) control.show(view === 'head');
    for (const control of [dimsControl, sizeControl, resetControl, exportButtons[1], exportButtons[2]]) control.show(!matrix);
    backControl.show(view === 'compare');
    textBar?.show(!matrix);
    orderControl.show(matrix);
    sourceControl.show(matrix && other !== null);
    if (matrix) matrixView.start();
    else {
      matrixView.stop();
      refreshHead();
    }
  };
  const loadTokens = guard('read the token table', () => {
    const buffer = model.get('_tokens');
    ctx.tokens = buffer ? decodeTokenTable(buffer) : null;
    colorControl.setOptions(colorModes(ctx.tokens), model.get('color_by'));
  });
  const applyTheme = (): void => {
    ctx.theme = resolveTheme(model.get('theme'));
    root.classList.toggle('av-dark', ctx.theme.name === 'dark');
    headView.applyTheme();
    compareView.applyTheme();
    matrixView.redraw();
  };

  listen(['_tokens'], () => {
    loadTokens();
    refreshHead();
    if (model.get('view') === 'matrix') matrixView.start();
  });
  listen(['_qk_meta'], () => refreshHead());
  listen(['head'], () => {
    const [layer, head] = model.get('head');
    layerControl.set(String(layer));
    headControl.set(String(head));
    compareView.headsChanged();
  });
  listen(['compare_head'], () => compareView.headsChanged());
  listen(['normalize', 'projection', 'dims'], () => {
    normalizeControl.set(model.get('normalize'));
    projectionControl.set(model.get('projection'));
    dimsControl.set(String(model.get('dims')));
    refreshHead();
    if (model.get('view') === 'matrix') matrixView.start();
  });
  listen(['view'], showView);
  listen(['size_by'], () => {
    sizeControl.set(model.get('size_by') ?? 'none');
    headView.applySizes();
    compareView.applySizes();
  });
  // Kernel-side layouts (layout_backend "kernel"): shown when they arrive.
  listen(['_layout', '_layout_meta'], guard('show the kernel layout', () => {
    headView.showKernelLayout();
    compareView.showKernelLayout();
  }));
  listen(['layout_backend'], () => refreshHead());
  listen(['color_by'], () => {
    colorControl.set(model.get('color_by'));
    headView.recolor();
    compareView.recolor();
    matrixView.redraw();
  });
  listen(['_selected_rows', 'top_k', 'scale', 'mask'], () => {
    headView.applyEmphasis();
    compareView.applyEmphasis();
  });
  listen(['search'], () => {
    searchControl.set(model.get('search'));
    headView.applyEmphasis();
    compareView.applyEmphasis();
  });
  listen(['matrix_source'], () => {
    sourceControl.set(model.get('matrix_source') ?? 'capture');
    if (model.get('view') === 'matrix') matrixView.start();
  });
  listen(['matrix_order'], () => {
    orderControl.set(model.get('matrix_order'));
    matrixView.recaption();
    matrixView.arrange();
  });
  listen(['theme'], applyTheme);
  listen(['error'], () => showMessage(model.get('error') ?? ''));
  // A kernel restart leaves this view without its kernel: ipywidgets then sets the model's
  // comm_live to false, which fires 'comm_live_update' (it never fires after mount otherwise).
  // Keep what is drawn, stop waiting for data, and say what to do.
  const onDisconnect = (): void => {
    const text = 'The kernel was restarted: this view keeps what it shows but cannot load more data. Re-run the cell to recompute.';
    root.dataset.disconnected = 'true';
    qk.disconnect(text);
    // Bottom of the plot, so it never hides the top notice; not dismissable: it stays true.
    const style = 'top: auto; bottom: 6px; cursor: default; max-width: 90%; text-align: center';
    body.append(h('div', { className: 'av-notice av-visible av-disconnected', attrs: { role: 'alert', style } }, text));
  };
  model.on('comm_live_update', onDisconnect);
  cleanups.push(() => model.off('comm_live_update', onDisconnect));
  // The page's theme may have changed (body attributes; JupyterLab also toggles body classes
  // during drags): redraw only when the theme this view resolves to did change.
  cleanups.push(
    watchTheme(() => {
      if (resolveTheme(model.get('theme')) !== ctx.theme) applyTheme();
    }),
  );

  // Keyboard: arrows step heads/layers, m toggles the matrix, r resets, Esc clears.
  const onKey = (event: KeyboardEvent): void => {
    const [layer, head] = model.get('head');
    const nLayers = model.get('n_layers');
    const nHeads = model.get('n_heads');
    const step: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (event.key in step && model.get('view') === 'head') {
      const [dl, dh] = step[event.key];
      ctx.update({ head: [(layer + dl + nLayers) % nLayers, (head + dh + nHeads) % nHeads] });
    } else if (event.key === 'm') ctx.update({ view: model.get('view') === 'matrix' ? 'head' : 'matrix' });
    else if (event.key === 'r') (model.get('view') === 'compare' ? compareView : headView).resetCamera();
    else if (event.key === 'Escape' && model.get('view') === 'compare') ctx.update({ view: 'head' });
    else if (event.key === 'Escape') ctx.setSelection([]);
    else if (event.key === '/') searchControl.focus();
    else return;
    event.preventDefault();
  };
  root.addEventListener('keydown', onKey);
  cleanups.push(() => root.removeEventListener('keydown', onKey));

  const handle: ViewHandle = headView.handle();
  Object.assign(root, { attentionviz: handle });

  loadTokens();
  applyTheme();
  showView();
  if (model.get('error')) showMessage(model.get('error'));

  return () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    matrixView.dispose();
    headView.dispose();
    compareView.dispose();
    ctx.added?.dispose();
    layouts.dispose();
    qk.dispose();
    root.remove();
  };
}

/**
 * The matrix view's model picker: this capture and the other model's, by model name (past
 * 48 characters without its "org/" part, then cut); when both carry the same name, the
 * second says it is compare_to's.
 */
function sourceOptions(mine: string, theirs: string): Array<[string, string]> {
  const short = (name: string): string => {
    const bare = name.length > 48 ? name.slice(name.indexOf('/') + 1) : name;
    return bare.length > 48 ? `${bare.slice(0, 47)}…` : bare;
  };
  const a = short(mine || 'this capture');
  const b = short(theirs || 'compare_to');
  return [['capture', a], ['compare', b === a ? `${b} (compare_to)` : b]];
}
