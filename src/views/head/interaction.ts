/**
 * Pointer input on a head plot: hover shows a token's tooltip, a click selects the point
 * under the pointer (or clears the selection), shift-drag lassoes points. Dragging
 * otherwise moves the camera (the scene's own controls).
 */
import type { TokenTable } from '../../model/tokens';
import type { TooltipContent } from '../../ui/tooltip';
import type { Picker } from './picking';
import type { PlotSurface } from './plot';

/** A pointer that moves less than this many pixels between down and up clicks. */
const CLICK_SLOP = 4;

export interface PointerTarget {
  /** Tokens of the laid-out head (its points: queries 0..n-1, keys n..2n-1); null while nothing is shown. */
  shownTokens(): number | null;
  /** Shows the tooltip of `point` (token `row`) at canvas (x, y); false when it has none. */
  showTooltip(point: number, row: number, x: number, y: number): boolean;
  /** Token `row` is under the pointer (-1: none). */
  hovered(row: number): void;
  /** The pointer left the plot. */
  left(): void;
  select(rows: number[]): void;
}

/** Binds pointer input on `surface`; returns what unbinds it. */
export function bindPointer(surface: PlotSurface, picker: Picker, target: PointerTarget): () => void {
  const plot = surface.element;
  let down: { x: number; y: number; lasso: boolean } | null = null;
  const at = (event: PointerEvent): [number, number] => {
    const rect = plot.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const onDown = (event: PointerEvent): void => {
    const [x, y] = at(event);
    down = { x, y, lasso: event.shiftKey && event.button === 0 };
    if (down.lasso) {
      surface.scene?.setControlsEnabled(false);
      surface.lasso.start(x, y);
    }
  };
  const onMove = (event: PointerEvent): void => {
    const [x, y] = at(event);
    if (down?.lasso) {
      surface.lasso.extend(x, y);
      return;
    }
    const n = target.shownTokens();
    const point = down || !surface.scene ? -1 : picker.pick(surface.scene, x, y);
    if (point < 0 || n === null || !target.showTooltip(point, point % n, x, y)) {
      surface.tooltip.hide();
      target.hovered(-1);
      return;
    }
    target.hovered(point % n);
  };
  const onUp = (event: PointerEvent): void => {
    const [x, y] = at(event);
    const start = down;
    down = null;
    const n = target.shownTokens();
    const scene = surface.scene;
    if (!start || n === null || !scene) return;
    if (start.lasso) {
      scene.setControlsEnabled(true);
      const inside = picker.inside(scene, surface.lasso.finish());
      target.select(Array.from(inside, (point) => point % n));
      return;
    }
    if (Math.hypot(x - start.x, y - start.y) > CLICK_SLOP) return;
    const point = picker.pick(scene, x, y);
    target.select(point < 0 ? [] : [point % n]);
  };
  const onLeave = (): void => {
    surface.tooltip.hide();
    target.left();
  };
  plot.addEventListener('pointerdown', onDown, { capture: true });
  plot.addEventListener('pointermove', onMove);
  plot.addEventListener('pointerup', onUp);
  plot.addEventListener('pointerleave', onLeave);
  return () => {
    plot.removeEventListener('pointerdown', onDown, { capture: true });
    plot.removeEventListener('pointermove', onMove);
    plot.removeEventListener('pointerup', onUp);
    plot.removeEventListener('pointerleave', onLeave);
  };
}

/**
 * The tooltip of `point` (token `row`) of a head of `n` tokens, with its sequence as
 * context; rows from `typedFrom` on are typed-in text. Null without a token table.
 */
export function tokenTooltip(tokens: TokenTable | null, point: number, row: number, n: number, typedFrom: number): TooltipContent | null {
  if (!tokens) return null;
  const context = tokens.rowsBySeq.get(tokens.seq[row]) ?? [row];
  return {
    kind: point < n ? 'query' : 'key',
    token: tokens.text[row],
    context: context.map((r) => tokens.text[r]),
    contextIndex: context.indexOf(row),
    detail: `sequence ${tokens.seq[row]} · position ${tokens.pos[row]} · row ${row}${row >= typedFrom ? ' · typed in (placed, not laid out)' : ''}`,
  };
}
