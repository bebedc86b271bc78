/**
 * One view of a model: the root element, toolbar, message/notice lines and the panes
 * (matrix, single head, compare), mounted on the model's shared services. Each job has
 * its module: toolbar_bindings (controls <-> traits), pane_bindings (trait changes ->
 * panes), keyboard, exports (downloads, the host's export requests). Returns the cleanup
 * of this view only (the services belong to the model).
 */
import { KERNEL_LOST, type ModelServices } from '../services';
import type { ViewModel } from '../model/traits';
import { h } from '../ui/dom';
import { css } from '../ui/style';
import { resolveTheme, watchTheme } from '../ui/theme';
import { TextInputBar } from '../ui/text_input';
import { Toolbar } from '../ui/toolbar';
import { CompareView } from './compare';
import { ViewContext } from './context';
import { bindExports } from './exports';
import { HeadView } from './head';
import { HeadMapView } from './headmap';
import { decodeHeadMap } from '../model/head_map';
import { bindKeyboard } from './keyboard';
import { MatrixView } from './matrix';
import { bindPanes, type Panes } from './pane_bindings';
import { bindToolbar, cameraPane, type ListenTraits } from './toolbar_bindings';

/** The root, its toolbar and the lines for messages (errors) and notices (dismissable). */
function skeleton(el: HTMLElement) {
  const root = h('div', { className: 'attentionviz', attrs: { 'data-testid': 'attentionviz', tabindex: '0' } });
  const message = h('div', { className: 'av-message', attrs: { role: 'alert' } });
  const notice = h('div', { className: 'av-notice', attrs: { role: 'status' } });
  const toolbar = new Toolbar();
  const body = h('div', { className: 'av-body' });
  root.append(h('style', {}, css), toolbar.element, body);
  el.append(root);
  const showMessage = (text: string): void => {
    message.textContent = text;
    message.classList.toggle('av-visible', text.length > 0);
  };
  const notify = (text: string): void => {
    notice.textContent = text;
    notice.classList.toggle('av-visible', text.length > 0);
  };
  notice.addEventListener('click', () => notify(''));
  return { root, message, notice, toolbar, body, showMessage, notify };
}

/** The "Add text…" bar over the model's typed-text state: text typed here is placed into every view's heads. */
function mountTextInput(ctx: ViewContext, services: ModelServices, panes: Panes, notify: (text: string) => void): { bar: TextInputBar; dispose: () => void } | null {
  const added = services.addedText();
  if (!added) return null;
  ctx.added = added;
  const bar = new TextInputBar((text) => {
    added
      .add(text, ctx.tokens, { status: (line, state) => bar.setStatus(line, state), notify })
      .then(() => bar.clear())
      .catch((error: unknown) => console.warn('attentionviz: typed text failed', error));
  });
  // Both the single head and the compare panels show typed-in tokens.
  const unsubscribe = added.subscribe(() => {
    panes.headView.placeAdded();
    panes.compareView.placeAdded();
  });
  return { bar, dispose: unsubscribe };
}

export function mountShell(model: ViewModel, el: HTMLElement, services: ModelServices): () => void {
  const { root, message, notice, toolbar, body, showMessage, notify } = skeleton(el);
  const cleanups: Array<() => void> = [];
  const listen: ListenTraits = (names, callback) => {
    for (const name of names) {
      model.on(`change:${name}`, callback);
      cleanups.push(() => model.off(`change:${name}`, callback));
    }
  };
  const layouts = services.layoutScope();
  const ctx = new ViewContext(model, root, layouts, services.qk, resolveTheme(model.get('theme')), (text) => toolbar.setStatus(text), showMessage, notify);
  ctx.images = services.images;

  const headView = new HeadView(ctx);
  // A cell of this capture opens that head; one of the other model's opens it beside `head`.
  const matrixView = new MatrixView(ctx, (layer, head, source) =>
    ctx.update(source === 'compare' ? { compare_head: [layer, head], view: 'compare' } : { head: [layer, head], view: 'head' }),
  );
  const compareView = new CompareView(ctx);
  // The head map asks the host once (the kernel computes it; a standalone page has it embedded).
  const headmapView = new HeadMapView(
    ctx,
    () => services.channel.request('head-map', {}).then(({ result, buffers }) => decodeHeadMap(result, buffers)),
    (layer, head) => ctx.update({ head: [layer, head], view: 'head' }),
  );
  const panes: Panes = { headView, matrixView, compareView, headmapView };
  body.append(notice, matrixView.element, headView.element, compareView.element, headmapView.element, message);

  const textInput = mountTextInput(ctx, services, panes, notify);
  if (textInput) {
    root.insertBefore(textInput.bar.element, body);
    cleanups.push(textInput.dispose);
  }
  const controls = bindToolbar(ctx, toolbar, panes, listen);
  const exports = bindExports(model, services.channel, toolbar, panes, notify);
  cleanups.push(exports.dispose);
  toolbar.setTitle(model.get('model_name') || 'attentionviz');
  const start = bindPanes(ctx, panes, { controls, exportButtons: exports.buttons, textBar: textInput?.bar ?? null }, listen);

  cleanups.push(watchKernel(model, root, body), watchTheme(() => {
    // The page's theme may have changed (body attributes; JupyterLab also toggles body
    // classes during drags): redraw only when the theme this view resolves to did change.
    if (resolveTheme(model.get('theme')) !== ctx.theme) start.applyTheme();
  }));
  cleanups.push(bindKeyboard(ctx, root, { resetCamera: () => cameraPane(ctx, panes).resetCamera(), focusSearch: () => controls.search.focus() }));
  Object.assign(root, { attentionviz: headView.handle() });
  start.run();

  return () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    matrixView.dispose();
    headView.dispose();
    compareView.dispose();
    headmapView.dispose();
    layouts.dispose();
    root.remove();
  };
}

/**
 * A kernel restart leaves this view without its kernel: ipywidgets then sets the model's
 * comm_live to false, which fires 'comm_live_update' (it never fires after mount
 * otherwise). The services fail what waits; the view keeps what is drawn and says what to do.
 */
function watchKernel(model: ViewModel, root: HTMLElement, body: HTMLElement): () => void {
  const onDisconnect = (): void => {
    root.dataset.disconnected = 'true';
    // Bottom of the plot, so it never hides the top notice; not dismissable: it stays true.
    const style = 'top: auto; bottom: 6px; cursor: default; max-width: 90%; text-align: center';
    body.append(h('div', { className: 'av-notice av-visible av-disconnected', attrs: { role: 'alert', style } }, KERNEL_LOST));
  };
  model.on('comm_live_update', onDisconnect);
  return () => model.off('comm_live_update', onDisconnect);
}
