/**
 * An in-memory implementation of anywidget's model contract, for hosts without a
 * kernel: the standalone HTML export, the JupyterLab file viewer and browser tests.
 * `set` notifies listeners synchronously, like a Backbone model.
 */
import type { AnyModel } from '@anywidget/types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class MemoryModel<T extends Record<string, any>> implements AnyModel<T> {
  private readonly state: T;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The kernel's side: who hears what views send (see `onSent`). */
  private readonly sentListeners = new Set<(content: unknown, buffers: DataView[]) => void>();
  /** Not a real manager: standalone hosts hold exactly one model. */
  readonly widget_manager = {
    get_model: () => Promise.reject(new Error('no widget manager in a standalone view')),
  };

  /**
   * `onSend` stands in for the kernel: it receives what the view sends and may answer
   * through `deliver`.
   */
  constructor(
    initial: T,
    private readonly onSend?: (content: unknown, buffers: DataView[]) => void,
  ) {
    this.state = { ...initial };
  }

  get<K extends keyof T>(key: K): T[K] {
    return this.state[key];
  }

  set<K extends keyof T>(key: K, value: T[K]): void {
    if (Object.is(this.state[key], value)) return;
    this.state[key] = value;
    this.emit(`change:${String(key)}`);
  }

  on(eventName: string, callback: Listener): void {
    let set = this.listeners.get(eventName);
    if (!set) this.listeners.set(eventName, (set = new Set()));
    set.add(callback);
  }

  off(eventName?: string | null, callback?: Listener | null): void {
    if (!eventName) {
      this.listeners.clear();
      return;
    }
    if (!callback) this.listeners.delete(eventName);
    else this.listeners.get(eventName)?.delete(callback);
  }

  save_changes(): void {
    /* Nothing to sync to: the state lives here. */
  }

  send(content: unknown, _callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    const views = (buffers ?? []).map((b) =>
      b instanceof ArrayBuffer ? new DataView(b) : new DataView(b.buffer, b.byteOffset, b.byteLength),
    );
    // Asynchronous, like a kernel round trip, so callers never re-enter themselves.
    if (!this.onSend && this.sentListeners.size === 0) return;
    queueMicrotask(() => {
      this.onSend?.(content, views);
      for (const listener of [...this.sentListeners]) listener(content, views);
    });
  }

  /** The kernel's end: `listener` hears every message a view sends (after `onSend`); returns the removal. */
  onSent(listener: (content: unknown, buffers: DataView[]) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  /** A custom message from the host side ("msg:custom"), as a kernel would send it. */
  deliver(content: unknown, buffers: DataView[] = []): void {
    for (const callback of [...(this.listeners.get('msg:custom') ?? [])]) callback(content, buffers);
  }

  /** Number of registered listeners, so tests can check that views clean up. */
  listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  private emit(eventName: string): void {
    for (const callback of [...(this.listeners.get(eventName) ?? [])]) callback();
  }
}
