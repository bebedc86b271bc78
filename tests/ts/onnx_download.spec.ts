/**
 * The typed-text model download (protocol/onnx_download.ts): onnx-files, then onnx-chunk
 * requests one after another; the files arrive byte-exact with progress, and every answer
 * that does not fit rejects with a message instead of hanging or assembling garbage.
 */
import { downloadModelFiles } from '../../src/protocol/onnx_download';
import type { ViewChannel } from '../../src/protocol/transport';

const FILES: Record<string, Uint8Array> = {
  model: Uint8Array.from({ length: 700 }, (_, i) => (i * 7) % 256),
  tokenizer: new TextEncoder().encode('{"model": {}}'),
  manifest: new TextEncoder().encode('{}'),
  wasm: Uint8Array.from({ length: 301 }, (_, i) => i % 251),
};

type Chunk = { file: string; offset: number; size: number; bytes?: DataView };

/** A channel whose host serves `files` in `step`-byte chunks; `tamper` may change any chunk answer. */
function fakeChannel(files: Record<string, Uint8Array | number>, step = 300, tamper: (chunk: Chunk) => Chunk = (c) => c) {
  const asked: Array<{ kind: string; params: unknown }> = [];
  const channel = {
    async request(kind: string, params: { file?: string; offset?: number }) {
      asked.push({ kind, params });
      if (kind === 'onnx-files') {
        return { result: { files: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, typeof bytes === 'number' ? bytes : bytes.length])) }, buffers: [] };
      }
      const bytes = files[params.file!];
      if (typeof bytes === 'number') throw new Error(`no such file: ${params.file}`);
      const part = bytes.slice(params.offset!, params.offset! + step);
      const chunk = tamper({ file: params.file!, offset: params.offset!, size: bytes.length, bytes: new DataView(part.buffer) });
      return { result: { file: chunk.file, offset: chunk.offset, size: chunk.size }, buffers: chunk.bytes ? [chunk.bytes] : [] };
    },
  };
  return { channel: channel as unknown as ViewChannel, asked };
}

describe('ONNX model download', () => {
  it('fetches every file in sequential chunks, byte-exact, with progress up to the total', async () => {
    const { channel, asked } = fakeChannel(FILES);
    const progress: Array<[number, number]> = [];
    const files = await downloadModelFiles(channel, (received, total) => progress.push([received, total]));
    for (const [name, bytes] of Object.entries(FILES)) expect(Array.from(files.get(name)!)).withContext(name).toEqual(Array.from(bytes));
    const total = 700 + FILES.tokenizer.length + 2 + 301;
    expect(progress[0]).toEqual([0, total]);
    expect(progress[progress.length - 1]).toEqual([total, total]);
    expect(progress.every(([received], i) => i === 0 || received > progress[i - 1][0])).toBeTrue();
    expect(asked.filter((a) => a.kind === 'onnx-chunk').map((a) => a.params)).toEqual([
      { file: 'model', offset: 0 },
      { file: 'model', offset: 300 },
      { file: 'model', offset: 600 },
      { file: 'tokenizer', offset: 0 },
      { file: 'manifest', offset: 0 },
      { file: 'wasm', offset: 0 },
      { file: 'wasm', offset: 300 },
    ]);
  });

  it('rejects naming what is wrong: a missing file, a host error, a wrong size or offset, an empty or overlong chunk', async () => {
    const noModel = Object.fromEntries(Object.entries(FILES).filter(([name]) => name !== 'model'));
    await expectAsync(downloadModelFiles(fakeChannel(noModel).channel, () => {})).toBeRejectedWithError(/no model/);
    await expectAsync(downloadModelFiles(fakeChannel({ ...FILES, wasm: 10 }).channel, () => {})).toBeRejectedWithError('no such file: wasm');
    await expectAsync(downloadModelFiles(fakeChannel({ ...FILES, model: -4 }).channel, () => {})).toBeRejectedWithError(/impossible size/);
    const cases: Array<[string, (c: Chunk) => Chunk, RegExp]> = [
      ['size changed', (c) => ({ ...c, size: c.size + 1 }), /model at 0 \(of 700 bytes\) with model at 0 \(of 701\)/],
      ['another offset', (c) => (c.offset === 300 ? { ...c, offset: 0 } : c), /model at 300/],
      ['another file', (c) => ({ ...c, file: 'wasm' }), /with wasm/],
      ['no bytes', (c) => ({ ...c, bytes: undefined }), /no bytes of model at 0/],
      ['empty chunk', (c) => ({ ...c, bytes: new DataView(new ArrayBuffer(0)) }), /0 bytes of model at 0/],
      ['overlong chunk', (c) => (c.offset === 600 ? { ...c, bytes: new DataView(new ArrayBuffer(200)) } : c), /200 bytes of model at 600, which does not fit its 700 bytes/],
    ];
    for (const [what, tamper, message] of cases) {
      await expectAsync(downloadModelFiles(fakeChannel(FILES, 300, tamper).channel, () => {})).withContext(what).toBeRejectedWithError(message);
    }
  });
});
