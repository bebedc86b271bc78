import { base64ToView } from '../../src/standalone';

/** Base64 of bytes, as Python's base64.b64encode writes it (with padding). */
function encode(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

describe('standalone page: base64ToView', () => {
  const bytes = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37 + 11) & 255);
  const text = encode(bytes);

  it('decodes a whole payload byte for byte', () => {
    const view = base64ToView(text);
    expect(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).toEqual(bytes);
  });

  it('decodes exactly the leading bytes asked for, at every alignment of 3', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 500, 999, 1000, 1001, 5000]) {
      const view = base64ToView(text, n);
      const want = bytes.subarray(0, Math.min(n, bytes.length));
      expect(view.byteLength).withContext(`n=${n}`).toBe(want.length);
      expect(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).withContext(`n=${n}`).toEqual(want);
    }
  });
});
