import { tableFromIPC } from 'apache-arrow';
import { AttnvizFileError, bufferSource, headRanges, openAttnviz, type ByteSource } from '../../src/model/attnviz_file';
import { decodeHead } from '../../src/model/qk_source';
import { decodeTokenTable } from '../../src/model/tokens';

/** What tests/fixtures/make_attnviz_fixture.py says Python reads back from each fixture. */
interface Expected {
  model_name: string;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  d_head: number;
  n_tokens: number;
  scale: number;
  mask: string;
  dtype: 'float16' | 'float32';
  heads: Record<string, [number[], number[]]>;
  tokens: { columns: string[]; text: string[]; seq: number[]; pos: number[]; pos_norm: number[]; special: boolean[]; label: string[] };
}

async function fixture(name: string): Promise<{ bytes: Uint8Array; expected: Expected }> {
  const [file, json] = await Promise.all([fetch(`/base/tests/fixtures/${name}.attnviz`), fetch(`/base/tests/fixtures/${name}.expected.json`)]);
  if (!file.ok || !json.ok) throw new Error(`fixture ${name} is not served (karma.conf.cjs files)`);
  return { bytes: new Uint8Array(await file.arrayBuffer()), expected: (await json.json()) as Expected };
}

/** Counts the bytes read, to check that a head costs only its own block. */
function countingSource(bytes: Uint8Array): ByteSource & { bytesRead: number } {
  const inner = bufferSource(bytes);
  const source = {
    byteLength: inner.byteLength,
    bytesRead: 0,
    read(start: number, end: number) {
      source.bytesRead += end - start;
      return inner.read(start, end);
    },
  };
  return source;
}

async function errorOf(bytes: Uint8Array): Promise<Error> {
  try {
    await openAttnviz(bufferSource(bytes), 'bad.attnviz');
  } catch (error) {
    return error as Error;
  }
  throw new Error('openAttnviz accepted a bad file');
}

describe('attnviz_file', () => {
  for (const name of ['tiny_gqa_f16', 'tiny_f32']) {
    it(`${name}: manifest and every head's Q/K equal what Python reads`, async () => {
      const { bytes, expected } = await fixture(name);
      const reader = await openAttnviz(bufferSource(bytes), `${name}.attnviz`);
      const m = reader.manifest;
      expect([m.model_name, m.n_layers, m.n_heads, m.n_kv_heads, m.d_head, m.n_tokens, m.scale, m.mask, m.dtype]).toEqual([
        expected.model_name, expected.n_layers, expected.n_heads, expected.n_kv_heads, expected.d_head, expected.n_tokens, expected.scale, expected.mask, expected.dtype,
      ]);
      let checked = 0;
      for (let layer = 0; layer < m.n_layers; layer++) {
        for (let head = 0; head < m.n_heads; head++) {
          const raw = await reader.qk(layer, head);
          expect(raw.meta).toEqual({ layer, head, n_tokens: m.n_tokens, d_head: m.d_head, dtype: m.dtype });
          const decoded = decodeHead(raw.meta, raw.queries, raw.keys);
          const [q, k] = expected.heads[`${layer},${head}`];
          // fp16 -> fp32 is exact, so the values must match bit for bit.
          expect(Array.from(decoded.queries)).toEqual(q.map(Math.fround));
          expect(Array.from(decoded.keys)).toEqual(k.map(Math.fround));
          checked++;
        }
      }
      expect(checked).toBe(expected.n_layers * expected.n_heads);
    });

    it(`${name}: the token table decodes with its text as text`, async () => {
      const { bytes, expected } = await fixture(name);
      const reader = await openAttnviz(bufferSource(bytes));
      const ipc = await reader.tokens();
      const table = decodeTokenTable(ipc);
      expect(table.length).toBe(expected.n_tokens);
      expect(table.text).toEqual(expected.tokens.text);
      expect(Array.from(table.seq)).toEqual(expected.tokens.seq);
      expect(Array.from(table.pos)).toEqual(expected.tokens.pos);
      expect(Array.from(table.posNorm)).toEqual(expected.tokens.pos_norm.map(Math.fround));
      expect(Array.from(table.special)).toEqual(expected.tokens.special.map(Number));
      expect(table.columnNames).toEqual(expected.tokens.columns);
      const label = table.column('label');
      expect(label.kind === 'category' && expected.tokens.label.map((value) => label.labels[label.codes[expected.tokens.label.indexOf(value)]])).toEqual(expected.tokens.label);
      expect(tableFromIPC(new Uint8Array(ipc.buffer, ipc.byteOffset, ipc.byteLength)).getChild('label')!.toArray().length).toBe(expected.n_tokens);
    });
  }

  it('grouped-query heads share their key head, and rows reads only the first rows', async () => {
    const { bytes, expected } = await fixture('tiny_gqa_f16');
    const source = countingSource(bytes);
    const reader = await openAttnviz(source);
    const group = expected.n_heads / expected.n_kv_heads;
    const a = headRanges(reader.layout, 1, 0);
    const b = headRanges(reader.layout, 1, group - 1);
    const c = headRanges(reader.layout, 1, group);
    expect(b.keys).toEqual(a.keys);
    expect(c.keys).not.toEqual(a.keys);
    expect(b.queries).not.toEqual(a.queries);

    const before = source.bytesRead;
    const firstRows = await reader.qk(1, 3, 4);
    const rowBytes = expected.d_head * 2;
    expect(source.bytesRead - before).toBe(2 * 4 * rowBytes);
    expect(firstRows.meta.n_tokens).toBe(4);
    const decoded = decodeHead(firstRows.meta, firstRows.queries, firstRows.keys);
    expect(Array.from(decoded.queries)).toEqual(expected.heads['1,3'][0].slice(0, 4 * expected.d_head).map(Math.fround));
    expect(Array.from(decoded.keys)).toEqual(expected.heads['1,3'][1].slice(0, 4 * expected.d_head).map(Math.fround));
  });

  it('a head out of range is refused, naming the valid ranges', async () => {
    const { bytes } = await fixture('tiny_f32');
    const reader = await openAttnviz(bufferSource(bytes));
    await expectAsync(reader.qk(0, 2)).toBeRejectedWithError(RangeError, /out of range: this capture has layers 0\.\.0 and heads 0\.\.1/);
    await expectAsync(reader.qk(1, 0)).toBeRejectedWithError(RangeError, /out of range/);
  });

  it('a truncated file is refused, saying it is truncated', async () => {
    const { bytes } = await fixture('tiny_f32');
    for (const cut of [bytes.length - 1, bytes.length - 200, 100, 7, 0]) {
      const error = await errorOf(bytes.slice(0, cut));
      expect(error).toEqual(jasmine.any(AttnvizFileError));
      expect(error.message).toMatch(/^bad\.attnviz: /);
      expect(error.message).toMatch(/truncated|too short/);
    }
  });

  it('foreign files are refused, naming the problem', async () => {
    const text = new TextEncoder().encode('<!doctype html><html><body>not a capture</body></html>\n'.repeat(4));
    expect((await errorOf(text)).message).toMatch(/not an \.attnviz file \(header length field \d+ does not fit/);

    // A valid safetensors file that is not an attentionviz capture.
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const safetensors = new Uint8Array(8 + header.length + 4);
    new DataView(safetensors.buffer).setBigUint64(0, BigInt(header.length), true);
    safetensors.set(header, 8);
    expect((await errorOf(safetensors)).message).toMatch(/not an \.attnviz file \(no attentionviz manifest in the header/);
  });

  it('a header that disagrees with its manifest is refused, naming the tensor', async () => {
    const { bytes } = await fixture('tiny_f32');
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { shape: number[] }>;
    const rewrite = (edit: (h: Record<string, { shape: number[] }>) => void): Uint8Array => {
      const copy = structuredClone(header);
      edit(copy);
      let text = JSON.stringify(copy);
      if (text.length > n) throw new Error('edited header longer than the original');
      text = text.padEnd(n, ' ');
      const out = bytes.slice();
      out.set(new TextEncoder().encode(text), 8);
      return out;
    };
    expect((await errorOf(rewrite((h) => (h['k.0'].shape = [2, 13, 3])))).message).toMatch(/tensor "k\.0" has shape \[2, 13, 3\], manifest implies \[2, 13, 4\]/);
    expect((await errorOf(rewrite((h) => delete h['q.0']))).message).toMatch(/tensor "q\.0" is missing from the header/);
    const newer = rewrite((h) => {
      const meta = h.__metadata__ as unknown as { attnviz: string };
      meta.attnviz = meta.attnviz.replace('"format_version": 1', '"format_version": 9');
    });
    expect((await errorOf(newer)).message).toMatch(/format version 9 is newer than this attentionviz reads \(1\)/);
  });

  it('image(seq) returns the bytes of image.{seq}; a capture without images says so', async () => {
    const { bytes } = await fixture('tiny_f32');
    const reader = await openAttnviz(bufferSource(bytes));
    await expectAsync(reader.image(0)).toBeRejectedWithError(RangeError, 'this capture holds no images');
    // The same file with one image tensor appended after the data, as vision captures hold them.
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
    const dataLength = bytes.length - 8 - n;
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    header['image.0'] = { dtype: 'U8', shape: [png.length], data_offsets: [dataLength, dataLength + png.length] };
    const text = new TextEncoder().encode(JSON.stringify(header));
    const withImage = new Uint8Array(8 + text.length + dataLength + png.length);
    new DataView(withImage.buffer).setBigUint64(0, BigInt(text.length), true);
    withImage.set(text, 8);
    withImage.set(bytes.subarray(8 + n), 8 + text.length);
    withImage.set(png, 8 + text.length + dataLength);
    const imageReader = await openAttnviz(bufferSource(withImage));
    const image = await imageReader.image(0);
    expect(Array.from(new Uint8Array(image.buffer, image.byteOffset, image.byteLength))).toEqual(Array.from(png));
    await expectAsync(imageReader.image(1)).toBeRejectedWithError(RangeError, 'no image for sequence 1: this capture holds 1 images');
    // Q/K are unaffected by the extra tensor.
    const [a, b] = await Promise.all([reader.qk(0, 1), imageReader.qk(0, 1)]);
    expect(new Uint8Array(b.queries.buffer, b.queries.byteOffset, b.queries.byteLength)).toEqual(new Uint8Array(a.queries.buffer, a.queries.byteOffset, a.queries.byteLength));
  });

  it('a corrupt token table is refused when the tokens are read', async () => {
    const { bytes } = await fixture('tiny_f32');
    const reader = await openAttnviz(bufferSource(bytes));
    const info = reader.layout.tensors.get('tokens.parquet')!;
    const broken = bytes.slice();
    broken.fill(0x41, reader.layout.dataStart + info.data_offsets[1] - 40, reader.layout.dataStart + info.data_offsets[1]);
    const brokenReader = await openAttnviz(bufferSource(broken), 'bad.attnviz');
    await expectAsync(brokenReader.tokens()).toBeRejectedWithError(AttnvizFileError, /^bad\.attnviz: token table is corrupt/);
  });
});
