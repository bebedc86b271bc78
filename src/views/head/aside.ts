/** Beside the single-head view's plot: the sentence view, or for vision captures the image view. */
import type { HeadQK } from '../../model/qk_source';
import { AnalysisPane } from '../analysis';
import type { ViewContext } from '../context';
import { ImageView } from '../image';
import { SentenceView } from '../sentence';

export class HeadAside {
  private readonly sentence: SentenceView;
  private readonly image: ImageView;
  private readonly analysis: AnalysisPane;

  /**
   * `onPatchHover`: the token row whose patch is hovered in the image view (-1: none);
   * `onPairHover`: the query and key rows of the analysis heatmap's hovered cell (-1: none).
   */
  constructor(ctx: ViewContext, onPatchHover: (row: number) => void, onPairHover: (queryRow: number, keyRow: number) => void = () => {}) {
    const select = (row: number): void => ctx.setSelection([row]);
    this.sentence = new SentenceView(ctx, select);
    this.image = new ImageView(ctx, select, onPatchHover);
    this.image.element.style.display = 'none';
    this.analysis = new AnalysisPane(ctx, onPairHover);
  }

  get elements(): HTMLElement[] {
    return [this.sentence.element, this.image.element, this.analysis.element];
  }

  /** Shows the image view for a vision capture, else the sentence view, of `qk`. */
  render(qk: HeadQK): void {
    const vision = this.image.applies();
    this.sentence.element.style.display = vision ? 'none' : '';
    this.image.element.style.display = vision ? '' : 'none';
    if (vision) this.image.render(qk);
    else this.sentence.render(qk);
    this.analysis.render(qk);
  }

  /** The theme changed: the sentence view redraws its lines in the new colours. */
  applyTheme(qk: HeadQK | null): void {
    this.sentence.render(qk);
    this.analysis.render(qk);
  }

  dispose(): void {
    this.image.dispose();
    this.analysis.dispose();
  }
}
