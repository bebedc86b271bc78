/**
 * Decoding of the binary buffers the kernel sends (fp16/fp32 matrices, uint32 row
 * lists) into typed arrays. Little-endian throughout, as numpy writes on every
 * platform we support.
 */
import type { MatrixDtype } from './traits';

const FP16_EXPONENT_BIAS = 15;

/**
 * IEEE 754 binary16 -> binary32, exact for every input (normals, subnormals,
 * +-0, +-inf, NaN). value = (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 when e = 0.
 */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** (1 - FP16_EXPONENT_BIAS) * (mantissa / 1024);
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - FP16_EXPONENT_BIAS) * (1 + mantissa / 1024);
}

// A 65,536-entry table makes decoding one lookup per value (the table is 256 KiB).
let fp16Table: Float32Array | null = null;
function float16Table(): Float32Array {
  if (!fp16Table) {
    fp16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) fp16Table[bits] = float16BitsToFloat32(bits);
  }
  return fp16Table;
}

// Typed arrays use the platform's byte order; the wire is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decode `count` little-endian fp16 values starting at the view's offset. An aligned
 * view on a little-endian platform (every browser) is read as a Uint16Array, ~1.4x
 * faster than DataView.getUint16 in Chromium (and than its native Float16Array copy).
 */
export function decodeFloat16(view: DataView, count: number): Float32Array {
  const table = float16Table();
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN && view.byteOffset % 2 === 0) {
    const bits = new Uint16Array(view.buffer, view.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = table[bits[i]];
  } else {
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
  }
  return out;
}

/** Decode `count` little-endian fp32 values (copies, so the result is aligned). */
export function decodeFloat32(view: DataView, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/**
 * A row-major matrix [rows, cols] from a kernel buffer; throws with the sizes when the
 * buffer is shorter than the shape says (a truncated or mismatched message).
 */
export function decodeMatrix(view: DataView, dtype: MatrixDtype, rows: number, cols: number): Float32Array {
  const count = rows * cols;
  const itemSize = dtype === 'float16' ? 2 : 4;
  if (view.byteLength < count * itemSize) {
    throw new Error(
      `Q/K buffer holds ${view.byteLength} bytes but [${rows}, ${cols}] ${dtype} needs ${count * itemSize}`,
    );
  }
  return dtype === 'float16' ? decodeFloat16(view, count) : decodeFloat32(view, count);
}

/** A uint32 little-endian list (e.g. selected rows). */
export function decodeRows(view: DataView | null): Uint32Array {
  if (!view || view.byteLength === 0) return new Uint32Array(0);
  const out = new Uint32Array(view.byteLength >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}

/** Inverse of `decodeRows`, for sending rows to the kernel. */
export function encodeRows(rows: ArrayLike<number>): DataView {
  const view = new DataView(new ArrayBuffer(rows.length * 4));
  for (let i = 0; i < rows.length; i++) view.setUint32(4 * i, rows[i], true);
  return view;
}
