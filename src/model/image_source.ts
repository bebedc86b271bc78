/**
 * Images of a vision capture, asked of the host once per model (`image` requests, see
 * protocol/kinds.ts) and kept as PNG blobs: every view of the model draws from them.
 */
import type { ViewChannel } from '../protocol/transport';

export class ImageSource {
  private readonly pictures = new Map<number, Promise<Blob>>();

  constructor(private readonly channel: ViewChannel) {}

  /** The PNG of sequence `seq`; rejects when the host has none (kept: not asked again). */
  png(seq: number): Promise<Blob> {
    let picture = this.pictures.get(seq);
    if (!picture) {
      picture = this.channel.request('image', { seq }).then(({ buffers }) => {
        const view = buffers[0];
        if (!view) throw new Error(`the host sent image ${seq} without its bytes`);
        return new Blob([view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer], { type: 'image/png' });
      });
      this.pictures.set(seq, picture);
    }
    return picture;
  }
}
