/**
 * Downloads of what the view shows: PNG/SVG of the plot, a standalone HTML page (asked of
 * the host with an `html` request), and the figures the host asks for itself (`export`
 * requests: Python's viz.save), answered on the model's channel.
 */
import type { ViewModel } from '../model/traits';
import type { ViewChannel } from '../protocol/transport';
import { h } from '../ui/dom';
import type { Control, Toolbar } from '../ui/toolbar';
import type { CompareView } from './compare';
import type { HeadView } from './head';
import type { HeadMapView } from './headmap';
import type { MatrixView } from './matrix';

export interface ExportPanes {
  headView: HeadView;
  compareView: CompareView;
  matrixView: MatrixView;
  headmapView?: HeadMapView;
}

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = h('a', { attrs: { href: url, download: name } });
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** attentionviz-L1-H2.png, -matrix.png, or the compare view's two heads. */
export function figureName(model: ViewModel, panes: ExportPanes, extension: string): string {
  const [layer, head] = model.get('head');
  const view = model.get('view');
  const heads = view === 'compare' ? panes.compareView.heads() : view === 'matrix' || view === 'headmap' ? view : `L${layer}-H${head}`;
  return `attentionviz-${heads}.${extension}`;
}

/**
 * PNG/SVG of what is shown: the single head, both compare panels side by side, or the
 * matrix's thumbnails (PNG only: an SVG of every head's points would not open).
 */
export function exportFigure(model: ViewModel, panes: ExportPanes, format: 'png' | 'svg', scale: number): Promise<Blob> {
  const view = model.get('view');
  if (view === 'headmap' && panes.headmapView) return format === 'svg' ? panes.headmapView.exportSvg() : panes.headmapView.exportPng(scale);
  if (view !== 'matrix') return (view === 'compare' ? panes.compareView : panes.headView).exportFigure(format, scale);
  if (format === 'svg') return Promise.reject(new Error('the matrix view exports as PNG only (an SVG of every head\'s points would be too big to open)'));
  return panes.matrixView.exportPng(scale);
}

export interface ExportBindings {
  /** PNG, SVG, HTML buttons, in toolbar order. */
  buttons: Array<Control<string>>;
  dispose(): void;
}

/** The toolbar's download buttons and this view's answer to the host's `export` requests. */
export function bindExports(model: ViewModel, channel: ViewChannel, toolbar: Toolbar, panes: ExportPanes, notify: (text: string) => void): ExportBindings {
  const save = (format: 'png' | 'svg', scale: number): void => {
    exportFigure(model, panes, format, scale).then(
      (blob) => download(blob, figureName(model, panes, format)),
      (error: unknown) => notify(String(error)),
    );
  };
  const saveHtml = (): void => {
    channel
      .request('html', {})
      .then(({ buffers }) => {
        const view = buffers[0];
        if (!view) throw new Error('the host sent no page');
        download(new Blob([view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer], { type: 'text/html' }), figureName(model, panes, 'html'));
      })
      .catch((error: unknown) => notify(`HTML export failed: ${error instanceof Error ? error.message : String(error)}`));
  };
  const buttons = [
    toolbar.button('PNG', 'Download the plot as PNG (2x)', () => save('png', 2)),
    toolbar.button('SVG', 'Download the plot as SVG', () => save('svg', 1)),
    toolbar.button('HTML', 'Download a standalone, offline HTML view', saveHtml),
  ];
  // Python's viz.save: the figure as bytes. With several views open, the newest that can answers.
  const stopAnswering = channel.handle('export', async ({ format, scale }) => {
    if (format !== 'png' && format !== 'svg') throw new Error(`cannot export as ${String(format)} (png or svg)`);
    const blob = await exportFigure(model, panes, format, typeof scale === 'number' && scale > 0 ? scale : 1);
    return { result: { format }, buffers: [await blob.arrayBuffer()] };
  });
  return { buttons, dispose: stopAnswering };
}
