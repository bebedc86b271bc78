import { hostModel, type HostedHead, type HostOptions } from '../../src/host';

/** A head whose Q values are 1000*layer + 100*head + index (float32), K the negatives. */
function fakeHead(layer: number, head: number, nTokens = 6, dHead = 2): HostedHead {
  const q = new Float32Array(nTokens * dHead).map((_, i) => 1000 * layer + 100 * head + i);
  return {
    queries: new DataView(q.buffer),
    keys: new DataView(q.map((v) => -v).buffer),
    meta: { layer, head, n_tokens: nTokens, d_head: dHead, dtype: 'float32' },
  };
}

function options(extra: Partial<HostOptions> = {}): HostOptions {
  return { traits: { n_layers: 2, n_heads: 3, _tokens: null }, qkFor: fakeHead, ...extra };
}

/** The next custom message the host delivers to the view. */
function nextMessage(model: ReturnType<typeof hostModel>['model']): Promise<{ content: Record<string, unknown>; buffers: DataView[] }> {
  return new Promise((resolve) => {
    const listener = (content: Record<string, unknown>, buffers: DataView[]): void => {
      model.off('msg:custom', listener);
      resolve({ content, buffers });
    };
    model.on('msg:custom', listener);
  });
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('host (kernel-free model)', () => {
  it('answers a Q/K request with the first rows only, as views on the same bytes', async () => {
    const { model } = hostModel(options({ first: fakeHead(0, 0) }));
    const reply = nextMessage(model);
    model.send({ kind: 'qk', id: 7, layer: 1, head: 2, rows: 4 });
    const { content, buffers } = await reply;
    expect(content).toEqual({ kind: 'qk', reply_to: 7, ok: true, layer: 1, head: 2, n_tokens: 4, d_head: 2, dtype: 'float32' });
    expect(buffers.map((b) => b.byteLength)).toEqual([32, 32]);
    expect(buffers[0].getFloat32(4 * 7, true)).toBe(1207);
    expect(buffers[1].getFloat32(0, true)).toBe(-1200);
  });

  it('a failing provider becomes an ok: false reply naming the problem; async providers work too', async () => {
    const { model } = hostModel(
      options({
        first: fakeHead(0, 0),
        qkFor: (layer, head) => (layer > 0 ? Promise.reject(new Error(`no head ${layer},${head}`)) : Promise.resolve(fakeHead(layer, head))),
      }),
    );
    let reply = nextMessage(model);
    model.send({ kind: 'qk', id: 1, layer: 1, head: 0 });
    expect((await reply).content).toEqual({ kind: 'qk', reply_to: 1, ok: false, error: 'no head 1,0' });
    reply = nextMessage(model);
    model.send({ kind: 'qk', id: 2, layer: 0, head: 1 });
    expect((await reply).content.n_tokens).toBe(6);
  });

  it('HTML and image requests without a provider are refused with the given reason', async () => {
    const { model } = hostModel(options({ first: fakeHead(0, 0), htmlUnavailable: 'use the CLI' }));
    let reply = nextMessage(model);
    model.send({ kind: 'html', id: 3 });
    expect((await reply).content).toEqual({ kind: 'html', reply_to: 3, ok: false, error: 'use the CLI' });
    reply = nextMessage(model);
    model.send({ kind: 'image', id: 4, seq: 0 });
    expect((await reply).content).toEqual({ kind: 'image', reply_to: 4, ok: false, error: 'this view holds no images' });

    const png = new DataView(new Uint8Array([137, 80, 78, 71]).buffer);
    const withImages = hostModel(options({ first: fakeHead(0, 0), image: (seq) => (seq === 0 ? png : Promise.reject(new RangeError('no image 5'))) })).model;
    reply = nextMessage(withImages);
    withImages.send({ kind: 'image', id: 5, seq: 0 });
    const answer = await reply;
    expect(answer.content).toEqual({ kind: 'image', reply_to: 5, ok: true, seq: 0 });
    expect(answer.buffers[0]).toBe(png);
    reply = nextMessage(withImages);
    withImages.send({ kind: 'image', id: 6, seq: 5 });
    expect((await reply).content).toEqual({ kind: 'image', reply_to: 6, ok: false, error: 'no image 5' });
  });

  it('refuses kinds it does not serve by name, ignores what is not protocol v1, and stops answering once disposed', async () => {
    const { model, dispose } = hostModel(options({ first: fakeHead(0, 0) }));
    const heard: Array<Record<string, unknown>> = [];
    model.on('msg:custom', (content: Record<string, unknown>) => heard.push(content));
    model.send({ kind: 'onnx-files', id: 8 }); // no typed-text model without a kernel
    model.send({ type: 'qk', request: 9, layer: 0, head: 0 }); // the old shape: no kind
    model.send('qk');
    model.send({ kind: 'added-tokens', tokens: {} }); // a notification: never answered
    await settle();
    expect(heard).toEqual([{ kind: 'onnx-files', reply_to: 8, ok: false, error: "unknown request kind 'onnx-files'" }]);
    dispose();
    model.send({ kind: 'qk', id: 10, layer: 0, head: 0 });
    await settle();
    expect(heard.length).toBe(1);
  });

  it('fetches the first head when none is given, follows head changes and drops stale answers', async () => {
    const resolvers = new Map<string, () => void>();
    const { model, dispose } = hostModel(
      options({
        qkFor: (layer, head) => new Promise<HostedHead>((resolve) => resolvers.set(`${layer},${head}`, () => resolve(fakeHead(layer, head)))),
      }),
    );
    await settle();
    expect(model.get('_qk_meta')).toBeNull();
    resolvers.get('0,0')!();
    await settle();
    expect(model.get('_qk_meta')!.head).toBe(0);

    model.set('head', [1, 1]);
    model.set('head', [1, 2]);
    await settle();
    resolvers.get('1,2')!();
    await settle();
    resolvers.get('1,1')!(); // late answer for a head no longer shown
    await settle();
    expect([model.get('_qk_meta')!.layer, model.get('_qk_meta')!.head]).toEqual([1, 2]);
    expect(model.get('_queries')!.getFloat32(0, true)).toBe(1200);

    dispose();
    model.set('head', [0, 2]);
    await settle();
    expect(resolvers.has('0,2')).toBeFalse();
  });

  it('a head the provider cannot give sets the error trait, and a good one clears it', async () => {
    const { model } = hostModel(options({ first: fakeHead(0, 0), qkFor: (layer, head) => {
      if (head === 2) throw new Error('this file holds no Q/K for layer 0 head 2');
      return fakeHead(layer, head);
    } }));
    model.set('head', [0, 2]);
    await settle();
    expect(model.get('error')).toBe('this file holds no Q/K for layer 0 head 2');
    model.set('head', [0, 1]);
    await settle();
    expect(model.get('error')).toBe('');
    expect(model.get('_qk_meta')!.head).toBe(1);
  });
});
