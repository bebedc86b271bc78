/**
 * The single-head view's camera follows the `camera` trait (compare panels keep their
 * own): restored when the first layout is shown, saved as it moves.
 */
import type { ScatterScene } from '../../render/scatter';
import type { ViewContext } from '../context';

/** Dragging must not flood the kernel: the camera is saved this long after it stops moving. */
const SAVE_DELAY_MS = 300;

export class CameraSync {
  private timer = 0;
  private restoring = false;

  constructor(
    private readonly ctx: ViewContext,
    private readonly scene: () => ScatterScene | null,
  ) {}

  restore(): void {
    const camera = this.ctx.model.get('camera');
    const scene = this.scene();
    if (!camera || !scene || !Object.keys(camera).length) return;
    this.restoring = true;
    scene.setCamera(camera);
    this.restoring = false;
  }

  /** The camera moved: save it once it rests (not the move restore() makes). */
  saveSoon(): void {
    if (this.restoring || !this.scene()) return;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      const scene = this.scene();
      if (scene) this.ctx.update({ camera: scene.getCamera() });
    }, SAVE_DELAY_MS);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
  }
}
