/** The toolbar: title, layer/head pickers, normalization and colour controls, status. */
import { h, select } from './dom';

export interface ToolbarHandlers {
  onHead(layer: number, head: number): void;
  onNormalize(normalize: boolean): void;
  onColorBy(colorBy: string): void;
  onReset(): void;
}

export const COLOR_MODES: Array<[string, string]> = [
  ['qk', 'query / key'],
  ['pos_norm', 'normalized position'],
  ['seq', 'sequence'],
];

export class Toolbar {
  readonly element = h('div', { className: 'av-toolbar' });
  private readonly title = h('span', { className: 'av-title' });
  private layerSelect = select([], '0', 'layer');
  private headSelect = select([], '0', 'head');
  private readonly normalizeBox = h('input', { attrs: { type: 'checkbox', 'aria-label': 'normalize' } });
  private readonly colorSelect = select(COLOR_MODES, 'qk', 'colour by');
  private readonly status = h('span', { className: 'av-status', attrs: { 'aria-live': 'polite' } });

  constructor(private readonly handlers: ToolbarHandlers) {
    const reset = h('button', { title: 'Reset the camera (r)' }, 'Reset');
    reset.addEventListener('click', () => handlers.onReset());
    this.normalizeBox.addEventListener('change', () => handlers.onNormalize(this.normalizeBox.checked));
    this.colorSelect.addEventListener('change', () => handlers.onColorBy(this.colorSelect.value));
    this.element.append(
      this.title,
      h('label', {}, 'layer ', this.layerSelect),
      h('label', {}, 'head ', this.headSelect),
      h('label', { title: 'Translate keys to the query centroid and equalise Q/K norms (attention unchanged)' }, this.normalizeBox, 'normalize'),
      h('label', {}, 'colour ', this.colorSelect),
      reset,
      h('span', { className: 'av-spacer' }),
      this.status,
    );
  }

  setTitle(text: string): void {
    this.title.textContent = text;
    this.title.title = text;
  }

  setHeadChoices(nLayers: number, nHeads: number, layer: number, head: number): void {
    const range = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [String(i), String(i)]);
    const layerSelect = select(range(nLayers), String(layer), 'layer');
    const headSelect = select(range(nHeads), String(head), 'head');
    const emit = (): void => this.handlers.onHead(Number(layerSelect.value), Number(headSelect.value));
    layerSelect.addEventListener('change', emit);
    headSelect.addEventListener('change', emit);
    this.layerSelect.replaceWith(layerSelect);
    this.headSelect.replaceWith(headSelect);
    this.layerSelect = layerSelect;
    this.headSelect = headSelect;
  }

  setHead(layer: number, head: number): void {
    this.layerSelect.value = String(layer);
    this.headSelect.value = String(head);
  }

  setNormalize(normalize: boolean): void {
    this.normalizeBox.checked = normalize;
  }

  setColorBy(colorBy: string): void {
    this.colorSelect.value = colorBy;
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }
}
