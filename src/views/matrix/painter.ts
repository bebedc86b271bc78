/**
 * What a matrix cell draws: its layout with the thumbnails' shared point colours, any
 * text typed into the view placed into it (ringed), the search's matches marked (the
 * others faint), and token labels once the cell is large (semantic zoom).
 */
import type { LayoutMethod } from '../../layout/types';
import type { QKSourceName } from '../../model/qk_source';
import type { MarkedPoints, ThumbnailExtras } from '../../render/thumbnail';
import type { Theme } from '../../ui/theme';
import { pointColors } from '../coloring';
import type { ViewContext } from '../context';
import type { Cell } from './fill';

/** Canvas side from which a thumbnail labels tokens (search matches from SEARCH_LABEL_SIDE). */
const LABEL_SIDE = 220;
const SEARCH_LABEL_SIDE = 110;

/** What a thumbnail draws: its layout, plus any typed-in tokens placed into it. */
export interface Drawn {
  positions: Float32Array;
  rgb: Float32Array;
  marks: MarkedPoints | null;
  added: number;
}

export class CellPainter {
  /** Point colours of the last (colour mode, point count, theme): the same for every cell. */
  private coloring: { key: string; theme: Theme; rgb: Float32Array } | null = null;

  constructor(
    private readonly ctx: ViewContext,
    private readonly source: () => QKSourceName,
  ) {}

  /** Forget the colours (the token table, colour mode or theme may have changed). */
  reset(): void {
    this.coloring = null;
  }

  /** Semantic zoom and search: labels when the cell is large, matches marked (others faint). */
  extras(drawn: Drawn, side: number): ThumbnailExtras {
    const tokens = this.ctx.headTokens();
    if (!tokens || !drawn.marks?.marked || !this.ctx.model.get('search').trim()) {
      if (side < LABEL_SIDE || !tokens) return {};
      const n = drawn.positions.length / 4;
      const step = Math.max(1, Math.floor(n / 80));
      const points = Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
      return { labels: { points, text: (p) => tokens.text[p] ?? '', color: this.ctx.theme.foreground } };
    }
    const marked = drawn.marks.marked;
    const n = marked.length / 2;
    const points = side >= SEARCH_LABEL_SIDE ? [...marked.keys()].filter((i) => i < n && marked[i]) : [];
    return { dimUnmarked: true, labels: points.length ? { points, text: (p) => tokens.text[p] ?? '', color: this.ctx.theme.foreground } : null };
  }

  /**
   * A cell's layout and colours; text typed into the view (this capture's model) is
   * placed into this capture's thumbnails as into the head view, and drawn ringed;
   * with a search, its matches are the marked points.
   */
  drawn(cell: Cell): Drawn | null {
    if (!cell.positions) return null;
    const n = cell.positions.length / 4;
    const added = this.source() === 'capture' ? this.ctx.added : null;
    const m = added?.count() ?? 0;
    let drawn: Drawn = { positions: cell.positions, rgb: this.colors(n, 0), marks: null, added: 0 };
    if (added && m > 0 && cell.qk) {
      try {
        const params = { method: cell.method as LayoutMethod, dims: 2 as const, normalize: this.ctx.model.get('normalize') };
        const { positions, marked } = added.augment(cell.qk, cell.positions, params);
        drawn = { positions, rgb: this.colors(n, m), marks: marked ? { marked, ring: this.ctx.theme.ring } : null, added: m };
      } catch {
        // A head the typed-text model does not fit (the head view says why): capture tokens only.
      }
    }
    return this.searched(drawn, n);
  }

  /** Mark the search's matches among the thumbnail's first `n` tokens (queries and keys). */
  private searched(drawn: Drawn, n: number): Drawn {
    if (!this.ctx.model.get('search').trim()) return drawn;
    const points = drawn.positions.length / 2;
    const marked = new Float32Array(points);
    const total = points / 2;
    for (const row of this.ctx.searchMatches()) {
      if (row >= n) continue;
      marked[row] = 1;
      marked[total + row] = 1;
    }
    return { ...drawn, marks: { marked, ring: this.ctx.theme.ring } };
  }

  /**
   * Colours of the thumbnails' points, computed once for all cells: the first `n` tokens,
   * then (m > 0) the m typed-in rows, which follow the capture's rows in the token table;
   * queries first, then keys, as the layouts are.
   */
  private colors(n: number, m: number): Float32Array {
    const mode = this.ctx.model.get('color_by');
    const key = `${mode}|${n}|${m}`;
    const theme = this.ctx.theme;
    if (this.coloring?.key !== key || this.coloring.theme !== theme) {
      const table = m > 0 ? this.ctx.headTokens() : null;
      let rgb: Float32Array;
      if (!table) {
        rgb = pointColors(mode, this.ctx.tokens, n, theme).rgb;
      } else {
        const total = table.length; // capture rows, then the m typed-in ones
        const all = pointColors(mode, table, total, theme).rgb;
        rgb = new Float32Array(6 * (n + m));
        const rows = [...Array(n).keys(), ...Array.from({ length: m }, (_, i) => total - m + i)];
        rows.forEach((row, i) => {
          rgb.set(all.subarray(3 * row, 3 * row + 3), 3 * i); // query
          rgb.set(all.subarray(3 * (total + row), 3 * (total + row) + 3), 3 * (n + m + i)); // key
        });
      }
      this.coloring = { key, theme, rgb };
    }
    return this.coloring.rgb;
  }
}
