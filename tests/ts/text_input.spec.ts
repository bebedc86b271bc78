/**
 * The "Add text…" box on an in-memory model: the host (a fake kernel) answers the view's
 * onnx-files / onnx-chunk requests with binary chunks, a fake inference service returns
 * Q/K, and the new tokens appear in the head layout (real WebGL), in the token table and
 * at the host.
 * The fake's Q/K copy capture rows, so with PCA each added point must land exactly on
 * the point of the row it copies (same normalization constants, same axes).
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import type { ComputedQK, QKModelFiles, QKSession } from '../../src/inference';
import { MemoryModel } from '../../src/model/memory_model';
import { DEFAULT_TRAITS, type ViewTraits } from '../../src/model/traits';
import { hostChannel } from '../../src/protocol/transport';
import { createWidget } from '../../src/index';
import { mountView, type ViewHandle } from '../../src/view';
import type { InferenceApi } from '../../src/views/added';
import { gaussian, mulberry32, waitFor } from './helpers';

const N = 30;
const D = 8;
const PER_SEQ = 10;
const COPIED = [3, 11, 12, 25, 29]; // the capture rows the "typed" tokens copy
const TIMEOUT = 20000;

type ViewRoot = HTMLElement & { attentionviz: ViewHandle };

function tokenTable(): DataView {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'then', 'it', '.'];
  const pos = Int32Array.from({ length: N }, (_, i) => i % PER_SEQ);
  const bytes = tableToIPC(
    tableFromArrays({
      text: Array.from({ length: N }, (_, i) => words[i % PER_SEQ]),
      seq: Int32Array.from({ length: N }, (_, i) => Math.floor(i / PER_SEQ)),
      pos,
      label: Array.from({ length: N }, (_, i) => (i % 2 ? 'odd' : 'even')),
    }),
    'stream',
  );
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Q and K of (layer, head): [N, D] each, keys offset from queries. */
function headQK(layer: number, head: number): { queries: Float32Array; keys: Float32Array } {
  const normal = gaussian(mulberry32(100 + 10 * layer + head));
  return {
    queries: Float32Array.from({ length: N * D }, () => normal() + 1),
    keys: Float32Array.from({ length: N * D }, () => 2 * normal() - 3),
  };
}

function headTraits(layer: number, head: number): Pick<ViewTraits, '_queries' | '_keys' | '_qk_meta'> {
  const { queries, keys } = headQK(layer, head);
  return {
    _queries: new DataView(queries.buffer),
    _keys: new DataView(keys.buffer),
    _qk_meta: { layer, head, n_tokens: N, d_head: D, dtype: 'float32' },
  };
}

function state(): ViewTraits {
  return {
    ...DEFAULT_TRAITS,
    view: 'head',
    projection: 'pca',
    head: [0, 1],
    n_layers: 2,
    n_heads: 2,
    color_by: 'label',
    top_k: 3,
    scale: 1 / Math.sqrt(D),
    _capture_id: 'text-input-spec',
    theme: 'light',
    model_name: 'tiny',
    _tokens: tokenTable(),
    ...headTraits(0, 1),
    _text_input: { model_name: 'tiny', n_layers: 2, n_heads: 2, d_head: D, max_length: 5, dtype: 'float32', bytes: 3 * 1000 + 10 },
  };
}

/** The files the fake kernel sends; the fake inference checks they arrive byte-exact. */
const FILES: Record<string, Uint8Array> = {
  model: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256),
  tokenizer: new TextEncoder().encode(JSON.stringify({ model: {}, added_tokens: [{ id: 101, special: true }] }).padEnd(1000)),
  manifest: new TextEncoder().encode('{"format": "attnviz-onnx/1"}'.padEnd(10)),
  wasm: Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) % 256),
};

interface Host {
  model: MemoryModel<ViewTraits>;
  added: unknown[];
  /** `onnx-files` requests (one per model download) and the `onnx-chunk` requests after them. */
  requests: number;
  chunks: number;
}

/** A fake kernel speaking protocol v1: Q/K of any head, the ONNX files in 300-byte chunks, added tokens heard. */
function host(): Host {
  const h: Host = { model: new MemoryModel<ViewTraits>(state()), added: [], requests: 0, chunks: 0 };
  const kernel = hostChannel(h.model);
  kernel.on('added-tokens', ({ tokens }) => h.added.push(tokens));
  // Another head's Q/K (the compare view's right panel), as the kernel answers.
  kernel.handle('qk', ({ layer, head }) => {
    const { _queries, _keys, _qk_meta } = headTraits(layer, head);
    return { result: _qk_meta!, buffers: [_queries!, _keys!] };
  });
  kernel.handle('onnx-files', () => {
    h.requests++;
    return { result: { files: Object.fromEntries(Object.entries(FILES).map(([name, bytes]) => [name, bytes.length])) } };
  });
  kernel.handle('onnx-chunk', ({ file, offset }) => {
    h.chunks++;
    const bytes = FILES[file as keyof typeof FILES];
    const chunk = bytes.slice(offset, offset + 300);
    // Each chunk at an offset inside a bigger buffer, as in a websocket frame.
    const frame = new Uint8Array(chunk.length + 5);
    frame.set(chunk, 5);
    return { result: { file, offset, size: bytes.length }, buffers: [new DataView(frame.buffer, 5, chunk.length)] };
  });
  return h;
}

/** Fake inference: Q/K of the typed tokens copy the capture rows COPIED, for every layer/head. */
function fakeInference(calls: { loaded: QKModelFiles[]; truncated: boolean }): InferenceApi {
  const session = { backend: 'wasm', manifest: { max_length: 5 }, dispose: () => {} } as unknown as QKSession;
  return {
    load: async (files) => {
      calls.loaded.push(files);
      return session;
    },
    compute: async (_session, texts): Promise<ComputedQK> => {
      const m = COPIED.length;
      const layers = [0, 1].map((layer) => {
        const q = new Float32Array(2 * m * D);
        const k = new Float32Array(2 * m * D);
        for (let head = 0; head < 2; head++) {
          const { queries, keys } = headQK(layer, head);
          COPIED.forEach((row, i) => {
            q.set(queries.subarray(row * D, (row + 1) * D), (head * m + i) * D);
            k.set(keys.subarray(row * D, (row + 1) * D), (head * m + i) * D);
          });
        }
        return { q, k };
      });
      if (texts.length !== 1) throw new Error('the view sends one text at a time');
      return {
        tokens: { text: ['[CLS]', 'a', 'dog', '<b>x</b>', '[SEP]'], seq: [0, 0, 0, 0, 0], pos: [0, 1, 2, 3, 4], token_id: [101, 1, 2, 3, 102] },
        layers,
        nHeads: 2,
        dHead: D,
        nTokens: m,
        scale: 1,
        mask: 'bidirectional',
        backend: 'wasm',
        truncated: calls.truncated,
        lengths: [{ original: calls.truncated ? 9 : 5, kept: 5 }],
        runMs: 1,
      };
    },
  };
}

describe('typed text (Add text…)', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    document.querySelectorAll('.text-input-spec').forEach((el) => el.remove());
  });

  async function mount(inference: InferenceApi | undefined, model = host().model): Promise<ViewRoot> {
    const el = document.createElement('div');
    el.className = 'text-input-spec';
    el.style.cssText = 'width: 600px; height: 420px; position: relative;';
    document.body.append(el);
    cleanups.push(mountView(model, el, { inference }));
    return waitFor(() => el.querySelector<ViewRoot>('.attentionviz[data-ready="true"]'), 'a ready view');
  }

  function type(root: HTMLElement, text: string): void {
    const input = root.querySelector<HTMLInputElement>('.av-addtext input')!;
    input.value = text;
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  }

  const close = (a: [number, number], b: [number, number]): boolean => Math.hypot(a[0] - b[0], a[1] - b[1]) < 1e-2;

  it('is offered only with a model and an inference service', async () => {
    expect((await mount(undefined)).querySelector('.av-addtext')).toBeNull();
    const model = host().model;
    model.set('_text_input', {});
    expect((await mount(fakeInference({ loaded: [], truncated: false }), model)).querySelector('.av-addtext')).toBeNull();
  }, TIMEOUT);

  it('fetches the model once as chunks, places the tokens on their copied rows, and tells the host', async () => {
    const h = host();
    const calls = { loaded: [] as QKModelFiles[], truncated: false };
    const root = await mount(fakeInference(calls), h.model);
    const handle = root.attentionviz;
    expect(handle.pointCount()).toBe(2 * N);
    type(root, 'a dog <b>x</b>');
    await waitFor(() => root.dataset.added === '5', 'the added points');
    // Byte-exact files, reassembled from 300-byte chunks.
    expect(calls.loaded.length).toBe(1);
    for (const name of ['model', 'wasm', 'manifest'] as const) {
      expect(Array.from(calls.loaded[0][name] as Uint8Array)).toEqual(Array.from(FILES[name]));
    }
    expect(handle.pointCount()).toBe(2 * (N + 5));
    const T = N + 5;
    COPIED.forEach((row, i) => {
      expect(close(handle.canvasPosition(N + i), handle.canvasPosition(row))).withContext(`query ${i}`).toBeTrue();
      expect(close(handle.canvasPosition(T + N + i), handle.canvasPosition(T + row))).withContext(`key ${i}`).toBeTrue();
    });
    expect(handle.tokenRow(T + N + 2)).toBe(N + 2);
    expect(root.querySelector('.av-addtext-status')!.textContent).toMatch(/added 5 tokens · WASM/);
    // The host got the rows: after the capture's sequences, special tokens from tokenizer.json.
    await waitFor(() => h.added.length === 1, 'the added tokens at the host');
    expect(h.added[0]).toEqual({
      text: ['[CLS]', 'a', 'dog', '<b>x</b>', '[SEP]'],
      seq: [3, 3, 3, 3, 3],
      pos: [0, 1, 2, 3, 4],
      token_id: [101, 1, 2, 3, 102],
      special: [true, false, false, false, false],
      sentence: Array(5).fill('a dog <b>x</b>'),
    });

    // Selecting an added row shows its sentence (as text, never markup).
    h.model.set('_selected_rows', new DataView(Uint32Array.from([N + 2]).buffer));
    await waitFor(() => root.querySelectorAll('.av-sentence-query').length === 5, 'the sentence view of the typed text');
    expect(Array.from(root.querySelectorAll('.av-sentence-query'), (el) => el.textContent)).toEqual(['[CLS]', 'a', 'dog', '<b>x</b>', '[SEP]']);
    expect(root.querySelector('.av-sentence b')).toBeNull();

    // A second text reuses the model; another head re-places both from the stored Q/K.
    type(root, 'more');
    await waitFor(() => root.dataset.added === '10', 'the second text');
    expect(h.requests).toBe(1);
    expect(h.chunks).toBe(Object.values(FILES).reduce((count, bytes) => count + Math.ceil(bytes.length / 300), 0));
    h.model.set('head', [1, 0]);
    const traits = headTraits(1, 0);
    h.model.set('_queries', traits._queries);
    h.model.set('_keys', traits._keys);
    h.model.set('_qk_meta', traits._qk_meta);
    await waitFor(() => root.dataset.layer === '1' && root.dataset.head === '0', 'head (1, 0)');
    expect(root.dataset.added).toBe('10');
    COPIED.forEach((row, i) => {
      expect(close(handle.canvasPosition(N + 5 + i), handle.canvasPosition(row))).withContext(`second text, query ${i}`).toBeTrue();
    });
  }, TIMEOUT);

  it('in the compare view places the typed tokens in both panels, each in its own head', async () => {
    const h = host();
    h.model.set('view', 'compare');
    h.model.set('compare_head', [1, 0]);
    const el = document.createElement('div');
    el.className = 'text-input-spec';
    el.style.cssText = 'width: 800px; height: 420px; position: relative;';
    document.body.append(el);
    cleanups.push(mountView(h.model, el, { inference: fakeInference({ loaded: [], truncated: false }) }));
    type Panel = HTMLElement & { attentionviz: ViewHandle };
    const ready = (): Panel[] => [...el.querySelectorAll<Panel>('.av-compare-panel[data-ready="true"]')];
    await waitFor(() => ready().length === 2 || null, 'two ready compare panels');
    type(el, 'a dog <b>x</b>');
    const panels = await waitFor(() => (ready().every((panel) => panel.dataset.added === '5') ? ready() : null), 'the added points in both panels');
    expect(panels.map((panel) => [panel.dataset.layer, panel.dataset.head])).toEqual([
      ['0', '1'],
      ['1', '0'],
    ]);
    // The fake's typed tokens copy rows COPIED of every head: in each panel they land on those rows.
    for (const panel of panels) {
      const handle = panel.attentionviz;
      expect(handle.pointCount()).toBe(2 * (N + 5));
      COPIED.forEach((row, i) => {
        expect(close(handle.canvasPosition(N + i), handle.canvasPosition(row))).withContext(`${panel.dataset.side} panel, query ${i}`).toBeTrue();
      });
    }
  }, TIMEOUT);

  it('in the matrix view every thumbnail of this capture shows the typed tokens, ringed', async () => {
    const h = host();
    const root = await mount(fakeInference({ loaded: [], truncated: false }), h.model);
    const cells = (): HTMLElement[] => [...root.querySelectorAll<HTMLElement>('.av-cell')];
    /** Pixels of the ring colour (light theme: #111111) in a thumbnail: only marked points have them. */
    const ringPixels = (cell: HTMLElement): number => {
      const canvas = cell.querySelector('canvas')!;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 17 && data[i + 1] === 17 && data[i + 2] === 17) count++;
      return count;
    };
    h.model.set('view', 'matrix');
    await waitFor(() => cells().length === 4 && cells().every((cell) => cell.dataset.method === 'pca') || null, 'four PCA thumbnails');
    expect(cells().map((cell) => [cell.dataset.added, ringPixels(cell)])).toEqual([['0', 0], ['0', 0], ['0', 0], ['0', 0]]);
    h.model.set('view', 'head');
    await waitFor(() => root.querySelector('.av-addtext input') && root.dataset.ready === 'true' || null, 'the head view');
    type(root, 'a dog <b>x</b>');
    await waitFor(() => h.added.length === 1 || null, 'the typed tokens at the host');
    h.model.set('view', 'matrix');
    await waitFor(() => cells().length === 4 && cells().every((cell) => cell.dataset.method === 'pca' && cell.dataset.added === '5') || null, 'typed tokens in every thumbnail');
    for (const cell of cells()) {
      // 5 typed tokens x (query + key), each a one-pixel ring around a 4 x 4 point (fewer pixels where rings overlap or clip).
      expect(ringPixels(cell)).withContext(`L${cell.dataset.layer} H${cell.dataset.head}`).toBeGreaterThan(20);
    }
  }, TIMEOUT);

  it('says so when the text was cut to the model maximum', async () => {
    const root = await mount(fakeInference({ loaded: [], truncated: true }));
    type(root, 'a b c d e f g');
    await waitFor(() => root.dataset.added === '5', 'the added points');
    const notice = root.querySelector<HTMLElement>('.av-notice')!;
    expect(notice.classList.contains('av-visible')).toBeTrue();
    expect(notice.textContent).toMatch(/cut to 5 tokens .* it had 9/);
    expect(root.querySelector('.av-addtext-status')!.textContent).toMatch(/cut from 9/);
  }, TIMEOUT);

  it('shows a failed model request as an error, and the next text tries again', async () => {
    let fail = true;
    const model = new MemoryModel<ViewTraits>(state(), (content) => {
      const message = content as { kind: string; id: number };
      if (message.kind === 'onnx-files' && fail) model.deliver({ kind: 'onnx-files', reply_to: message.id, ok: false, error: 'no such file: model.onnx' });
    });
    const root = await mount(fakeInference({ loaded: [], truncated: false }), model);
    type(root, 'hello');
    const bar = await waitFor(() => root.querySelector<HTMLElement>('.av-addtext[data-state="error"]'), 'the error state');
    expect(bar.textContent).toContain('no such file: model.onnx');
    expect(root.dataset.added).toBe('0');
    fail = false; // the host now answers nothing: the view waits (busy), it does not crash
    type(root, 'hello');
    await waitFor(() => root.querySelector('.av-addtext[data-state="busy"]'), 'a retry');
  }, TIMEOUT);
});

describe('services per model (two views of one widget)', () => {
  const cleanups: Array<() => void> = [];
  const RealWorker = window.Worker;
  /** Every worker started while a spec runs: its script URL (one per pool) and whether it was terminated. */
  let workers: Array<{ url: string; terminated: boolean }> = [];
  beforeEach(() => {
    workers = [];
    class RecordingWorker extends RealWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        const record = { url: String(url), terminated: false };
        workers.push(record);
        const terminate = this.terminate.bind(this);
        this.terminate = () => {
          record.terminated = true;
          terminate();
        };
      }
    }
    window.Worker = RecordingWorker;
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    window.Worker = RealWorker;
    document.querySelectorAll('.services-spec').forEach((el) => el.remove());
  });

  const noKernel = (): Promise<never> => Promise.reject(new Error('no kernel in this test'));
  /** What anywidget hands `initialize` and each `render`: a new object over the same model. */
  const proxyOf = (model: MemoryModel<ViewTraits>): MemoryModel<ViewTraits> =>
    ({
      get: model.get.bind(model),
      set: model.set.bind(model),
      save_changes: model.save_changes.bind(model),
      send: model.send.bind(model),
      on: model.on.bind(model),
      off: model.off.bind(model),
    }) as unknown as MemoryModel<ViewTraits>;
  function container(): HTMLElement {
    const el = document.createElement('div');
    el.className = 'services-spec';
    el.style.cssText = 'width: 600px; height: 420px; position: relative;';
    document.body.append(el);
    return el;
  }
  async function render(widget: ReturnType<typeof createWidget>, model: MemoryModel<ViewTraits>): Promise<{ root: ViewRoot; close: () => void }> {
    const el = container();
    const cleanup = (await widget.render({ model, el, signal: new AbortController().signal, host: { getWidget: noKernel, getModel: noKernel }, experimental: { invoke: noKernel } })) as () => void;
    let closed = false;
    const close = (): void => {
      if (!closed) cleanup();
      closed = true;
    };
    cleanups.push(close);
    return { root: await waitFor(() => el.querySelector<ViewRoot>('.attentionviz[data-ready="true"]'), 'a ready view'), close };
  }
  const type = (root: HTMLElement, text: string): void => {
    const input = root.querySelector<HTMLInputElement>('.av-addtext input')!;
    input.value = text;
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  };

  it('share one pool, one channel and one ONNX download; closing one leaves the other working; the model cleanup ends the workers', async () => {
    const h = host();
    h.model.set('view', 'head');
    h.model.set('_widget_id', 'services-spec-widget'); // as Python sets it
    let qkRequests = 0;
    const exportReplies: unknown[] = [];
    h.model.onSent((content) => {
      const { kind, reply_to } = content as { kind?: string; reply_to?: number };
      if (kind === 'qk') qkRequests++;
      if (kind === 'export' && reply_to === 99) exportReplies.push(content);
    });
    const calls = { loaded: [] as QKModelFiles[], truncated: false };
    const widget = createWidget({ inference: fakeInference(calls) });
    // Like anywidget: initialize and each render get their own proxy of the one model.
    const endModel = (await widget.initialize!({ model: proxyOf(h.model), signal: new AbortController().signal, experimental: { invoke: noKernel } })) as () => void;
    cleanups.push(endModel);
    const first = await render(widget, proxyOf(h.model));
    const second = await render(widget, proxyOf(h.model));
    expect(workers.length).toBeGreaterThan(0);
    expect(new Set(workers.map((w) => w.url)).size).withContext('layout pools started').toBe(1);
    // One channel: the kernel's export request gets one reply, a figure.
    h.model.deliver({ kind: 'export', id: 99, format: 'png', scale: 1 });
    await waitFor(() => (exportReplies.length ? exportReplies : null), 'the export reply');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(exportReplies.length).withContext('replies to one export request').toBe(1);
    expect((exportReplies[0] as { ok?: boolean }).ok).toBeTrue();

    // Text typed in either view is the model's: both views show it, the files come once.
    type(first.root, 'a dog');
    await waitFor(() => first.root.dataset.added === '5' && second.root.dataset.added === '5', 'the typed tokens in both views');
    type(second.root, 'more');
    await waitFor(() => first.root.dataset.added === '10' && second.root.dataset.added === '10', 'the second text in both views');
    expect(h.requests).withContext('onnx-files requests').toBe(1);
    expect(calls.loaded.length).toBe(1);
    expect(h.added.length).toBe(2);

    // The first view closes; the second still fetches a head over the channel and draws it.
    first.close();
    const asked = qkRequests;
    h.model.set('compare_head', [1, 1]);
    h.model.set('view', 'compare');
    const panels = await waitFor(() => {
      const ready = [...second.root.querySelectorAll<ViewRoot>('.av-compare-panel[data-ready="true"]')];
      return ready.length === 2 && ready[1].dataset.layer === '1' && ready[1].dataset.head === '1' && ready[1].attentionviz.pointCount() > 0 ? ready : null;
    }, 'the fetched head in the remaining view');
    expect(qkRequests).toBeGreaterThan(asked);
    expect(panels[1].attentionviz.pointCount()).toBe(2 * (N + 10));
    expect(new Set(workers.map((w) => w.url)).size).toBe(1);

    // Both views closed: the model's services stay until its own cleanup.
    second.close();
    expect(workers.some((w) => !w.terminated)).withContext('workers alive while the model lives').toBeTrue();
    endModel();
    expect(workers.every((w) => w.terminated)).withContext('every worker terminated').toBeTrue();
    expect(h.model.listenerCount()).toBe(0);
  }, TIMEOUT * 2);

  it('without initialize, views of one model share the services the first one built; the last one frees them', async () => {
    const h = host();
    h.model.set('view', 'head');
    const elements = [container(), container()];
    const unmount = elements.map((el) => mountView(h.model, el));
    await Promise.all(elements.map((el) => waitFor(() => el.querySelector('.attentionviz[data-ready="true"]'), 'a ready view')));
    expect(new Set(workers.map((w) => w.url)).size).toBe(1);
    unmount[0]();
    expect(workers.some((w) => !w.terminated)).toBeTrue();
    unmount[1]();
    expect(workers.every((w) => w.terminated)).toBeTrue();
    expect(h.model.listenerCount()).toBe(0);
  }, TIMEOUT);
});
