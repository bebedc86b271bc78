/**
 * The image view (vision transformers): the input image as the model saw it, its
 * patch grid, and the attention of the focused token (the selected patch or [CLS])
 * over the patches of its image as a heat overlay, recomputed from Q.K with the
 * capture's scale and mask. Linked with the scatterplot both ways: clicking a patch
 * selects its token, selecting a point shows its image, hovering a patch highlights
 * its query and key points.
 *
 * Images come from the host (`image` requests through the model's ImageSource, shared by
 * its views). Without one (e.g. a standalone page) the grid is drawn alone.
 */
import { allowedKeys, attentionRow } from '../compute/attention';
import { renormalize } from '../compute/renormalize';
import { hexToRgb, rampColor, type RGB } from '../compute/colors';
import { gridShape, patchHeat, type PatchHeat } from '../compute/patches';
import type { HeadQK } from '../model/qk_source';
import type { TokenTable } from '../model/tokens';
import { h } from '../ui/dom';
import type { ViewContext } from './context';

const SIZE = 280;
/** Heat ramp (transparent dark red -> orange -> yellow), alpha grows with the weight. */
const HEAT: RGB[] = ['#7f0000', '#e34a33', '#fdbb84', '#ffffb2'].map(hexToRgb);

/** Patch rows / cols of a token table as integers (-1 for non-patch tokens), or null. */
export function patchColumns(tokens: TokenTable | null): { row: Int32Array; col: Int32Array } | null {
  if (!tokens || !tokens.columnNames.includes('patch_row') || !tokens.columnNames.includes('patch_col')) return null;
  const ints = (name: string): Int32Array => {
    const column = tokens.column(name);
    if (column.kind === 'number') return Int32Array.from(column.values, (v) => (Number.isFinite(v) ? v : -1));
    return Int32Array.from(column.codes, (code) => {
      const value = Number(column.labels[code]);
      return Number.isFinite(value) ? value : -1;
    });
  };
  return { row: ints('patch_row'), col: ints('patch_col') };
}

type Picture = ImageBitmap | 'missing';

export class ImageView {
  readonly element = h('div', { className: 'av-sentence av-image', attrs: { 'aria-label': 'image view' } });
  private readonly header = h('div', { className: 'av-sentence-head' });
  private readonly canvas = h('canvas', { className: 'av-image-canvas', attrs: { width: String(SIZE), height: String(SIZE) } });
  private readonly caption = h('div', { className: 'av-sentence-empty' });
  private readonly pictures = new Map<number, Picture>();
  /** Sequences whose picture was asked for (drawn when it arrives). */
  private readonly asked = new Set<number>();
  private disposed = false;
  private patches: { row: Int32Array; col: Int32Array } | null = null;
  private patchTable: TokenTable | null = null;
  private grid: [number, number] = [0, 0];
  /** What is drawn: image (sequence), its rows, the focused row and its heat. */
  private seq = -1;
  private rows: number[] = [];
  private focus = -1;
  private heat: PatchHeat | null = null;
  private hovered = -1;

  constructor(
    private readonly ctx: ViewContext,
    private readonly onPick: (row: number) => void,
    private readonly onHover: (row: number) => void,
  ) {
    this.canvas.style.cssText = 'display:block;margin:8px auto;cursor:pointer;image-rendering:auto;max-width:100%';
    this.element.append(this.header, this.canvas, this.caption);
    this.canvas.addEventListener('pointermove', this.onMove);
    this.canvas.addEventListener('pointerleave', this.onLeave);
    this.canvas.addEventListener('click', this.onClick);
  }

  /** True when the token table describes image patches (a vision capture). */
  applies(): boolean {
    return this.columns() !== null;
  }

  /** Show the image of the selected token (else the first image) and the focused token's attention. */
  render(qk: HeadQK | null): void {
    // The capture's own tokens: only they have patches (typed-in text has none).
    const tokens = this.ctx.tokens;
    const patches = this.columns();
    if (!tokens || !patches || !qk) return;
    const selected = this.ctx.selectedRows();
    const focus = selected.length && selected[0] < Math.min(qk.nTokens, tokens.length) ? selected[0] : -1;
    const seq = focus >= 0 ? tokens.seq[focus] : tokens.seq[0];
    const rows = tokens.rowsBySeq.get(seq) ?? [];
    this.seq = seq;
    this.rows = rows;
    this.focus = focus;
    this.heat = null;
    if (focus >= 0) {
      const keyRows = allowedKeys(rows, rows.indexOf(focus), this.ctx.model.get('mask') === 'causal');
      // hide_special: attention to [CLS] dropped and the patches' weights renormalized.
      const weights = renormalize(attentionRow(qk.queries, qk.keys, qk.dHead, focus, keyRows, this.ctx.model.get('scale')), keyRows, this.ctx.hiddenKeys(tokens));
      this.heat = patchHeat(weights, keyRows, patches.row, patches.col, this.grid[0], this.grid[1]);
    }
    const from = focus < 0 ? '' : patches.row[focus] >= 0 ? `patch ${patches.row[focus]},${patches.col[focus]}` : tokens.text[focus];
    this.header.replaceChildren(h('span', {}, `image ${seq}`), h('span', {}, from ? `attention from ${from}` : `${this.grid[0]}×${this.grid[1]} patches`));
    this.caption.textContent = this.heat
      ? `brightest patch ${(this.heat.max * 100).toFixed(1)}% · non-patch tokens ([CLS], ...) ${(this.heat.other * 100).toFixed(1)}%`
      : 'Click a patch (or a point) to see its attention over the image.';
    this.ctx.root.dataset.imageSeq = String(seq);
    this.ctx.root.dataset.imageFocus = String(focus);
    this.draw();
    this.requestPicture(seq);
  }

  dispose(): void {
    this.disposed = true;
    for (const picture of this.pictures.values()) if (picture !== 'missing') picture.close();
    this.pictures.clear();
    this.element.remove();
  }

  private columns(): { row: Int32Array; col: Int32Array } | null {
    const tokens = this.ctx.tokens;
    if (tokens !== this.patchTable) {
      this.patchTable = tokens;
      this.patches = patchColumns(tokens);
      this.grid = this.patches ? gridShape(this.patches.row, this.patches.col) : [0, 0];
      if (this.grid[0] === 0 || this.grid[1] === 0) this.patches = null;
    }
    return this.patches;
  }

  private draw(): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const [gridRows, gridCols] = this.grid;
    const picture = this.pictures.get(this.seq);
    // Keep the image's aspect: the longer side fills SIZE.
    const aspect = picture && picture !== 'missing' ? picture.width / picture.height : gridCols / gridRows;
    const width = Math.round(aspect >= 1 ? SIZE : SIZE * aspect);
    const height = Math.round(aspect >= 1 ? SIZE / aspect : SIZE);
    if (this.canvas.width !== width || this.canvas.height !== height) Object.assign(this.canvas, { width, height });
    context.clearRect(0, 0, width, height);
    if (picture && picture !== 'missing') context.drawImage(picture, 0, 0, width, height);
    else {
      context.fillStyle = this.ctx.theme.background;
      context.fillRect(0, 0, width, height);
    }
    const cellW = width / gridCols;
    const cellH = height / gridRows;
    if (this.heat && this.heat.max > 0) {
      // Dim the image so the heat reads, then paint each patch by its share of the maximum.
      context.fillStyle = 'rgba(0, 0, 0, 0.45)';
      context.fillRect(0, 0, width, height);
      for (let r = 0; r < gridRows; r++) {
        for (let c = 0; c < gridCols; c++) {
          const t = this.heat.heat[r * gridCols + c] / this.heat.max;
          if (t <= 0.01) continue;
          const [red, green, blue] = rampColor(HEAT, t);
          context.fillStyle = `rgba(${Math.round(red * 255)}, ${Math.round(green * 255)}, ${Math.round(blue * 255)}, ${(0.2 + 0.6 * t).toFixed(3)})`;
          context.fillRect(c * cellW, r * cellH, cellW, cellH);
        }
      }
    }
    context.strokeStyle = 'rgba(255, 255, 255, 0.35)';
    context.lineWidth = 1;
    context.beginPath();
    for (let r = 1; r < gridRows; r++) {
      context.moveTo(0, r * cellH);
      context.lineTo(width, r * cellH);
    }
    for (let c = 1; c < gridCols; c++) {
      context.moveTo(c * cellW, 0);
      context.lineTo(c * cellW, height);
    }
    context.stroke();
    const outline = (row: number, color: string, lineWidth: number): void => {
      const patches = this.patches;
      if (!patches || row < 0 || patches.row[row] < 0) return;
      context.strokeStyle = color;
      context.lineWidth = lineWidth;
      context.strokeRect(patches.col[row] * cellW + 1, patches.row[row] * cellH + 1, cellW - 2, cellH - 2);
    };
    outline(this.focus, this.ctx.theme.key, 3);
    outline(this.hovered, '#ffffff', 2);
  }

  private requestPicture(seq: number): void {
    if (this.pictures.has(seq) || this.asked.has(seq)) return;
    this.asked.add(seq);
    const missing = (): void => {
      if (this.disposed) return;
      this.pictures.set(seq, 'missing');
      this.ctx.root.dataset.image = 'missing';
    };
    const images = this.ctx.images;
    if (!images) return missing();
    images
      .png(seq)
      .then((png) => createImageBitmap(png))
      .then((picture) => {
        if (this.disposed) return picture.close();
        this.pictures.set(seq, picture);
        this.ctx.root.dataset.image = 'loaded';
        if (seq === this.seq) this.draw();
      }, missing);
  }

  /** Token row of the patch under a pointer event, or -1. */
  private rowAt(event: MouseEvent): number {
    const patches = this.patches;
    if (!patches) return -1;
    const rect = this.canvas.getBoundingClientRect();
    const r = Math.floor(((event.clientY - rect.top) / rect.height) * this.grid[0]);
    const c = Math.floor(((event.clientX - rect.left) / rect.width) * this.grid[1]);
    return this.rows.find((row) => patches.row[row] === r && patches.col[row] === c) ?? -1;
  }

  private readonly onMove = (event: PointerEvent): void => {
    const row = this.rowAt(event);
    if (row === this.hovered) return;
    this.hovered = row;
    this.ctx.root.dataset.imageHover = row < 0 ? '' : String(row);
    this.draw();
    this.onHover(row);
  };

  private readonly onLeave = (): void => {
    if (this.hovered < 0) return;
    this.hovered = -1;
    this.ctx.root.dataset.imageHover = '';
    this.draw();
    this.onHover(-1);
  };

  private readonly onClick = (event: MouseEvent): void => {
    const row = this.rowAt(event);
    if (row >= 0) this.onPick(row);
  };
}
