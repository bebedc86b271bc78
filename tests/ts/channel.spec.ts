/**
 * The protocol v1 channel (src/protocol/channel.ts) on a fake transport: ids from one
 * counter, replies matched on reply_to and kind, timeouts naming the kind and the wait,
 * host errors, disconnect and dispose, incoming requests and notifications; then
 * property tests: whatever the host sends back (out of order, duplicated, of another
 * kind, to ids never sent, nothing), no request is settled by another's reply and every
 * request ends settled.
 */
import fc from 'fast-check';
import { Channel, type Transport } from '../../src/protocol/channel';
import { VIEW_REQUEST_TIMEOUTS, type ViewSide } from '../../src/protocol/kinds';

interface FakeTransport extends Transport {
  sent: Array<{ content: Record<string, unknown>; buffers: unknown[] }>;
  deliver(content: unknown, buffers?: DataView[]): void;
  listening(): number;
}

function fakeTransport(): FakeTransport {
  const receivers = new Set<(content: unknown, buffers: DataView[]) => void>();
  return {
    sent: [],
    send(content, buffers) {
      this.sent.push({ content: content as Record<string, unknown>, buffers });
    },
    listen(receive) {
      receivers.add(receive);
      return () => receivers.delete(receive);
    },
    deliver(content, buffers = []) {
      for (const receive of [...receivers]) receive(content, buffers);
    },
    listening: () => receivers.size,
  };
}

const META = { layer: 1, head: 2, n_tokens: 3, d_head: 4, dtype: 'float32' as const };
/** Lets pending promise callbacks run (the clock is mocked: no timers to wait on). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('protocol channel', () => {
  let transport: FakeTransport;
  let channel: Channel<ViewSide>;
  beforeEach(() => {
    jasmine.clock().install();
    transport = fakeTransport();
    channel = new Channel<ViewSide>(transport, VIEW_REQUEST_TIMEOUTS);
  });
  afterEach(() => {
    channel.dispose();
    jasmine.clock().uninstall();
  });

  it('numbers requests of every kind from one counter and resolves each with its own reply', async () => {
    const qk = channel.request('qk', { layer: 1, head: 2, rows: 3 });
    const image = channel.request('image', { seq: 4 });
    const chunk = channel.request('onnx-chunk', { file: 'model', offset: 0 });
    expect(transport.sent.map((m) => m.content)).toEqual([
      { kind: 'qk', id: 1, layer: 1, head: 2, rows: 3 },
      { kind: 'image', id: 2, seq: 4 },
      { kind: 'onnx-chunk', id: 3, file: 'model', offset: 0 },
    ]);
    const q = new DataView(new ArrayBuffer(48));
    const k = new DataView(new ArrayBuffer(48));
    // Out of order: the image and the chunk before the Q/K.
    transport.deliver({ kind: 'image', reply_to: 2, ok: true, seq: 4 }, [q]);
    transport.deliver({ kind: 'onnx-chunk', reply_to: 3, ok: true, file: 'model', offset: 0, size: 10 }, [k]);
    transport.deliver({ kind: 'qk', reply_to: 1, ok: true, ...META }, [q, k]);
    expect(await qk).toEqual({ result: META, buffers: [q, k] });
    expect((await image).result).toEqual({ seq: 4 });
    expect((await chunk).result).toEqual({ file: 'model', offset: 0, size: 10 });
    expect(channel.waiting()).toBe(0);
  });

  it('a reply of another kind with the same number never settles a Q/K request', async () => {
    let settled = false;
    const qk = channel.request('qk', { layer: 0, head: 0 });
    void qk.then(() => (settled = true), () => (settled = true));
    transport.deliver({ kind: 'image', reply_to: 1, ok: false, error: 'no image' });
    transport.deliver({ kind: 'onnx-chunk', reply_to: 1, ok: true, file: 'model', offset: 0, size: 1 });
    await flush();
    expect(settled).toBeFalse();
    transport.deliver({ kind: 'qk', reply_to: 1, ok: true, ...META }, [new DataView(new ArrayBuffer(48)), new DataView(new ArrayBuffer(48))]);
    expect((await qk).result.n_tokens).toBe(3);
  });

  it('an ok: false reply rejects with the host message; one without a message names the kind', async () => {
    const first = channel.request('html', {});
    const second = channel.request('image', { seq: 0 });
    transport.deliver({ kind: 'html', reply_to: 1, ok: false, error: 'the file viewer has no HTML export' });
    transport.deliver({ kind: 'image', reply_to: 2, ok: 'yes' });
    await expectAsync(first).toBeRejectedWithError('the file viewer has no HTML export');
    await expectAsync(second).toBeRejectedWithError("the host could not answer the 'image' request");
  });

  it('a request without an answer rejects after its kind\'s timeout, naming kind and wait; the late reply is ignored', async () => {
    const qk = channel.request('qk', { layer: 0, head: 0 });
    const image = channel.request('image', { seq: 1 }, { timeoutMs: 250 });
    let qkDone = false;
    void qk.catch(() => (qkDone = true));
    jasmine.clock().tick(250);
    await expectAsync(image).toBeRejectedWithError("the host did not answer the 'image' request within 250 ms");
    jasmine.clock().tick(119_000);
    await flush();
    expect(qkDone).toBeFalse();
    jasmine.clock().tick(1_000);
    await expectAsync(qk).toBeRejectedWithError("the host did not answer the 'qk' request within 120 s");
    transport.deliver({ kind: 'qk', reply_to: 1, ok: true, ...META }, []);
    expect(channel.waiting()).toBe(0);
  });

  it('disconnect rejects what waits and every later request with the reason; dispose stops listening', async () => {
    const waiting = channel.request('onnx-files', {});
    channel.disconnect('The kernel was restarted');
    await expectAsync(waiting).toBeRejectedWithError('The kernel was restarted');
    await expectAsync(channel.request('qk', { layer: 0, head: 0 })).toBeRejectedWithError('The kernel was restarted');
    expect(transport.sent.length).toBe(1);
    channel.notify('added-tokens', { tokens: { text: [], seq: [], pos: [], token_id: [], special: [], sentence: [] } });
    expect(transport.sent.length).toBe(1);

    const other = new Channel<ViewSide>(transport, VIEW_REQUEST_TIMEOUTS);
    const pending = other.request('html', {});
    expect(transport.listening()).toBe(2);
    other.dispose();
    expect(transport.listening()).toBe(1);
    await expectAsync(pending).toBeRejectedWithError('the view was closed');
  });

  it('answers host requests with the same kind and reply_to; errors and unknown kinds become ok: false', async () => {
    const bytes = new ArrayBuffer(8);
    const first = jasmine.createSpy('first').and.callFake(async ({ format }: { format: 'png' | 'svg' }) => ({ result: { format }, buffers: [bytes] }));
    const removeFirst = channel.handle('export', first);
    const failing = jasmine.createSpy('second').and.throwError('the matrix view exports as PNG only');
    const second = channel.handle('export', failing);
    transport.deliver({ kind: 'export', id: 7, format: 'png', scale: 2 });
    await flush();
    // The newest view is asked first; it fails, so the older one answers.
    expect(failing).toHaveBeenCalledOnceWith({ format: 'png', scale: 2 }, []);
    expect(first).toHaveBeenCalledOnceWith({ format: 'png', scale: 2 }, []);
    expect(transport.sent.pop()).toEqual({ content: { kind: 'export', reply_to: 7, ok: true, format: 'png' }, buffers: [bytes] });
    removeFirst(); // the older view closed: the newest one's error is the answer
    transport.deliver({ kind: 'export', id: 8, format: 'svg', scale: 1 });
    await flush();
    expect(transport.sent.pop()!.content).toEqual({ kind: 'export', reply_to: 8, ok: false, error: 'the matrix view exports as PNG only' });
    second();
    transport.deliver({ kind: 'export', id: 9, format: 'svg', scale: 1 });
    transport.deliver({ kind: 'shutdown', id: 10 });
    await flush();
    expect(transport.sent.splice(0).map((m) => m.content)).toEqual([
      { kind: 'export', reply_to: 9, ok: false, error: "unknown request kind 'export'" },
      { kind: 'shutdown', reply_to: 10, ok: false, error: "unknown request kind 'shutdown'" },
    ]);
  });

  it('sends notifications without id; ignores messages that are not protocol v1', async () => {
    channel.notify('added-tokens', { tokens: { text: ['a'], seq: [1], pos: [0], token_id: [5], special: [false], sentence: ['a'] } });
    expect(Object.keys(transport.sent[0].content).sort()).toEqual(['kind', 'tokens']);
    const qk = channel.request('qk', { layer: 0, head: 0 });
    // Notifications take no id: the Q/K request is number 1.
    for (const junk of [null, 'qk', 7, [], { reply_to: 1, ok: true }, { type: 'qk', request: 1 }, { kind: 3, reply_to: 1, ok: true }, { kind: 'qk', reply_to: '1', ok: true }, { kind: 'qk', id: -1 }]) {
      expect(() => transport.deliver(junk)).not.toThrow();
    }
    await flush();
    expect(channel.waiting()).toBe(1);
    expect(transport.sent.length).toBe(2); // no answer to the malformed "request"
    transport.deliver({ kind: 'qk', reply_to: 1, ok: true, ...META }, []);
    await expectAsync(qk).toBeResolved();
  });
});

// ------------------------------------------------------------------ properties

const KINDS = ['qk', 'image', 'onnx-files', 'onnx-chunk', 'html'] as const;
type Kind = (typeof KINDS)[number];
const PARAMS: { [K in Kind]: object } = { qk: { layer: 0, head: 0 }, image: { seq: 0 }, 'onnx-files': {}, 'onnx-chunk': { file: 'model', offset: 0 }, html: {} };

/** What the host sends back: a reply (ok or not, right kind or another) to request `target` (possibly one never sent), or junk. */
const hostEvent = fc.oneof(
  fc.record({ type: fc.constant('reply' as const), target: fc.integer({ min: -2, max: 14 }), ok: fc.boolean(), kind: fc.option(fc.constantFrom(...KINDS), { nil: undefined }) }),
  fc.record({ type: fc.constant('junk' as const), value: fc.anything() }),
);

describe('protocol channel (properties)', () => {
  beforeEach(() => jasmine.clock().install());
  afterEach(() => jasmine.clock().uninstall());

  it('no reply settles a request it is not for, and every request ends settled with a message', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 12 }), fc.array(hostEvent, { maxLength: 40 }), async (kinds, events) => {
        const transport = fakeTransport();
        const channel = new Channel<ViewSide>(transport, VIEW_REQUEST_TIMEOUTS);
        const outcomes = new Map<number, { ok: boolean; value: unknown }>();
        kinds.forEach((kind, index) => {
          const id = index + 1;
          channel.request(kind, PARAMS[kind] as never).then(
            (reply) => outcomes.set(id, { ok: true, value: reply.result }),
            (error: Error) => outcomes.set(id, { ok: false, value: error.message }),
          );
        });
        // One counter: ids 1..n, in order, whatever the kinds.
        expect(transport.sent.map((m) => m.content.id)).toEqual(kinds.map((_, i) => i + 1));
        // Expected: the first delivered reply whose reply_to and kind both match settles the request.
        const expected = new Map<number, { ok: boolean; value: unknown }>();
        for (const [n, event] of events.entries()) {
          if (event.type === 'junk') {
            transport.deliver(event.value);
            continue;
          }
          const kind = event.kind ?? kinds[event.target - 1] ?? 'qk';
          const content = event.ok ? { kind, reply_to: event.target, ok: true, tag: n } : { kind, reply_to: event.target, ok: false, error: `host error ${n}` };
          transport.deliver(content);
          const matches = event.target >= 1 && event.target <= kinds.length && kinds[event.target - 1] === kind;
          if (matches && !expected.has(event.target)) expected.set(event.target, event.ok ? { ok: true, value: { tag: n } } : { ok: false, value: `host error ${n}` });
        }
        jasmine.clock().tick(Math.max(...Object.values(VIEW_REQUEST_TIMEOUTS)) + 1);
        await flush();
        kinds.forEach((kind, index) => {
          const id = index + 1;
          const outcome = outcomes.get(id);
          expect(outcome).withContext(`request ${id} (${kind}) never settled`).toBeDefined();
          const want = expected.get(id) ?? { ok: false, value: `the host did not answer the '${kind}' request within ${VIEW_REQUEST_TIMEOUTS[kind] / 1000} s` };
          expect(outcome).withContext(`request ${id} (${kind})`).toEqual(want);
        });
        expect(channel.waiting()).toBe(0);
        channel.dispose();
      }),
      { numRuns: 300 },
    );
  });

  it('disconnect or dispose at any point settles everything still waiting', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 8 }), fc.nat(8), fc.boolean(), async (kinds, answered, dispose) => {
        const transport = fakeTransport();
        const channel = new Channel<ViewSide>(transport, VIEW_REQUEST_TIMEOUTS);
        const settled: Array<string | true> = [];
        kinds.forEach((kind) => void channel.request(kind, PARAMS[kind] as never).then(() => settled.push(true), (error: Error) => settled.push(error.message)));
        for (let id = 1; id <= Math.min(answered, kinds.length); id++) transport.deliver({ kind: kinds[id - 1], reply_to: id, ok: true });
        if (dispose) channel.dispose();
        else channel.disconnect('host lost');
        await flush();
        expect(settled.length).toBe(kinds.length);
        expect(settled.filter((s) => s === true).length).toBe(Math.min(answered, kinds.length));
        expect(settled.filter((s) => s !== true)).toEqual(Array(Math.max(0, kinds.length - answered)).fill(dispose ? 'the view was closed' : 'host lost'));
        channel.dispose();
      }),
      { numRuns: 200 },
    );
  });
});
