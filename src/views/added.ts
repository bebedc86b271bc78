/**
 * Text typed into the view, one state per model (shared by its views): fetch the ONNX
 * model from the host once (protocol/onnx_download.ts), compute every layer's Q/K in the
 * inference worker, keep them, and place the new tokens into whatever head layout each
 * view shows (layout/placement.ts). The added rows go back to the host as an
 * `added-tokens` notification so Python's `viz.added_tokens` / `viz.selection` know them.
 *
 * The inference code is injected (`InferenceApi`, given by the anywidget entry) so hosts
 * without a kernel (standalone HTML, the Lab file viewer) do not bundle onnxruntime.
 */
import { mergeLayouts, placeAddedTokens } from '../layout/placement';
import type { LayoutParams } from '../layout/types';
import type { ComputedQK, QKModelFiles, QKSession } from '../inference';
import { emptyAdded, withAddedRows, type AddedTokens } from '../model/added_tokens';
import type { HeadQK } from '../model/qk_source';
import type { TokenTable } from '../model/tokens';
import type { TextInputInfo, ViewModel } from '../model/traits';
import { downloadModelFiles } from '../protocol/onnx_download';
import type { ViewChannel } from '../protocol/transport';

export interface InferenceApi {
  load(files: QKModelFiles): Promise<QKSession>;
  compute(session: QKSession, texts: string[]): Promise<ComputedQK>;
}

/** Progress and outcome of one "add text", for the status line. */
export type AddedStatus = (text: string, state: 'idle' | 'busy' | 'error') => void;

/** Where one "add text" reports: the typing view's status line and notice. */
export interface AddedReport {
  status: AddedStatus;
  /** A notice the user must see (truncation). */
  notify: (text: string) => void;
}

const BACKEND_NAMES: Record<string, string> = { wasm: 'WASM', webgpu: 'WebGPU' };

export function textInputInfo(model: ViewModel): TextInputInfo | null {
  const info = model.get('_text_input');
  return info && typeof info === 'object' && 'n_layers' in info ? (info as TextInputInfo) : null;
}

export class AddedText {
  /** Added tokens in row order (rows N.. after the capture's N). */
  private tokens: AddedTokens = emptyAdded();
  /** One entry per added text: its Q/K of every layer ([n_heads, n_tokens, d_head]). */
  private readonly runs: ComputedQK[] = [];
  private session: Promise<QKSession> | null = null;
  /** Views to tell when the added tokens change (each re-places them in its heads). */
  private readonly listeners = new Set<() => void>();
  private merged: { base: TokenTable; table: TokenTable; count: number } | null = null;
  private disposed = false;

  constructor(
    private readonly model: ViewModel,
    private readonly channel: ViewChannel,
    private readonly inference: InferenceApi,
  ) {}

  /** Call `onChange` whenever tokens are added (by any view); returns the unsubscription. */
  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /** Number of added tokens. */
  count(): number {
    return this.tokens.text.length;
  }

  /** Run `text` through the model and add its tokens; progress goes to `report`. */
  async add(text: string, captureTokens: TokenTable | null, report: AddedReport): Promise<void> {
    const { status, notify } = report;
    try {
      const session = await this.loadSession(status);
      const backend = BACKEND_NAMES[session.backend] ?? session.backend;
      status(`computing on ${backend}…`, 'busy');
      const result = await this.inference.compute(session, [text]);
      if (this.disposed) return;
      this.append(text, result, captureTokens);
      const { original, kept } = result.lengths[0];
      if (result.truncated) {
        notify(`The text was cut to ${kept} tokens (the model's maximum, ${session.manifest.max_length}); it had ${original}. Only the first ${kept} are shown.`);
      }
      const cut = result.truncated ? ` (cut from ${original})` : '';
      status(`added ${kept} tokens${cut} · ${backend} · ${Math.round(result.runMs)} ms · ${this.count()} added in all`, 'idle');
      this.channel.notify('added-tokens', { tokens: this.tokens });
      for (const listener of [...this.listeners]) listener();
    } catch (error) {
      if (this.disposed) return;
      status(`could not add the text: ${error instanceof Error ? error.message : String(error)}`, 'error');
      throw error;
    }
  }

  /** The capture's token table followed by the added rows. */
  tokenTable(base: TokenTable | null): TokenTable | null {
    if (!base || this.count() === 0) return base;
    if (this.merged?.base === base && this.merged.count === this.count()) return this.merged.table;
    const table = withAddedRows(base, this.tokens);
    this.merged = { base, table, count: this.count() };
    return table;
  }

  /**
   * The capture's head `qk` and its layout extended with the added tokens: Q/K rows
   * N.. are the added ones (raw, for attention lines), positions are
   * [Q_capture, Q_added, K_capture, K_added] (see mergeLayouts), `marked` flags the
   * added points. Unchanged when nothing was added.
   */
  augment(qk: HeadQK, positions: Float32Array, params: Pick<LayoutParams, 'method' | 'dims' | 'normalize'>): { qk: HeadQK; positions: Float32Array; marked: Float32Array | null } {
    const m = this.count();
    if (m === 0 || !this.runs.length) return { qk, positions, marked: null };
    const run0 = this.runs[0];
    if (run0.dHead !== qk.dHead || qk.layer >= run0.layers.length || qk.head >= run0.nHeads) {
      throw new Error(`the typed-text model (d_head ${run0.dHead}, ${run0.layers.length} layers x ${run0.nHeads} heads) does not fit layer ${qk.layer} head ${qk.head} (d_head ${qk.dHead})`);
    }
    const added = this.headVectors(qk.layer, qk.head, qk.dHead);
    const placed = placeAddedTokens(qk, added, qk.dHead, positions, params);
    const n = qk.nTokens;
    const total = n + m;
    const queries = new Float32Array(total * qk.dHead);
    queries.set(qk.queries);
    queries.set(added.queries, n * qk.dHead);
    const keys = new Float32Array(total * qk.dHead);
    keys.set(qk.keys);
    keys.set(added.keys, n * qk.dHead);
    const marked = new Float32Array(2 * total);
    marked.fill(1, n, total);
    marked.fill(1, total + n, 2 * total);
    return {
      qk: { ...qk, nTokens: total, queries, keys },
      positions: mergeLayouts(positions, placed, n, m, params.dims),
      marked,
    };
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
    void this.session?.then((session) => session.dispose(), () => {});
  }

  /** Added tokens' Q and K of one head, [M, d_head] each, in row order. */
  private headVectors(layer: number, head: number, dHead: number): { queries: Float32Array; keys: Float32Array; nTokens: number } {
    const m = this.count();
    const queries = new Float32Array(m * dHead);
    const keys = new Float32Array(m * dHead);
    let row = 0;
    for (const run of this.runs) {
      const size = run.nTokens * dHead;
      const { q, k } = run.layers[layer];
      queries.set(q.subarray(head * size, (head + 1) * size), row * dHead);
      keys.set(k.subarray(head * size, (head + 1) * size), row * dHead);
      row += run.nTokens;
    }
    return { queries, keys, nTokens: m };
  }

  private append(text: string, result: ComputedQK, captureTokens: TokenTable | null): void {
    let seq = 0;
    for (const s of captureTokens?.rowsBySeq.keys() ?? []) seq = Math.max(seq, s + 1);
    for (const s of this.tokens.seq) seq = Math.max(seq, s + 1);
    const special = this.specialIds ?? new Set<number>();
    const t = this.tokens;
    result.tokens.text.forEach((token, i) => {
      t.text.push(token);
      t.seq.push(seq + result.tokens.seq[i]);
      t.pos.push(result.tokens.pos[i]);
      t.token_id.push(result.tokens.token_id[i]);
      t.special.push(special.has(result.tokens.token_id[i]));
      t.sentence.push(text);
    });
    this.runs.push(result);
  }

  private specialIds: Set<number> | null = null;

  private loadSession(status: AddedStatus): Promise<QKSession> {
    if (!this.session) {
      this.session = this.fetchFiles(status).then((files) => {
        const tokenizer = JSON.parse(new TextDecoder().decode(files.get('tokenizer')!)) as { added_tokens?: Array<{ id: number; special?: boolean }> };
        this.specialIds = new Set((tokenizer.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
        status('starting onnxruntime…', 'busy');
        return this.inference.load({
          model: files.get('model')!,
          tokenizer,
          tokenizerConfig: files.get('tokenizer_config'),
          manifest: files.get('manifest')!,
          wasm: files.get('wasm')!,
        });
      });
      // A failed load may be retried with the next text.
      this.session.catch(() => (this.session = null));
    }
    return this.session;
  }

  /** Ask the host for the model files (once per session), with progress on the status line. */
  private fetchFiles(status: AddedStatus): Promise<Map<string, Uint8Array>> {
    const info = textInputInfo(this.model);
    if (!info) return Promise.reject(new Error('this view has no ONNX model (create it with AttentionViz(cap, onnx=...))'));
    status(`loading model… 0% of ${megabytes(info.bytes)}`, 'busy');
    return downloadModelFiles(this.channel, (received, total) => {
      if (!this.disposed) status(`loading model… ${Math.min(100, Math.round((100 * received) / (total || 1)))}% of ${megabytes(total)}`, 'busy');
    });
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}
