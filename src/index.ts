/**
 * anywidget entry point. `render` mounts the view into `el` and returns its cleanup,
 * which frees the WebGL context, listeners and DOM.
 */
import type { Render } from '@anywidget/types';
import type { ViewTraits } from './model/traits';
import { mountView } from './view';

export const render: Render<ViewTraits> = ({ model, el }) => mountView(model, el);

export { mountView } from './view';
export { MemoryModel } from './model/memory_model';

export default { render };
export { mountStandalone, type StandaloneState } from './standalone';
