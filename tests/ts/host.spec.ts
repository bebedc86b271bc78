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
    model.send({ type: 'qk', request: 7, layer: 1, head: 2, rows: 4 });
    const { content, buffers } = await reply;
    expect(content).toEqual({ type: 'qk', request: 7, layer: 1, head: 2, n_tokens: 4, d_head: 2, dtype: 'float32' });
    expect(buffers.map((b) => b.byteLength)).toEqual([32, 32]);
    expect(buffers[0].getFloat32(4 * 7, true)).toBe(1207);
    expect(buffers[1].getFloat32(0, true)).toBe(-1200);
  });

  it('a failing provider becomes a qk-error naming the problem; async providers work too', async () => {
    const { model } = hostModel(
      options({
        first: fakeHead(0, 0),
        qkFor: (layer, head) => (layer > 0 ? Promise.reject(new Error(`no head ${layer},${head}`)) : Promise.resolve(fakeHead(layer, head))),
      }),
    );
    let reply = nextMessage(model);
    model.send({ type: 'qk', request: 1, layer: 1, head: 0 });
    expect((await reply).content).toEqual({ type: 'qk-error', request: 1, message: 'no head 1,0' });
    reply = nextMessage(model);
    model.send({ type: 'qk', request: 2, layer: 0, head: 1 });
    expect((await reply).content.n_tokens).toBe(6);
  });

  it('HTML and image requests without a provider are refused with the given reason', async () => {
    const { model } = hostModel(options({ first: fakeHead(0, 0), htmlUnavailable: 'use the CLI' }));
    let reply = nextMessage(model);
    model.send({ type: 'html-request', request: 3 });
    expect((await reply).content).toEqual({ type: 'html-error', request: 3, message: 'use the CLI' });
    reply = nextMessage(model);
    model.send({ type: 'image', request: 4, seq: 0 });
    expect((await reply).content).toEqual({ type: 'image-error', request: 4, message: 'this view holds no images' });

    const png = new DataView(new Uint8Array([137, 80, 78, 71]).buffer);
    const withImages = hostModel(options({ first: fakeHead(0, 0), image: (seq) => (seq === 0 ? png : Promise.reject(new RangeError('no image 5'))) })).model;
    reply = nextMessage(withImages);
    withImages.send({ type: 'image', request: 5, seq: 0 });
    const answer = await reply;
    expect(answer.content).toEqual({ type: 'image', request: 5, seq: 0 });
    expect(answer.buffers[0]).toBe(png);
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
