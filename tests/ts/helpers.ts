/**
 * Shared test utilities: a seeded PRNG and Gaussian samples (so every run sees the same
 * data), a token table as the kernel sends it, polling, and synthetic pointer events.
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { hostModel, type HostOptions } from '../../src/host';
import type { MemoryModel } from '../../src/model/memory_model';
import type { ViewTraits } from '../../src/model/traits';
import { mountView } from '../../src/view';

/** mulberry32: a small, well-mixed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = 1 - random(); // (0, 1]: log(u) is finite
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** Polls `probe` every 10 ms until it returns something truthy; fails naming `what`. */
export async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeout = 15000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A token table as the kernel sends it (Arrow IPC stream): `nTokens` rows in sequences of
 * `tokensPerSeq`, columns text (from `text(row)`), seq, pos, pos_norm, token_id (1000 +
 * row) and special (the first token of each sequence).
 */
export function tokenTable(nTokens: number, tokensPerSeq: number, text: (row: number) => string): DataView {
  const seq = Int32Array.from({ length: nTokens }, (_, i) => Math.floor(i / tokensPerSeq));
  const pos = Int32Array.from({ length: nTokens }, (_, i) => i % tokensPerSeq);
  const bytes = tableToIPC(
    tableFromArrays({
      text: Array.from({ length: nTokens }, (_, i) => text(i)),
      seq,
      pos,
      pos_norm: Float32Array.from(pos, (p) => p / (tokensPerSeq - 1)),
      token_id: Int32Array.from({ length: nTokens }, (_, i) => 1000 + i),
      special: Array.from(pos, (p) => p === 0),
    }),
    'stream',
  );
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Dispatch a mouse PointerEvent of `type` at (x, y) CSS px from the top left of `plot`;
 * buttons follow the type (down: pressed, up: released) unless `init` says otherwise.
 */
export function dispatchPointer(plot: HTMLElement, type: string, x: number, y: number, init: PointerEventInit = {}): void {
  const rect = plot.getBoundingClientRect();
  plot.dispatchEvent(
    new PointerEvent(type, {
      bubbles: true,
      cancelable: true,
      composed: true,
      pointerId: 1,
      pointerType: 'mouse',
      isPrimary: true,
      button: type === 'pointermove' ? -1 : 0,
      buttons: type === 'pointerup' ? 0 : type === 'pointerdown' ? 1 : init.buttons ?? 0,
      clientX: rect.left + x,
      clientY: rect.top + y,
      ...init,
    }),
  );
}

/**
 * The whole view mounted on a kernel-free host (`hostModel`) in a `width` x `height`
 * container; its teardown (unmount, host, container) is pushed onto `cleanups`.
 */
export function mountOnHost(options: HostOptions, size: { width: number; height: number }, cleanups: Array<() => void>): { model: MemoryModel<ViewTraits>; root: HTMLElement } {
  const host = hostModel(options);
  const el = document.createElement('div');
  el.style.cssText = `width: ${size.width}px; height: ${size.height}px; position: relative;`;
  document.body.append(el);
  const unmount = mountView(host.model, el);
  cleanups.push(() => {
    unmount();
    host.dispose();
    el.remove();
  });
  return { model: host.model, root: el.querySelector<HTMLElement>('.attentionviz')! };
}
