import {
  decodeFloat16,
  decodeFloat32,
  decodeMatrix,
  decodeRows,
  encodeRows,
  float16BitsToFloat32,
} from '../../src/model/decode';

/**
 * IEEE 754 binary16 values written out by hand from the definition:
 * value = (-1)^s * 2^(e - 15) * (1 + m / 1024) for 0 < e < 31,
 * (-1)^s * 2^-14 * (m / 1024) for e = 0, +-Infinity / NaN for e = 31.
 */
const FP16_TABLE: Array<[number, number, string]> = [
  [0x0000, 0, '+0'],
  [0x8000, -0, '-0'],
  [0x3c00, 1, 'one'],
  [0xc000, -2, 'minus two'],
  [0x3555, 0.333251953125, 'nearest fp16 to 1/3: 2^-2 * (1 + 341/1024)'],
  [0x7bff, 65504, 'max normal: 2^15 * (2 - 2^-10)'],
  [0x0400, 2 ** -14, 'min normal'],
  [0x0001, 2 ** -24, 'min subnormal'],
  [0x03ff, 2 ** -14 * (1023 / 1024), 'max subnormal'],
  [0x7c00, Infinity, '+Infinity'],
  [0xfc00, -Infinity, '-Infinity'],
  [0x7e00, NaN, 'quiet NaN'],
  [0x3bff, 0.99951171875, 'largest below one: 2^-1 * (1 + 1023/1024)'],
  [0x5640, 100, 'one hundred: 2^6 * (1 + 576/1024)'],
];

/** A little-endian DataView of fp16 bit patterns, starting `byteOffset` bytes into a bigger buffer. */
function fp16View(bits: number[], byteOffset = 0, trailing = 0): DataView {
  const buffer = new ArrayBuffer(byteOffset + 2 * bits.length + trailing);
  // Fill everything with a pattern that would decode to something visible if read by mistake.
  new Uint8Array(buffer).fill(0x5a);
  const view = new DataView(buffer, byteOffset, 2 * bits.length);
  bits.forEach((b, i) => view.setUint16(2 * i, b, true));
  return view;
}

describe('fp16 decoding', () => {
  for (const [bits, value, label] of FP16_TABLE) {
    it(`float16BitsToFloat32(0x${bits.toString(16).padStart(4, '0')}) is ${label}`, () => {
      expect(Object.is(float16BitsToFloat32(bits), value)).toBe(true);
    });
  }

  it('decodeFloat16 decodes every table entry exactly from a little-endian DataView', () => {
    const view = fp16View(FP16_TABLE.map(([bits]) => bits));
    const out = decodeFloat16(view, FP16_TABLE.length);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(FP16_TABLE.length);
    FP16_TABLE.forEach(([bits, value], i) => {
      expect(Object.is(out[i], value))
        .withContext(`0x${bits.toString(16)} decoded to ${out[i]}, expected ${value}`)
        .toBe(true);
    });
  });

  it('reads little-endian byte order (0x3c00 stored as bytes 00 3c is 1)', () => {
    const bytes = new Uint8Array([0x00, 0x3c, 0x3c, 0x00]);
    const out = decodeFloat16(new DataView(bytes.buffer), 2);
    expect(out[0]).toBe(1);
    // 0x003c is the subnormal 60 * 2^-24: a big-endian reader would have swapped these.
    expect(out[1]).toBe(60 * 2 ** -24);
  });

  it('honours a non-zero (and odd, unaligned) byteOffset into a bigger buffer', () => {
    const bits = FP16_TABLE.map(([b]) => b);
    for (const offset of [2, 7, 13]) {
      const view = fp16View(bits, offset, 5);
      const out = decodeFloat16(view, bits.length);
      FP16_TABLE.forEach(([b, value], i) => {
        expect(Object.is(out[i], value)).withContext(`offset ${offset}, 0x${b.toString(16)}`).toBe(true);
      });
    }
  });

  it('is monotone with the exact fp16 spacing over every positive finite pattern, and odd in the sign bit', () => {
    const all = new Array<number>(0x10000);
    for (let b = 0; b < 0x10000; b++) all[b] = b;
    const out = decodeFloat16(fp16View(all), 0x10000);
    for (let b = 1; b <= 0x7bff; b++) {
      // The step up from pattern b - 1 is the spacing of its binade: 2^-24 for
      // subnormals (e = 0) and the first binade, 2^(e - 25) for binade e >= 1.
      const ulp = 2 ** (Math.max((b - 1) >> 10, 1) - 25);
      if (out[b] - out[b - 1] !== ulp) {
        fail(`0x${b.toString(16)}: step ${out[b] - out[b - 1]} != ${ulp}`);
        return;
      }
    }
    for (let b = 0; b < 0x8000; b++) {
      if (!Object.is(out[b | 0x8000], -out[b])) {
        fail(`0x${(b | 0x8000).toString(16)} is not the negation of 0x${b.toString(16)}`);
        return;
      }
    }
    // Every pattern with exponent 31 and a non-zero mantissa is NaN.
    for (const b of [0x7c01, 0x7dff, 0x7fff, 0xfc01, 0xfe00, 0xffff]) expect(out[b]).toBeNaN();
  });
});

describe('decodeFloat32', () => {
  it('decodes little-endian float32 at a non-zero byteOffset', () => {
    const values = [1.5, -0.25, Math.fround(0.1), 3.4028234663852886e38, -0];
    const buffer = new ArrayBuffer(3 + 4 * values.length);
    const view = new DataView(buffer, 3, 4 * values.length);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    const out = decodeFloat32(view, values.length);
    values.forEach((v, i) => expect(Object.is(out[i], v)).withContext(`index ${i}`).toBe(true));
  });
});

describe('decodeMatrix', () => {
  it('decodes a row-major float32 [2, 3] matrix', () => {
    const values = [1, 2, 3, -4, 0.5, 1024];
    const view = new DataView(new ArrayBuffer(24));
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    const out = decodeMatrix(view, 'float32', 2, 3);
    expect(Array.from(out)).toEqual(values);
  });

  it('decodes a row-major float16 [2, 2] matrix', () => {
    const view = fp16View([0x3c00, 0xc000, 0x5640, 0x3555], 4);
    const out = decodeMatrix(view, 'float16', 2, 2);
    expect(Array.from(out)).toEqual([1, -2, 100, 0.333251953125]);
  });

  it('ignores trailing bytes beyond the shape', () => {
    const view = fp16View([0x3c00, 0x3c00, 0x3c00], 0, 6);
    const out = decodeMatrix(new DataView(view.buffer), 'float16', 1, 3);
    expect(out.length).toBe(3);
  });

  it('throws an error naming the shape and dtype when the buffer is too short', () => {
    const short32 = new DataView(new ArrayBuffer(4 * 11));
    expect(() => decodeMatrix(short32, 'float32', 3, 4)).toThrowError(/3\s*[,x×]\s*4[\s\S]*float32|float32[\s\S]*3\s*[,x×]\s*4/);
    const short16 = new DataView(new ArrayBuffer(2 * 39));
    expect(() => decodeMatrix(short16, 'float16', 5, 8)).toThrowError(/5\s*[,x×]\s*8/);
    expect(() => decodeMatrix(short16, 'float16', 5, 8)).toThrowError(/78/); // the bytes it got
  });

  it('accepts a buffer of exactly the right size and a [0, d] matrix', () => {
    expect(decodeMatrix(new DataView(new ArrayBuffer(48)), 'float32', 3, 4).length).toBe(12);
    expect(decodeMatrix(new DataView(new ArrayBuffer(0)), 'float16', 0, 8).length).toBe(0);
  });
});

describe('decodeRows / encodeRows', () => {
  it('round-trips row lists, including the full uint32 range', () => {
    const rows = [0, 1, 7, 123456, 2 ** 31, 4294967295];
    const encoded = encodeRows(rows);
    expect(encoded.byteLength).toBe(4 * rows.length);
    expect(Array.from(decodeRows(encoded))).toEqual(rows);
    expect(Array.from(decodeRows(encodeRows(new Uint32Array([5, 3]))))).toEqual([5, 3]);
  });

  it('encodes little-endian uint32, as numpy sends them', () => {
    const bytes = new Uint8Array(encodeRows([1, 0x01020304]).buffer);
    expect(Array.from(bytes)).toEqual([1, 0, 0, 0, 4, 3, 2, 1]);
  });

  it('decodes from a DataView with a byteOffset', () => {
    const buffer = new ArrayBuffer(16);
    const view = new DataView(buffer, 4, 8);
    view.setUint32(0, 9, true);
    view.setUint32(4, 42, true);
    new DataView(buffer).setUint32(0, 777, true); // before the view: must not be read
    expect(Array.from(decodeRows(view))).toEqual([9, 42]);
  });

  it('treats an empty list and null as no rows', () => {
    const empty = encodeRows([]);
    expect(empty.byteLength).toBe(0);
    expect(decodeRows(empty).length).toBe(0);
    expect(decodeRows(null)).toBeInstanceOf(Uint32Array);
    expect(decodeRows(null).length).toBe(0);
  });
});
