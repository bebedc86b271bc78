/**
 * Messages between the main thread (qk_model.ts) and the inference worker (worker.ts),
 * and the manifest written next to the ONNX file by `attentionviz.onnx.export`.
 */

/** `attnviz-onnx.json`. */
export interface OnnxManifest {
  format: string;
  model_name: string;
  architecture: string;
  dtype: string;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  d_head: number;
  scale: number;
  mask: 'causal' | 'bidirectional';
  max_length: number;
  inputs: string[];
  outputs: { q: string[]; k: string[] };
}

export const MANIFEST_FORMAT = 'attnviz-onnx/1';

/** Which onnxruntime-web execution provider to use; `auto`: WebGPU if an adapter exists. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';
export type Backend = 'webgpu' | 'wasm';

export interface InitRequest {
  type: 'init';
  model: ArrayBuffer;
  tokenizer: unknown;
  tokenizerConfig: unknown;
  manifest: OnnxManifest;
  wasmBinary: ArrayBuffer;
  backend: BackendChoice;
}

export interface RunRequest {
  type: 'run';
  id: number;
  texts: string[];
}

export type Request = InitRequest | RunRequest;

/** One text's tokens after truncation. */
export interface EncodedText {
  ids: number[];
  /** Token text as a reader sees it (`##ing` -> `ing`, GPT-2 `Ġthe` -> `the`). */
  text: string[];
  truncated: boolean;
  /** Token count before truncation. */
  originalLength: number;
}

export interface RunResult {
  encoded: EncodedText[];
  /** Per layer, Q `[n_heads, n_tokens, d_head]` and K `[n_kv_heads, n_tokens, d_head]`,
   * tokens of all texts concatenated in order (like a Python capture). */
  layers: Array<{ q: Float32Array; k: Float32Array }>;
  /** Milliseconds spent in session.run (sum over texts). */
  runMs: number;
}

export type Reply =
  | { type: 'ready'; backend: Backend; fallbackReason?: string }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'error'; id: number; message: string };
