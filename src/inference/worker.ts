/**
 * The inference worker: tokenizer + onnxruntime-web session. Built as its own bundle
 * (webpack config `inference-worker`) and started from a blob: URL by qk_model.ts, so it
 * runs wherever the widget's single ES module loads. The WASM runtime comes as bytes in the
 * init message (never fetched from a CDN).
 */
import * as ort from 'onnxruntime-web';
import type { Backend, BackendChoice, InitRequest, OnnxManifest, Reply, Request, RunResult } from './protocol';
import { checkManifest, missingOutputs } from './manifest';
import { TextTokenizer } from './tokenize';

interface Loaded {
  session: ort.InferenceSession;
  manifest: OnnxManifest;
  tokenizer: TextTokenizer;
}

const scope = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  navigator: Navigator & { gpu?: { requestAdapter(): Promise<unknown | null> } };
  crossOriginIsolated?: boolean;
};

let loaded: Promise<Loaded> | null = null;

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'init') {
    loaded = init(request);
    loaded.catch((error: unknown) => scope.postMessage({ type: 'init-error', message: messageOf(error) }));
  } else if (request.type === 'run') {
    if (!loaded) {
      scope.postMessage({ type: 'error', id: request.id, message: 'the model is not loaded' });
      return;
    }
    loaded
      .then((model) => run(model, request.texts))
      .then(
        (result) => {
          const transfer = result.layers.flatMap(({ q, k }) => [q.buffer, k.buffer]);
          scope.postMessage({ type: 'result', id: request.id, result }, transfer);
        },
        (error: unknown) => scope.postMessage({ type: 'error', id: request.id, message: messageOf(error) }),
      );
  }
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function hasWebGPU(): Promise<string | null> {
  const gpu = scope.navigator.gpu;
  if (!gpu) return 'navigator.gpu is not available (no WebGPU in this browser/context)';
  try {
    return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() returned no adapter';
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${messageOf(error)}`;
  }
}

async function createSession(model: Uint8Array, backend: Backend): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
}

async function init(request: InitRequest): Promise<Loaded> {
  const manifest = checkManifest(request.manifest);
  const tokenizer = new TextTokenizer(request.tokenizer, request.tokenizerConfig, manifest.max_length);
  ort.env.wasm.wasmBinary = request.wasmBinary;
  ort.env.wasm.proxy = false;
  // Threads need SharedArrayBuffer, i.e. a cross-origin-isolated page (Jupyter is not).
  ort.env.wasm.numThreads = scope.crossOriginIsolated
    ? Math.max(1, Math.min(4, scope.navigator.hardwareConcurrency || 1))
    : 1;
  ort.env.logLevel = 'error';
  const model = new Uint8Array(request.model);
  const choice: BackendChoice = request.backend;
  let backend: Backend = 'wasm';
  let fallbackReason: string | undefined;
  let session: ort.InferenceSession | null = null;
  if (choice !== 'wasm') {
    const problem = await hasWebGPU();
    if (problem === null) {
      try {
        session = await createSession(model, 'webgpu');
        backend = 'webgpu';
      } catch (error) {
        if (choice === 'webgpu') throw new Error(`WebGPU session failed: ${messageOf(error)}`);
        fallbackReason = `WebGPU session failed: ${messageOf(error)}`;
      }
    } else if (choice === 'webgpu') {
      throw new Error(`WebGPU was requested but ${problem}`);
    } else {
      fallbackReason = problem;
    }
  }
  session ??= await createSession(model, 'wasm');
  const missing = missingOutputs(manifest, session.outputNames, session.inputNames);
  if (missing) {
    await session.release();
    throw new Error(missing);
  }
  scope.postMessage({ type: 'ready', backend, fallbackReason });
  return { session, manifest, tokenizer };
}

async function run({ session, manifest, tokenizer }: Loaded, texts: string[]): Promise<RunResult> {
  if (!Array.isArray(texts) || texts.length === 0) throw new Error('give at least one text');
  const encoded = texts.map((text, i) => {
    try {
      return tokenizer.encode(text);
    } catch (error) {
      throw new Error(`texts[${i}] ${messageOf(error)}`);
    }
  });
  const total = encoded.reduce((n, e) => n + e.ids.length, 0);
  const { n_layers: nLayers, n_heads: nHeads, n_kv_heads: nKv, d_head: dHead } = manifest;
  const layers = Array.from({ length: nLayers }, () => ({
    q: new Float32Array(nHeads * total * dHead),
    k: new Float32Array(nKv * total * dHead),
  }));
  let offset = 0;
  let runMs = 0;
  for (const { ids } of encoded) {
    const n = ids.length;
    const inputIds = new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, n]);
    const mask = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    const started = performance.now();
    const out = await session.run({ input_ids: inputIds, attention_mask: mask });
    runMs += performance.now() - started;
    for (let layer = 0; layer < nLayers; layer++) {
      scatter(out[manifest.outputs.q[layer]], layers[layer].q, nHeads, n, total, offset, dHead, `q.${layer}`);
      scatter(out[manifest.outputs.k[layer]], layers[layer].k, nKv, n, total, offset, dHead, `k.${layer}`);
    }
    for (const tensor of Object.values(out)) tensor.dispose();
    inputIds.dispose();
    mask.dispose();
    offset += n;
  }
  return { encoded, layers, runMs };
}

/** `[1, heads, n, d]` of one text into `[heads, total, d]` at row `offset`. */
function scatter(
  tensor: ort.Tensor | undefined,
  dest: Float32Array,
  heads: number,
  n: number,
  total: number,
  offset: number,
  d: number,
  name: string,
): void {
  if (!tensor) throw new Error(`the model returned no ${name}`);
  const dims = tensor.dims;
  if (tensor.type !== 'float32' || dims.length !== 4 || dims[1] !== heads || dims[2] !== n || dims[3] !== d) {
    throw new Error(`${name} is ${tensor.type} [${dims.join(', ')}], expected float32 [1, ${heads}, ${n}, ${d}]`);
  }
  const src = tensor.data as Float32Array;
  for (let h = 0; h < heads; h++) {
    dest.set(src.subarray(h * n * d, (h + 1) * n * d), (h * total + offset) * d);
  }
}
