/**
 * The image view (vision captures) asks the host for each image once per model, over the
 * protocol channel: two views of one model draw the same picture from one `image`
 * request; a host without images leaves the patch grid alone, marked missing.
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { hostModel, type HostedHead } from '../../src/host';
import { mountView } from '../../src/view';
import { gaussian, mulberry32, waitFor } from './helpers';

const PER_IMAGE = 5; // [CLS] + 2 x 2 patches
const N = 2 * PER_IMAGE;
const D = 4;
const TIMEOUT = 20000;

function patchTokens(): DataView {
  const pos = Int32Array.from({ length: N }, (_, i) => i % PER_IMAGE);
  const bytes = tableToIPC(
    tableFromArrays({
      text: Array.from(pos, (p) => (p === 0 ? '[CLS]' : `patch ${p - 1}`)),
      seq: Int32Array.from({ length: N }, (_, i) => Math.floor(i / PER_IMAGE)),
      pos,
      patch_row: Int32Array.from(pos, (p) => (p === 0 ? -1 : Math.floor((p - 1) / 2))),
      patch_col: Int32Array.from(pos, (p) => (p === 0 ? -1 : (p - 1) % 2)),
    }),
    'stream',
  );
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function head(layer: number, index: number): HostedHead {
  const normal = gaussian(mulberry32(7 + layer * 3 + index));
  const matrix = (): DataView => new DataView(Float32Array.from({ length: N * D }, normal).buffer);
  return { queries: matrix(), keys: matrix(), meta: { layer, head: index, n_tokens: N, d_head: D, dtype: 'float32' } };
}

async function png(): Promise<DataView> {
  const canvas = new OffscreenCanvas(8, 8);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#3366cc';
  context.fillRect(0, 0, 8, 8);
  return new DataView(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

describe('image view over the channel', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    document.querySelectorAll('.image-view-spec').forEach((el) => el.remove());
  });

  function mount(host: ReturnType<typeof hostModel>): HTMLElement {
    const el = document.createElement('div');
    el.className = 'image-view-spec';
    el.style.cssText = 'width: 700px; height: 420px; position: relative;';
    document.body.append(el);
    cleanups.push(mountView(host.model, el));
    return el;
  }
  const traits = { view: 'head' as const, head: [0, 0] as [number, number], n_layers: 1, n_heads: 1, _tokens: patchTokens(), _capture_id: 'image-view-spec' };

  it('two views of one model draw each image from one request; another image is asked for when selected', async () => {
    const asked: number[] = [];
    const picture = await png();
    const host = hostModel({ traits, first: head(0, 0), qkFor: head, image: (seq) => (asked.push(seq), picture) });
    cleanups.push(host.dispose);
    const roots = [mount(host), mount(host)].map((el) => el.querySelector<HTMLElement>('.attentionviz')!);
    await waitFor(() => roots.every((root) => root.dataset.image === 'loaded' && root.dataset.imageSeq === '0'), 'the first image in both views');
    expect(asked).toEqual([0]);
    host.model.set('_selected_rows', new DataView(Uint32Array.from([PER_IMAGE + 2]).buffer));
    await waitFor(() => roots.every((root) => root.dataset.imageSeq === '1' && root.dataset.imageFocus === String(PER_IMAGE + 2)), 'the second image, focused');
    await waitFor(() => asked.length === 2, 'the second image request');
    expect(asked).toEqual([0, 1]);
  }, TIMEOUT);

  it('without images at the host the grid is drawn alone, marked missing', async () => {
    const host = hostModel({ traits, first: head(0, 0), qkFor: head });
    cleanups.push(host.dispose);
    const root = mount(host).querySelector<HTMLElement>('.attentionviz')!;
    await waitFor(() => root.dataset.image === 'missing', 'the missing image');
    expect(root.dataset.imageSeq).toBe('0');
  }, TIMEOUT);
});
