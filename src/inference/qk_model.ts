/**
 * Main-thread side of in-browser Q/K: start the inference worker (from a blob: URL of its
 * inlined bundle), hand it the ONNX bytes, tokenizer.json, the manifest and the
 * onnxruntime-web WASM binary, and run texts through it.
 */
import workerSource from './worker_source';
import { checkManifest } from './manifest';
import type { Backend, BackendChoice, OnnxManifest, Reply, RunResult } from './protocol';

type Bytes = ArrayBuffer | Uint8Array;

export interface QKModelFiles {
  /** The `.onnx` file written by `attentionviz.onnx.export`. */
  model: Bytes;
  /** tokenizer.json: parsed, or its text/bytes. */
  tokenizer: unknown;
  /** tokenizer_config.json (optional): parsed, or its text/bytes. */
  tokenizerConfig?: unknown;
  /** attnviz-onnx.json: parsed, or its text/bytes. */
  manifest: unknown;
  /** onnxruntime-web's `ort-wasm-simd-threaded.jsep.wasm` (shipped in attentionviz/static). */
  wasm: Bytes;
  /** `auto` (default): WebGPU when navigator.gpu has an adapter, else WASM. */
  backend?: BackendChoice;
}

/** Name of the onnxruntime-web WASM binary the worker bundle needs. */
export const ORT_WASM_FILE = 'ort-wasm-simd-threaded.jsep.wasm';

function toArrayBuffer(bytes: Bytes): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function parseJson(value: unknown, what: string): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' || value instanceof ArrayBuffer || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${what} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return value;
}

interface Pending {
  resolve: (result: RunResult) => void;
  reject: (error: Error) => void;
}

export class QKSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly url: string,
    readonly manifest: OnnxManifest,
    /** The execution provider that runs the model. */
    readonly backend: Backend,
    /** Why WebGPU was not used when `auto` was asked for (undefined if it was). */
    readonly fallbackReason: string | undefined,
  ) {
    worker.onmessage = (event: MessageEvent<Reply>) => this.onReply(event.data);
    worker.onerror = (event) => this.fail(new Error(`inference worker error: ${event.message}`));
  }

  static async load(files: QKModelFiles): Promise<QKSession> {
    const manifest = checkManifest(parseJson(files.manifest, 'attnviz-onnx.json'));
    const tokenizer = parseJson(files.tokenizer, 'tokenizer.json');
    const tokenizerConfig = parseJson(files.tokenizerConfig, 'tokenizer_config.json') ?? {};
    if (!files.model || !files.wasm) throw new Error('give both the ONNX model bytes and the onnxruntime WASM bytes');
    const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    const worker = new Worker(url);
    try {
      const ready = await new Promise<Extract<Reply, { type: 'ready' }>>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<Reply>) => {
          const reply = event.data;
          if (reply.type === 'ready') resolve(reply);
          else if (reply.type === 'init-error') reject(new Error(reply.message));
        };
        worker.onerror = (event) => reject(new Error(`inference worker failed to start: ${event.message}`));
        worker.postMessage({
          type: 'init',
          model: toArrayBuffer(files.model),
          tokenizer,
          tokenizerConfig,
          manifest,
          wasmBinary: toArrayBuffer(files.wasm),
          backend: files.backend ?? 'auto',
        });
      });
      return new QKSession(worker, url, manifest, ready.backend, ready.fallbackReason);
    } catch (error) {
      worker.terminate();
      URL.revokeObjectURL(url);
      throw error;
    }
  }

  /** Tokens and Q/K of every layer for `texts` (see RunResult). */
  run(texts: string[]): Promise<RunResult> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, texts });
    });
  }

  dispose(): void {
    this.fail(new Error('the Q/K session was closed'));
  }

  private onReply(reply: Reply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.type === 'result') pending.resolve(reply.result);
    else pending.reject(new Error(reply.message));
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = error;
    this.worker.terminate();
    URL.revokeObjectURL(this.url);
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/** Fetch an exported model folder (model.onnx, tokenizer.json, attnviz-onnx.json) and the
 * WASM binary from URLs (same-origin or local server; nothing else is fetched). */
export async function loadQKModelFromUrls(
  folderUrl: string,
  wasmUrl: string,
  backend: BackendChoice = 'auto',
  onnxFile?: string,
): Promise<QKSession> {
  const base = folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`;
  const get = async (url: string): Promise<ArrayBuffer> => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
    return response.arrayBuffer();
  };
  const manifest = checkManifest(JSON.parse(new TextDecoder().decode(await get(`${base}attnviz-onnx.json`))));
  const file = onnxFile ?? (manifest as OnnxManifest & { onnx_file?: string }).onnx_file ?? 'model.onnx';
  const [model, tokenizer, tokenizerConfig, wasm] = await Promise.all([
    get(`${base}${file}`),
    get(`${base}tokenizer.json`),
    get(`${base}tokenizer_config.json`).catch(() => undefined),
    get(wasmUrl),
  ]);
  return QKSession.load({ model, tokenizer, tokenizerConfig, manifest, wasm, backend });
}
