/**
 * Layer and head labels beside the grid (in layer x head order), one every few cells
 * when cells are small, so tiny cells need no caption of their own.
 */
import { h } from '../../ui/dom';
import { AXIS_SIZE, labelStride } from './sizing';

/** Fill `heads` (above the grid) and `layers` (left of it) for cells `pitch` px apart; empty when `shown` is false. */
export function drawAxes(heads: HTMLElement, layers: HTMLElement, nLayers: number, nHeads: number, pitch: number, shown: boolean): void {
  heads.replaceChildren();
  layers.replaceChildren();
  heads.style.height = shown ? `${AXIS_SIZE - 12}px` : '0';
  layers.style.width = shown ? `${AXIS_SIZE}px` : '0';
  if (!shown) return;
  const stride = labelStride(pitch);
  for (let head = 0; head < nHeads; head += stride) {
    heads.append(h('span', { className: 'av-axis-label', attrs: { style: `left: ${head * pitch}px; width: ${pitch}px` } }, `H${head}`));
  }
  const rowStride = labelStride(pitch, 14);
  for (let layer = 0; layer < nLayers; layer += rowStride) {
    layers.append(h('span', { className: 'av-axis-label', attrs: { style: `top: ${layer * pitch}px; height: ${pitch}px; line-height: ${Math.min(pitch, 40)}px` } }, `L${layer}`));
  }
}
