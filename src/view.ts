/**
 * The whole widget over one model: toolbar, matrix, single-head and compare views
 * (views/shell.ts). Host-agnostic: the model may be anywidget's or an in-memory one.
 * `mountView` mounts on the model's services (services.ts): those given, those its
 * `initialize` built, or new ones shared with the model's other open views. Returns the
 * cleanup of this view (and of the services when it built them and is the last view).
 */
import type { ViewModel } from './model/traits';
import { acquireServices, type ModelServices, type ServiceOptions } from './services';
import { mountShell } from './views/shell';

export type { ViewHandle } from './views/head';
/** What a host offers besides the model (`inference` enables "Add text…"). */
export type ViewServices = ServiceOptions;

export function mountView(model: ViewModel, el: HTMLElement, services: ModelServices | ServiceOptions = {}): () => void {
  const held = acquireServices(model, services);
  let unmount: () => void;
  try {
    unmount = mountShell(model, el, held.services);
  } catch (error) {
    held.release();
    throw error;
  }
  return () => {
    unmount();
    held.release();
  };
}
