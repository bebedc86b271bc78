/**
 * anywidget entry point. `initialize({ model })` builds what belongs to the model (the
 * protocol channel, Q/K and image sources, layout workers, the typed-text model; see
 * services.ts) and returns their cleanup; `render({ model, el })` mounts one view on them
 * and returns that view's cleanup (WebGL context, listeners, DOM). Two views of one
 * widget share the model's services.
 */
import type { Initialize, Render } from '@anywidget/types';
import { computeQK, loadQKModel } from './inference';
import type { ViewTraits } from './model/traits';
import { provideServices, type ServiceOptions } from './services';
import { mountView } from './view';

/** The widget's `{ initialize, render }` with the given host services. */
export function createWidget(options: ServiceOptions): { initialize: Initialize<ViewTraits>; render: Render<ViewTraits> } {
  return {
    initialize: ({ model }) => provideServices(model, options),
    // Without an `initialize` for this model (some hosts), the view builds the services itself.
    render: ({ model, el }) => mountView(model, el, options),
  };
}

// The notebook host offers in-browser Q/K for typed text (AttentionViz(cap, onnx=...)).
const widget = createWidget({ inference: { load: loadQKModel, compute: computeQK } });

export const { initialize, render } = widget;
export { mountView } from './view';
export { MemoryModel } from './model/memory_model';
export { ModelServices } from './services';

export default widget;
export { mountStandalone, type StandaloneState } from './standalone';
