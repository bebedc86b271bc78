/**
 * The matrix view's zoom: a slider with − / + / fit buttons, and ctrl+wheel (a trackpad
 * pinch arrives as one) over the grid, anchored at the pointer. Zoom 1 fits every head
 * of a layer in the width; the largest shows one head as wide as the grid.
 */
import { h } from '../../ui/dom';

export class ZoomControl {
  readonly element: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  private max = 1;
  value = 1;

  constructor(private readonly onZoom: (zoom: number, anchor: { x: number; y: number } | null) => void) {
    this.slider = h('input', { className: 'av-matrix-zoom-slider', title: 'zoom (ctrl+wheel or pinch over the grid)', attrs: { type: 'range', min: '0', max: '1000', value: '0', 'aria-label': 'zoom' } });
    this.slider.addEventListener('input', () => this.set(this.fromSlider(Number(this.slider.value)), null));
    const button = (text: string, title: string, action: () => void): HTMLButtonElement => {
      const b = h('button', { className: 'av-matrix-zoom-button', title, attrs: { type: 'button' } }, text);
      b.addEventListener('click', action);
      return b;
    };
    this.label = h('span', { className: 'av-matrix-zoom-label' }, '1×');
    this.element = h(
      'span',
      { className: 'av-matrix-zoom' },
      button('−', 'zoom out', () => this.set(this.value / 1.5, null)),
      this.slider,
      button('+', 'zoom in', () => this.set(this.value * 1.5, null)),
      button('fit', 'fit every head in the width', () => this.set(1, null)),
      this.label,
    );
  }

  /** The zoom range: 1 to `max` (a slider position is logarithmic in zoom). */
  setRange(max: number): void {
    this.max = Math.max(1, max);
    this.set(this.value, null, false);
  }

  /** Zoom by wheel `deltaY` (ctrl+wheel / pinch) at `anchor` in the grid's viewport. */
  wheel(deltaY: number, anchor: { x: number; y: number }): void {
    this.set(this.value * Math.exp(-deltaY * 0.002), anchor);
  }

  set(zoom: number, anchor: { x: number; y: number } | null, notify = true): void {
    const clamped = Math.min(this.max, Math.max(1, Number.isFinite(zoom) ? zoom : 1));
    const changed = clamped !== this.value;
    this.value = clamped;
    this.slider.value = String(Math.round(this.max > 1 ? (1000 * Math.log(clamped)) / Math.log(this.max) : 0));
    this.label.textContent = `${clamped < 10 ? clamped.toFixed(1) : Math.round(clamped)}×`;
    if (changed && notify) this.onZoom(clamped, anchor);
  }

  private fromSlider(position: number): number {
    return Math.exp((position / 1000) * Math.log(this.max));
  }
}

/**
 * Drag to pan a zoomed grid (its scroll box); a drag is not a click, so it opens no head.
 * `active()`: whether the grid is zoomed in. Returns the listeners' cleanup.
 */
export function dragToPan(scroller: HTMLElement, active: () => boolean): () => void {
  let drag: { x: number; y: number; left: number; top: number; moved: boolean } | null = null;
  const down = (event: PointerEvent): void => {
    if (event.button !== 0 || !active()) return;
    drag = { x: event.clientX, y: event.clientY, left: scroller.scrollLeft, top: scroller.scrollTop, moved: false };
  };
  const move = (event: PointerEvent): void => {
    if (!drag) return;
    const [dx, dy] = [event.clientX - drag.x, event.clientY - drag.y];
    drag.moved ||= Math.hypot(dx, dy) > 4;
    if (!drag.moved) return;
    scroller.scrollLeft = drag.left - dx;
    scroller.scrollTop = drag.top - dy;
  };
  const up = (): void => {
    const moved = drag?.moved;
    drag = moved ? drag : null;
    if (moved) setTimeout(() => (drag = null)); // after the click this drag ends in
  };
  const click = (event: MouseEvent): void => {
    if (!drag?.moved) return;
    event.stopPropagation();
    event.preventDefault();
    drag = null;
  };
  scroller.addEventListener('pointerdown', down);
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
  scroller.addEventListener('click', click, true);
  return () => {
    scroller.removeEventListener('pointerdown', down);
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
    scroller.removeEventListener('click', click, true);
  };
}
