/**
 * The content of a `.attnviz` tab: the whole view (matrix + head views) over a capture
 * file read straight from the server, no kernel. Q/K come per head from the file
 * (model/attnviz_file.ts) through the kernel-free host (host.ts).
 */
import { Widget } from '@lumino/widgets';
import { mountHost } from '../host';
import { AttnvizFileError, openAttnviz, type ByteSource } from '../model/attnviz_file';

/** Where the bytes come from and what to call the file in messages. */
export interface ViewerSource {
  name: string;
  /** Identifies this version of the file (layout cache key). */
  id: string;
  open(): Promise<ByteSource>;
}

const HTML_UNAVAILABLE = 'the file viewer has no HTML export; run `attentionviz html FILE.attnviz -o FILE.html` in a terminal';

export class AttnvizViewer extends Widget {
  private unmount: (() => void) | null = null;
  private readonly status: HTMLElement;

  constructor() {
    super();
    this.addClass('jp-AttnvizViewer');
    this.node.style.overflow = 'auto';
    this.node.style.padding = '4px 8px';
    this.status = document.createElement('div');
    this.status.className = 'jp-AttnvizViewer-status';
    this.node.append(this.status);
  }

  /** Read the file and show it; a bad file shows an error naming the problem instead. */
  async load(source: ViewerSource): Promise<void> {
    this.node.dataset.state = 'loading';
    this.status.textContent = `Reading ${source.name}…`;
    try {
      const reader = await openAttnviz(await source.open(), source.name);
      const { manifest } = reader;
      const tokens = await reader.tokens();
      const first = await reader.qk(0, 0);
      if (this.isDisposed) return;
      this.status.remove();
      this.unmount = mountHost(this.node, {
        traits: {
          view: 'matrix',
          head: [0, 0],
          n_layers: manifest.n_layers,
          n_heads: manifest.n_heads,
          scale: manifest.scale,
          mask: manifest.mask,
          model_name: `${manifest.model_name} · ${source.name}`,
          _capture_id: source.id,
          _tokens: tokens,
        },
        first,
        qkFor: (layer, head, rows) => reader.qk(layer, head, rows),
        image: (seq) => reader.image(seq),
        htmlUnavailable: HTML_UNAVAILABLE,
      });
      this.node.dataset.state = 'ready';
    } catch (error) {
      if (this.isDisposed) return;
      this.node.dataset.state = 'error';
      this.status.className = 'jp-AttnvizViewer-error';
      this.status.setAttribute('role', 'alert');
      this.status.style.color = 'var(--jp-error-color1, #c62828)';
      // Text only: a message may quote the file's own bytes. File errors already name the file.
      const text = error instanceof Error ? error.message : String(error);
      this.status.textContent = `attentionviz cannot open this file. ${error instanceof AttnvizFileError ? text : `${source.name}: ${text}`}`;
    }
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.unmount?.();
    this.unmount = null;
    super.dispose();
  }
}
