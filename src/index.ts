/**
 * anywidget entry point. `render` mounts the view into `el` and returns its cleanup,
 * which frees the WebGL context, listeners and DOM.
 */
import type { Render } from '@anywidget/types';
import { computeQK, loadQKModel } from './inference';
import type { ViewTraits } from './model/traits';
import { mountView } from './view';

// The notebook host offers in-browser Q/K for typed text (AttentionViz(cap, onnx=...)).
const inference = { load: loadQKModel, compute: computeQK };

export const render: Render<ViewTraits> = ({ model, el }) => mountView(model, el, { inference });

export { mountView } from './view';
export { MemoryModel } from './model/memory_model';

export default { render };
export { mountStandalone, type StandaloneState } from './standalone';
