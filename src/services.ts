/**
 * What belongs to a model rather than to one view of it: the protocol channel, the Q/K
 * and image sources, the layout service (worker pool) and the typed-text state (ONNX files and
 * session). anywidget's `initialize` builds them once per model (index.ts); every
 * `render` of that model mounts a view on the same ones. Hosts without `initialize`
 * (standalone page, Lab viewer, tests) get them built by the first view of a model and
 * freed with its last.
 */
import { LayoutScope, type LayoutOwners } from './layout/scope';
import { LayoutService } from './layout/service';
import { ImageSource } from './model/image_source';
import { QKSource } from './model/qk_source';
import type { ViewModel } from './model/traits';
import { viewChannel, type ViewChannel } from './protocol/transport';
import { AddedText, textInputInfo, type InferenceApi } from './views/added';

/** What a host offers besides the model: `inference` enables the "Add text…" box (with `_text_input`). */
export interface ServiceOptions {
  inference?: InferenceApi;
}

/** Why requests fail after a kernel restart (ipywidgets' `comm_live_update`). */
export const KERNEL_LOST = 'The kernel was restarted: this view keeps what it shows but cannot load more data. Re-run the cell to recompute.';

export class ModelServices {
  readonly channel: ViewChannel;
  readonly qk: QKSource;
  readonly images: ImageSource;
  /** Layout workers (or this thread where they cannot start), shared by the model's views. */
  readonly layouts = new LayoutService();
  private readonly layoutOwners: LayoutOwners = new Map();
  private typed: AddedText | null = null;
  private disposed = false;

  constructor(
    readonly model: ViewModel,
    private readonly options: ServiceOptions = {},
  ) {
    this.channel = viewChannel(model);
    this.qk = new QKSource(this.channel);
    this.images = new ImageSource(this.channel);
    model.on('comm_live_update', this.onHostLost);
  }

  /** A view's own handle on the shared layouts (its cancels spare the other views' layouts). */
  layoutScope(): LayoutScope {
    return new LayoutScope(this.layouts, this.layoutOwners);
  }

  /** The typed-text state, when the host offers inference and the model an ONNX model (`_text_input`). */
  addedText(): AddedText | null {
    if (!this.typed && !this.disposed && this.options.inference && textInputInfo(this.model)) {
      this.typed = new AddedText(this.model, this.channel, this.options.inference);
    }
    return this.typed;
  }

  /** Free everything: workers, the ONNX session, the channel (pending requests reject). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.off('comm_live_update', this.onHostLost);
    this.typed?.dispose();
    this.layouts.dispose();
    this.channel.dispose();
  }

  private readonly onHostLost = (): void => this.channel.disconnect(KERNEL_LOST);
}

interface Entry {
  services: ModelServices;
  /** Built by `initialize`: freed by its cleanup, not by the last view. */
  ownedByModel: boolean;
  views: number;
}

/**
 * Services by model. anywidget hands `initialize` and each `render` a new proxy object of
 * the same model, so a model is known by its `_widget_id` (set by Python); hosts that
 * build a model by hand (no id) pass the same object to every view.
 */
const byId = new Map<string, Entry>();
const byObject = new WeakMap<object, Entry>();
const registry = {
  get(model: ViewModel): Entry | undefined {
    const id = model.get('_widget_id');
    return id ? byId.get(id) : byObject.get(model);
  },
  set(model: ViewModel, entry: Entry): void {
    const id = model.get('_widget_id');
    if (id) byId.set(id, entry);
    else byObject.set(model, entry);
  },
  delete(model: ViewModel): void {
    const id = model.get('_widget_id');
    if (id) byId.delete(id);
    else byObject.delete(model);
  },
};

/** anywidget's `initialize`: build the model's services; returns their cleanup. */
export function provideServices(model: ViewModel, options: ServiceOptions = {}): () => void {
  const previous = registry.get(model);
  if (previous) previous.ownedByModel = false; // a second initialize: the old ones go with their views
  const services = new ModelServices(model, options);
  registry.set(model, { services, ownedByModel: true, views: 0 });
  return () => {
    if (registry.get(model)?.services === services) registry.delete(model);
    services.dispose();
  };
}

/**
 * The services a view of `model` mounts on: those given, those of `initialize`, those of
 * another open view of the model, or new ones (freed by the returned `release` of the
 * last view that uses them).
 */
export function acquireServices(model: ViewModel, given: ModelServices | ServiceOptions = {}): { services: ModelServices; release: () => void } {
  if (given instanceof ModelServices) return { services: given, release: () => {} };
  let entry = registry.get(model);
  if (!entry) registry.set(model, (entry = { services: new ModelServices(model, given), ownedByModel: false, views: 0 }));
  const held = entry;
  held.views++;
  let released = false;
  return {
    services: held.services,
    release: () => {
      if (released) return;
      released = true;
      if (--held.views > 0 || held.ownedByModel) return;
      if (registry.get(model) === held) registry.delete(model);
      held.services.dispose();
    },
  };
}
