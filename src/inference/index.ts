/**
 * In-browser Q/K: tokenizer.json + an ONNX model exported by `attentionviz.onnx.export`,
 * run by onnxruntime-web in a worker (WebGPU when available, WASM otherwise).
 *
 *   const session = await loadQKModel({ model, tokenizer, manifest, wasm });
 *   const { tokens, layers, backend, truncated } = await computeQK(session, ['some text']);
 */
import { QKSession } from './qk_model';
import type { QKModelFiles } from './qk_model';
import type { Backend } from './protocol';

export { QKSession, loadQKModelFromUrls, ORT_WASM_FILE, type QKModelFiles } from './qk_model';
export type { Backend, BackendChoice, OnnxManifest } from './protocol';

export const loadQKModel = (files: QKModelFiles): Promise<QKSession> => QKSession.load(files);

export interface ComputedQK {
  /** One row per token, texts in order (like a capture's token table). */
  tokens: { text: string[]; seq: number[]; pos: number[]; token_id: number[] };
  /** Per layer, Q and K `[n_heads, n_tokens, d_head]` row-major (grouped-query K heads are
   * repeated onto the query heads that share them). */
  layers: Array<{ q: Float32Array; k: Float32Array }>;
  nHeads: number;
  dHead: number;
  nTokens: number;
  scale: number;
  mask: 'causal' | 'bidirectional';
  backend: Backend;
  /** True if any text was cut to the model's maximum length. */
  truncated: boolean;
  /** Per text: tokens before truncation and tokens kept. */
  lengths: Array<{ original: number; kept: number }>;
  /** Model time in milliseconds (onnxruntime session.run, summed over texts). */
  runMs: number;
}

export async function computeQK(session: QKSession, texts: string[]): Promise<ComputedQK> {
  const { encoded, layers, runMs } = await session.run(texts);
  const m = session.manifest;
  const tokens = { text: [] as string[], seq: [] as number[], pos: [] as number[], token_id: [] as number[] };
  encoded.forEach((e, seq) => {
    e.ids.forEach((id, pos) => {
      tokens.text.push(e.text[pos]);
      tokens.seq.push(seq);
      tokens.pos.push(pos);
      tokens.token_id.push(id);
    });
  });
  const nTokens = tokens.token_id.length;
  const group = m.n_heads / m.n_kv_heads;
  const perHead = nTokens * m.d_head;
  const expanded =
    group === 1
      ? layers
      : layers.map(({ q, k }) => {
          const full = new Float32Array(m.n_heads * perHead);
          for (let h = 0; h < m.n_heads; h++) {
            const kv = Math.floor(h / group);
            full.set(k.subarray(kv * perHead, (kv + 1) * perHead), h * perHead);
          }
          return { q, k: full };
        });
  return {
    tokens,
    layers: expanded,
    nHeads: m.n_heads,
    dHead: m.d_head,
    nTokens,
    scale: m.scale,
    mask: m.mask,
    backend: session.backend,
    truncated: encoded.some((e) => e.truncated),
    lengths: encoded.map((e) => ({ original: e.originalLength, kept: e.ids.length })),
    runMs,
  };
}
