/** Keyboard: arrows step heads/layers, m toggles the matrix, r resets the camera, Esc clears or leaves compare, / searches. */
import type { ViewContext } from './context';

const STEPS: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

export interface KeyTargets {
  resetCamera(): void;
  focusSearch(): void;
}

/** Listens on `root`; returns the removal. */
export function bindKeyboard(ctx: ViewContext, root: HTMLElement, targets: KeyTargets): () => void {
  const model = ctx.model;
  const onKey = (event: KeyboardEvent): void => {
    const [layer, head] = model.get('head');
    const nLayers = model.get('n_layers');
    const nHeads = model.get('n_heads');
    const view = model.get('view');
    if (event.key in STEPS && view === 'head') {
      const [dl, dh] = STEPS[event.key];
      ctx.update({ head: [(layer + dl + nLayers) % nLayers, (head + dh + nHeads) % nHeads] });
    } else if (event.key === 'm') ctx.update({ view: view === 'matrix' ? 'head' : 'matrix' });
    else if (event.key === 'r') targets.resetCamera();
    else if (event.key === 'Escape' && view === 'compare') ctx.update({ view: 'head' });
    else if (event.key === 'Escape') ctx.setSelection([]);
    else if (event.key === '/') targets.focusSearch();
    else return;
    event.preventDefault();
  };
  root.addEventListener('keydown', onKey);
  return () => root.removeEventListener('keydown', onKey);
}
