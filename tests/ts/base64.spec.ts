/** The standalone page's base64 decoding: the native Uint8Array.fromBase64 path and the atob path agree. */
import { base64ToView } from '../../src/standalone';
import { mulberry32 } from './helpers';

function encode(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const bytesOf = (view: DataView): number[] => Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));

describe('base64ToView: native and atob paths', () => {
  it('this Chromium has Uint8Array.fromBase64, so the native path is the one tested and used', () => {
    expect(typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64).toBe('function');
  });

  it('decode every length 0..40 and their prefixes to the same bytes', () => {
    const random = mulberry32(11);
    for (let length = 0; length <= 40; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      const text = encode(bytes);
      for (const limit of [undefined, 0, 1, 2, 3, 4, 5, length - 1, length, length + 7]) {
        if (limit !== undefined && limit < 0) continue;
        const native = base64ToView(text, limit, true);
        const fallback = base64ToView(text, limit, false);
        const want = Array.from(bytes.subarray(0, limit ?? length));
        expect(bytesOf(native)).withContext(`length ${length}, limit ${limit}, native`).toEqual(want);
        expect(bytesOf(fallback)).withContext(`length ${length}, limit ${limit}, atob`).toEqual(want);
      }
    }
  });

  it('decode a 1 MB payload (float16 Q/K sized) identically', () => {
    const random = mulberry32(12);
    const bytes = Uint8Array.from({ length: 1 << 20 }, () => Math.floor(random() * 256));
    const text = encode(bytes);
    const native = base64ToView(text, undefined, true);
    expect(native.byteLength).toBe(bytes.length);
    let mismatches = 0;
    for (let i = 0; i < bytes.length; i++) if (native.getUint8(i) !== bytes[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(bytesOf(base64ToView(text, 1000, true))).toEqual(bytesOf(base64ToView(text, 1000, false)));
  });

  it('reject text that is not base64 on both paths', () => {
    expect(() => base64ToView('ab$d', undefined, true)).toThrowError();
    expect(() => base64ToView('ab$d', undefined, false)).toThrowError();
  });
});
