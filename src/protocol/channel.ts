/**
 * One request/reply channel over anywidget's `msg:custom` (wire protocol v1), used by both
 * ends: the view (requests to its host, answers the host's `export`) and the kernel-free
 * host (host.ts, the other way round). Every message is a JSON object with a `kind`:
 *
 * - request `{kind, id, ...params}`: `id` from this channel's one counter;
 * - reply `{kind, reply_to, ok: true, ...result}` + buffers, or `{kind, reply_to, ok: false, error}`;
 * - notification `{kind, ...}`: neither `id` nor `reply_to`, never answered.
 *
 * A reply settles a pending request only when both `reply_to` and `kind` match, so a late,
 * duplicated or foreign reply never settles the wrong one. Every request ends settled: its
 * reply, its timeout (the error names the kind and the wait), `disconnect` or `dispose`.
 *
 * Why not anywidget's `experimental.invoke` (Python `@anywidget.experimental.command`):
 * it only carries view -> kernel calls, while Python's `viz.save` needs the opposite (the
 * kernel asks the view for a PNG), and it exists only under anywidget, not for the
 * in-memory hosts (standalone page, Lab file viewer) that speak the same protocol here.
 * One channel for both directions and every host keeps one matching rule.
 */
import type { KindTable } from './kinds';

/** Buffers a side may send; received ones are DataViews (anywidget's convention). */
export type OutBuffers = Array<ArrayBuffer | ArrayBufferView>;

/** How messages travel: anywidget's model on the view side, a MemoryModel's kernel end on a host's. */
export interface Transport {
  send(content: object, buffers: OutBuffers): void;
  /** Calls `receive` for every incoming message; returns the unsubscription. */
  listen(receive: (content: unknown, buffers: DataView[]) => void): () => void;
}

/** An ok reply: its fields (kind, reply_to and ok removed) and its buffers. */
export interface Reply<R> {
  result: R;
  buffers: DataView[];
}

/** What a handler of an incoming request returns: the reply's fields and buffers. */
export interface Answer<R> {
  result: R;
  buffers?: OutBuffers;
}

export type Handler<P, R> = (params: P, buffers: DataView[]) => Answer<R> | Promise<Answer<R>>;

/** What one end sends, answers, notifies and hears (see ViewSide / HostSide below). */
export interface ChannelSpec {
  requests: object;
  answers: object;
  notifies: object;
  hears: object;
}

type Params<T, K extends keyof T> = T[K] extends { params: infer P } ? P : never;
type Result<T, K extends keyof T> = T[K] extends { result: infer R } ? R : never;

interface Pending {
  kind: string;
  resolve: (reply: Reply<never>) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface RequestOptions {
  /** Overrides the kind's default timeout (ms). */
  timeoutMs?: number;
  buffers?: OutBuffers;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** "120 s", or "250 ms" under a second. */
export function waitText(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;

export class Channel<S extends ChannelSpec & { requests: KindTable<S['requests']>; answers: KindTable<S['answers']> }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /**
   * Per kind, the handlers of incoming requests (one per open view), in registration order.
   * The newest is asked first (the view last displayed); when it fails the next one is
   * asked, so a view that cannot answer (hidden, another pane) does not fail the request.
   */
  private readonly handlers = new Map<string, Array<Handler<never, object>>>();
  private readonly listeners = new Map<string, Set<(message: never) => void>>();
  /** Why no request can be answered any more (disconnect / dispose), or null. */
  private lost: string | null = null;
  private readonly unlisten: () => void;

  constructor(
    private readonly transport: Transport,
    private readonly timeouts: { [K in keyof S['requests']]: number },
  ) {
    this.unlisten = transport.listen(this.receive);
  }

  /** Send request `kind`; resolves with its ok reply, rejects with the host's error, a timeout or the loss of the host. */
  request<K extends keyof S['requests'] & string>(kind: K, params: Params<S['requests'], K>, options: RequestOptions = {}): Promise<Reply<Result<S['requests'], K>>> {
    if (this.lost !== null) return Promise.reject(new Error(this.lost));
    const id = this.nextId++;
    const wait = options.timeoutMs ?? this.timeouts[kind];
    return new Promise<Reply<Result<S['requests'], K>>>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, new Error(`the host did not answer the '${kind}' request within ${waitText(wait)}`)), wait);
      this.pending.set(id, { kind, resolve: resolve as Pending['resolve'], reject, timer });
      try {
        this.transport.send({ ...(params as object), kind, id }, options.buffers ?? []);
      } catch (error) {
        this.fail(id, new Error(`could not send the '${kind}' request: ${errorText(error)}`));
      }
    });
  }

  /** Send a notification (no reply). Dropped once the host is lost. */
  notify<K extends keyof S['notifies'] & string>(kind: K, message: S['notifies'][K]): void {
    if (this.lost === null) this.transport.send({ ...message, kind }, []);
  }

  /** Answer incoming requests of `kind` with `handler`; returns its removal. */
  handle<K extends keyof S['answers'] & string>(kind: K, handler: Handler<Params<S['answers'], K>, Result<S['answers'], K>>): () => void {
    const list = this.handlers.get(kind) ?? [];
    this.handlers.set(kind, list);
    const entry = handler as unknown as Handler<never, object>;
    list.push(entry);
    return () => {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** Hear notifications of `kind`; returns the removal. */
  on<K extends keyof S['hears'] & string>(kind: K, listener: (message: S['hears'][K]) => void): () => void {
    const set = this.listeners.get(kind) ?? new Set();
    this.listeners.set(kind, set);
    set.add(listener as (message: never) => void);
    return () => set.delete(listener as (message: never) => void);
  }

  /** Number of requests still waiting for their reply. */
  waiting(): number {
    return this.pending.size;
  }

  /** The host is gone (kernel restart): reject what waits and every later request with `reason`. */
  disconnect(reason: string): void {
    this.lost ??= reason;
    for (const id of [...this.pending.keys()]) this.fail(id, new Error(reason));
  }

  /** Stop listening; what still waits rejects with `reason`. */
  dispose(reason = 'the view was closed'): void {
    this.unlisten();
    this.disconnect(reason);
    this.handlers.clear();
    this.listeners.clear();
  }

  private fail(id: number, error: Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private readonly receive = (content: unknown, buffers: DataView[] = []): void => {
    if (!isRecord(content) || typeof content.kind !== 'string') return; // not protocol v1
    const { kind, id, reply_to: replyTo, ok, ...rest } = content;
    if (replyTo !== undefined) this.settle(kind, replyTo, ok, rest, buffers);
    else if (id !== undefined) {
      if (isId(id)) void this.answer(kind, id, rest, buffers);
    } else for (const listener of [...(this.listeners.get(kind) ?? [])]) listener(rest as never);
  };

  private settle(kind: string, replyTo: unknown, ok: unknown, rest: Record<string, unknown>, buffers: DataView[]): void {
    const pending = isId(replyTo) ? this.pending.get(replyTo) : undefined;
    // Late (already settled), foreign (never sent) or of another kind: not this request's reply.
    if (!pending || pending.kind !== kind) return;
    this.pending.delete(replyTo as number);
    clearTimeout(pending.timer);
    if (ok === true) {
      pending.resolve({ result: rest as never, buffers });
      return;
    }
    const error = typeof rest.error === 'string' && rest.error ? rest.error : `the host could not answer the '${kind}' request`;
    pending.reject(new Error(error));
  }

  private async answer(kind: string, id: number, params: Record<string, unknown>, buffers: DataView[]): Promise<void> {
    const handlers = [...(this.handlers.get(kind) ?? [])].reverse();
    let reply: { content: object; buffers: OutBuffers } = { content: { kind, reply_to: id, ok: false, error: `unknown request kind '${kind}'` }, buffers: [] };
    let firstError: string | null = null;
    for (const handler of handlers) {
      try {
        const answer = await handler(params as never, buffers);
        reply = { content: { ...answer.result, kind, reply_to: id, ok: true }, buffers: answer.buffers ?? [] };
        firstError = null;
        break;
      } catch (error) {
        // The newest view's reason is the one to report when none can answer.
        firstError ??= errorText(error);
      }
    }
    if (firstError !== null) reply = { content: { kind, reply_to: id, ok: false, error: firstError }, buffers: [] };
    if (this.lost === null) this.transport.send(reply.content, reply.buffers);
  }
}
