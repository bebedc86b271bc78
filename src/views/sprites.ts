/**
 * Vision captures drawn as their image patches (`point_style`: "patch" with queries
 * outlined and keys filled, "patch_plain" without outline, "dot" the default dots). The
 * pictures come from the model's ImageSource (one `image` request per sequence, shared
 * with the image view); the atlas is built once they are in and kept per token table.
 */
import { gridShape } from '../compute/patches';
import { buildAtlas, type SpriteAtlas } from '../render/sprites';
import type { ScatterScene } from '../render/scatter';
import type { TokenTable } from '../model/tokens';
import type { ViewContext } from './context';
import { patchColumns } from './image';

/** Sprites for more tokens than this would need a larger atlas than WebGL guarantees (4096²). */
const MAX_SPRITES = (4096 / 16) ** 2;

export class PatchSprites {
  private atlas: SpriteAtlas | null = null;
  private atlasTable: TokenTable | null = null;
  private loading: TokenTable | null = null;
  private readonly offs: Array<() => void> = [];

  /** `target()`: the scene and the number of tokens it shows (null: nothing shown). */
  constructor(
    private readonly ctx: ViewContext,
    private readonly target: () => { scene: ScatterScene; nTokens: number } | null,
  ) {
    const apply = (): void => this.apply();
    ctx.model.on('change:point_style', apply);
    this.offs.push(() => ctx.model.off('change:point_style', apply));
  }

  /** Dots or patches on the shown scene, as `point_style` says (after each setPoints). */
  apply(): void {
    const shown = this.target();
    if (!shown) return;
    const style = this.ctx.model.get('point_style') ?? 'dot';
    const atlas = style === 'dot' ? null : this.currentAtlas();
    if (this.ctx.root.dataset.sprites !== 'unavailable' || style === 'dot') this.ctx.root.dataset.sprites = style === 'dot' ? 'off' : atlas ? 'on' : 'loading';
    shown.scene.setSprites(atlas, style === 'patch');
  }

  /** No pictures (e.g. a standalone page without them): say so once and keep the dots. */
  private unavailable(message: string): void {
    this.ctx.root.dataset.sprites = 'unavailable';
    this.ctx.notify(message);
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** The atlas of the capture's token table, or null while its pictures load (then apply() again). */
  private currentAtlas(): SpriteAtlas | null {
    const tokens = this.ctx.tokens;
    if (!tokens) return null;
    if (this.atlasTable === tokens) return this.atlas;
    if (this.loading !== tokens) void this.load(tokens);
    return null;
  }

  private async load(tokens: TokenTable): Promise<void> {
    this.loading = tokens;
    const patches = patchColumns(tokens);
    const images = this.ctx.images;
    if (!patches || !images) {
      this.unavailable('patch sprites need a vision capture with its images; drawing dots');
      return;
    }
    const [gridRows, gridCols] = gridShape(patches.row, patches.col);
    const pictures = new Map<number, ImageBitmap>();
    try {
      for (const seq of tokens.rowsBySeq.keys()) pictures.set(seq, await createImageBitmap(await images.png(seq)));
    } catch (error) {
      this.unavailable(`patch sprites: an image could not be loaded (${error instanceof Error ? error.message : String(error)}); drawing dots`);
      return;
    }
    if (this.loading !== tokens) return; // another token table arrived meanwhile
    const n = Math.min(tokens.length, MAX_SPRITES);
    this.atlas = buildAtlas(n, (row) => {
      const picture = pictures.get(tokens.seq[row]);
      if (!picture || patches.row[row] < 0) return null;
      return { picture, row: patches.row[row], col: patches.col[row], gridRows, gridCols };
    });
    for (const picture of pictures.values()) picture.close();
    this.atlasTable = tokens;
    this.apply();
  }
}
