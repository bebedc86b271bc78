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
  /** Not a real manager: standalone hosts hold exactly one model. */
  readonly widget_manager = {
    get_model: () => Promise.reject(new Error('no widget manager in a standalone view')),
  };

  constructor(initial: T) {
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

  send(): void {
    /* No kernel to send custom messages to. */
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
