/**
 * Reading a `.attnviz` capture file in the browser (the format python_shim/attentionviz/
 * capture_file.py writes). The file is a safetensors file:
 *
 *   [u64 little-endian n][n bytes of JSON header][data]
 *
 * The header maps tensor names to {dtype, shape, data_offsets: [start, end)} (offsets into
 * data) and holds the manifest JSON in `__metadata__.attnviz`. Tensors: `q.{i}`
 * [n_heads, n_tokens, d_head] and `k.{i}` [n_kv_heads, n_tokens, d_head] (F16 or F32, head
 * major, so one head is one contiguous block) and `tokens.parquet` (U8, the token table as
 * Parquet). Reads go through a `ByteSource`, so a host can fetch only the byte ranges a head
 * needs (HTTP range requests) or hand over a whole in-memory buffer (sliced, never copied).
 */
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetMetadata, parquetRead, type DecodedArray } from 'hyparquet';
import type { MatrixDtype, QKMeta } from './traits';

/** A file that is not a readable `.attnviz` capture: truncated, foreign or inconsistent. */
export class AttnvizFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttnvizFileError';
  }
}

/** The manifest stored in the header (see capture_file.py for every field). */
export interface AttnvizManifest {
  format: 'attnviz';
  format_version: number;
  model_name: string;
  architecture: string;
  scale: number;
  mask: 'causal' | 'bidirectional';
  dtype: MatrixDtype;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  d_head: number;
  n_tokens: number;
  n_seqs: number;
  layer_ids: number[];
  library_version?: string;
  extra?: Record<string, unknown>;
}

/** Random access to a file's bytes; `read` returns bytes [start, end). */
export interface ByteSource {
  readonly byteLength: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

interface TensorInfo {
  dtype: string;
  shape: number[];
  /** [start, end) relative to the data section. */
  data_offsets: [number, number];
}

/** Where everything is in one file. */
export interface AttnvizLayout {
  manifest: AttnvizManifest;
  /** Absolute offset of the data section (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
}

/** Q/K bytes of one head as the view takes them: `[rows, d_head]` little-endian each. */
export interface HeadBytes {
  queries: DataView;
  keys: DataView;
  meta: QKMeta;
}

/** This reader understands files up to this format version. */
export const FORMAT_VERSION = 1;
/** Same bound as the Python reader: a longer header means a foreign file. */
export const MAX_HEADER = 100 * 1024 * 1024;
const ITEM_SIZE: Record<string, number> = { F16: 2, F32: 4 };
const DTYPE_NAMES: Record<MatrixDtype, string> = { float16: 'F16', float32: 'F32' };

/** An in-memory file as a `ByteSource`; reads are views into it, not copies. */
export function bufferSource(buffer: ArrayBuffer | Uint8Array): ByteSource {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return { byteLength: bytes.byteLength, read: (start, end) => Promise.resolve(bytes.subarray(start, end)) };
}

/** The header length `n` from the file's first 8 bytes, checked against the file size. */
export function headerLength(first: Uint8Array, fileSize: number, name = 'file'): number {
  if (fileSize < 8 || first.byteLength < 8) {
    throw new AttnvizFileError(`${name}: not an .attnviz file (${fileSize} bytes, too short)`);
  }
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(fileSize - 8, MAX_HEADER))) {
    throw new AttnvizFileError(
      `${name}: not an .attnviz file (header length field ${n} does not fit a ${fileSize}-byte file; the file is truncated or foreign)`,
    );
  }
  return Number(n);
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

function checkManifest(value: unknown, name: string): AttnvizManifest {
  const m = value as Partial<AttnvizManifest> | null;
  if (!m || typeof m !== 'object') throw new AttnvizFileError(`${name}: the attentionviz manifest is not a JSON object`);
  if (m.format !== 'attnviz') throw new AttnvizFileError(`${name}: manifest format is ${JSON.stringify(m.format)}, not "attnviz"`);
  if ((m.format_version ?? 0) > FORMAT_VERSION) {
    throw new AttnvizFileError(
      `${name}: format version ${m.format_version} is newer than this attentionviz reads (${FORMAT_VERSION}); upgrade attentionviz`,
    );
  }
  for (const field of ['n_layers', 'n_heads', 'n_kv_heads', 'd_head', 'n_tokens'] as const) {
    if (!isCount(m[field])) throw new AttnvizFileError(`${name}: manifest field "${field}" is missing or not a count (${JSON.stringify(m[field])})`);
  }
  if (m.n_kv_heads === 0 || m.n_heads! % m.n_kv_heads! !== 0) {
    throw new AttnvizFileError(`${name}: manifest says ${m.n_heads} heads share ${m.n_kv_heads} key heads (not a divisor)`);
  }
  if (m.dtype !== 'float16' && m.dtype !== 'float32') throw new AttnvizFileError(`${name}: manifest dtype ${JSON.stringify(m.dtype)} is not float16 or float32`);
  if (typeof m.scale !== 'number' || !(m.scale > 0)) throw new AttnvizFileError(`${name}: manifest scale ${JSON.stringify(m.scale)} is not a positive number`);
  if (m.mask !== 'causal' && m.mask !== 'bidirectional') throw new AttnvizFileError(`${name}: manifest mask ${JSON.stringify(m.mask)} is not "causal" or "bidirectional"`);
  return m as AttnvizManifest;
}

/**
 * Parse and validate the JSON header (the `n` bytes after the length field): manifest,
 * every Q/K tensor the manifest implies with its shape and dtype, the token table, and that
 * the data section ends exactly where the file does (a shorter file is truncated).
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, name = 'file'): AttnvizLayout {
  let header: Record<string, unknown>;
  let manifest: AttnvizManifest;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes)) as Record<string, unknown>;
    const metadata = header.__metadata__ as Record<string, unknown> | undefined;
    const text = metadata?.attnviz;
    if (typeof text !== 'string') throw new Error('__metadata__.attnviz is missing');
    manifest = JSON.parse(text) as AttnvizManifest;
  } catch (error) {
    throw new AttnvizFileError(`${name}: not an .attnviz file (no attentionviz manifest in the header: ${error instanceof Error ? error.message : String(error)})`);
  }
  manifest = checkManifest(manifest, name);
  const dataStart = 8 + headerBytes.byteLength;
  const tensors = new Map<string, TensorInfo>();
  let end = 0;
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const info = value as TensorInfo;
    const [a, b] = Array.isArray(info?.data_offsets) ? info.data_offsets : [NaN, NaN];
    if (!isCount(a) || !isCount(b) || b < a || !Array.isArray(info.shape)) {
      throw new AttnvizFileError(`${name}: tensor "${key}" has a malformed header entry`);
    }
    tensors.set(key, info);
    end = Math.max(end, b);
  }
  const { n_layers, n_heads, n_kv_heads, n_tokens, d_head, dtype } = manifest;
  const expect = (tensor: string, shape: number[] | null, type: string): void => {
    const info = tensors.get(tensor);
    if (!info) throw new AttnvizFileError(`${name}: tensor "${tensor}" is missing from the header`);
    if (info.dtype !== type) throw new AttnvizFileError(`${name}: tensor "${tensor}" has dtype ${info.dtype}, expected ${type}`);
    if (shape && info.shape.join(',') !== shape.join(',')) {
      throw new AttnvizFileError(`${name}: tensor "${tensor}" has shape [${info.shape.join(', ')}], manifest implies [${shape.join(', ')}]`);
    }
    const size = (shape ?? info.shape).reduce((p, s) => p * s, 1) * (ITEM_SIZE[type] ?? 1);
    if (info.data_offsets[1] - info.data_offsets[0] !== size) {
      throw new AttnvizFileError(`${name}: tensor "${tensor}" spans ${info.data_offsets[1] - info.data_offsets[0]} bytes, its shape needs ${size}`);
    }
  };
  for (let layer = 0; layer < n_layers; layer++) {
    expect(`q.${layer}`, [n_heads, n_tokens, d_head], DTYPE_NAMES[dtype]);
    expect(`k.${layer}`, [n_kv_heads, n_tokens, d_head], DTYPE_NAMES[dtype]);
  }
  expect('tokens.parquet', null, 'U8');
  if (dataStart + end !== fileSize) {
    throw new AttnvizFileError(`${name}: truncated or corrupt: header describes ${dataStart + end} bytes, the file has ${fileSize}`);
  }
  return { manifest, dataStart, tensors };
}

/**
 * Absolute byte ranges of one head's Q and K, first `rows` rows only when given. With
 * grouped-query attention K is the key head shared by `head` (head / (n_heads / n_kv_heads)).
 */
export function headRanges(layout: AttnvizLayout, layer: number, head: number, rows?: number): { queries: [number, number]; keys: [number, number]; meta: QKMeta } {
  const { n_layers, n_heads, n_kv_heads, n_tokens, d_head, dtype } = layout.manifest;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < n_layers && Number.isInteger(head) && head >= 0 && head < n_heads)) {
    throw new RangeError(`head (${layer}, ${head}) is out of range: this capture has layers 0..${n_layers - 1} and heads 0..${n_heads - 1}`);
  }
  const count = rows && rows > 0 && rows < n_tokens ? Math.floor(rows) : n_tokens;
  const itemSize = dtype === 'float16' ? 2 : 4;
  const block = n_tokens * d_head * itemSize;
  const length = count * d_head * itemSize;
  const at = (tensor: string, index: number): [number, number] => {
    const start = layout.dataStart + layout.tensors.get(tensor)!.data_offsets[0] + index * block;
    return [start, start + length];
  };
  const kv = Math.floor(head / (n_heads / n_kv_heads));
  return {
    queries: at(`q.${layer}`, head),
    keys: at(`k.${layer}`, kv),
    meta: { layer, head, n_tokens: count, d_head, dtype },
  };
}

/** Columns every token table has (as Python's `Capture` requires). */
const REQUIRED_COLUMNS = ['text', 'seq'];

/**
 * Column values of one Parquet column, concatenated over row groups; the chunks must
 * cover its `rows` rows exactly (a damaged file can leave holes or overlaps).
 */
function concatChunks(column: string, chunks: Array<{ rowStart: number; data: DecodedArray }>, rows: number, name: string): DecodedArray {
  const covered = chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
  const inside = chunks.every(({ rowStart, data }) => Number.isInteger(rowStart) && rowStart >= 0 && rowStart + data.length <= rows);
  if (covered !== rows || !inside) throw new AttnvizFileError(`${name}: token table column "${column}" holds ${covered} values for ${rows} rows`);
  if (chunks.length === 1) return chunks[0].data;
  const kind = chunks[0]?.data.constructor;
  const sameKind = chunks.length > 0 && chunks.every((chunk) => chunk.data.constructor === kind) && kind !== Array;
  const out = (sameKind ? new (kind as new (n: number) => DecodedArray)(rows) : new Array<unknown>(rows)) as DecodedArray;
  for (const { rowStart, data } of chunks) {
    for (let i = 0; i < data.length; i++) (out as unknown as unknown[])[rowStart + i] = (data as unknown as unknown[])[i];
  }
  return out;
}

/** Every column of a Parquet file, decoded (hyparquet), with its row count. */
async function readParquetColumns(bytes: Uint8Array, name: string): Promise<{ rows: number; names: string[]; chunks: Map<string, Array<{ rowStart: number; data: DecodedArray }>> }> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const chunks = new Map<string, Array<{ rowStart: number; data: DecodedArray }>>();
  try {
    const metadata = parquetMetadata(file);
    const rows = Number(metadata.num_rows);
    const names = metadata.schema.slice(1).filter((element) => !element.num_children).map((element) => element.name);
    await parquetRead({
      file,
      metadata,
      onChunk: ({ columnName, columnData, rowStart }) => {
        let list = chunks.get(columnName);
        if (!list) chunks.set(columnName, (list = []));
        list.push({ rowStart, data: columnData });
      },
    });
    return { rows, names, chunks };
  } catch (error) {
    throw new AttnvizFileError(`${name}: token table is corrupt (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * A Parquet token table (as pandas/pyarrow write it) as an Arrow IPC stream, the form the
 * view's `_tokens` trait takes. Strings stay strings (never markup); int64 stays int64.
 */
export async function parquetToArrowIPC(bytes: Uint8Array, name = 'file', expectedRows?: number): Promise<Uint8Array> {
  const { rows, names, chunks } = await readParquetColumns(bytes, name);
  if (expectedRows !== undefined && rows !== expectedRows) {
    throw new AttnvizFileError(`${name}: token table has ${rows} rows, manifest says ${expectedRows} tokens`);
  }
  const missing = REQUIRED_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length) throw new AttnvizFileError(`${name}: token table has no ${missing.map((column) => `"${column}"`).join(' or ')} column`);
  const columns: Record<string, DecodedArray> = {};
  for (const column of names) columns[column] = concatChunks(column, chunks.get(column) ?? [], rows, name);
  try {
    return tableToIPC(tableFromArrays(columns as Parameters<typeof tableFromArrays>[0]), 'stream');
  } catch (error) {
    throw new AttnvizFileError(`${name}: token table columns cannot be converted (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** An opened capture: manifest, any head's Q/K, the token table. */
export interface AttnvizReader {
  manifest: AttnvizManifest;
  layout: AttnvizLayout;
  /** Q/K of (layer, head), first `rows` rows when given, as little-endian bytes. */
  qk(layer: number, head: number, rows?: number): Promise<HeadBytes>;
  /** The token table as an Arrow IPC stream (decode with model/tokens.ts). */
  tokens(): Promise<DataView>;
  /** PNG bytes of the image of sequence `seq` (vision captures keep them as `image.{seq}`). */
  image(seq: number): Promise<DataView>;
}

/** Read and validate the header of `source`; Q/K and tokens are read on demand. */
export async function openAttnviz(source: ByteSource, name = 'file'): Promise<AttnvizReader> {
  const size = source.byteLength;
  const n = headerLength(size >= 8 ? await source.read(0, 8) : new Uint8Array(0), size, name);
  const layout = parseHeader(await source.read(8, 8 + n), size, name);
  const { manifest } = layout;
  const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = async ([start, end]: [number, number]): Promise<DataView> => {
    const bytes = await source.read(start, end);
    if (bytes.byteLength !== end - start) throw new AttnvizFileError(`${name}: read ${bytes.byteLength} bytes at ${start}, expected ${end - start}; the file changed or is truncated`);
    return view(bytes);
  };
  // Grouped-query heads share their K: the last few K reads are kept, not fetched again.
  const recentKeys = new Map<string, Promise<DataView>>();
  const readKeys = (range: [number, number]): Promise<DataView> => {
    const key = range.join('-');
    let found = recentKeys.get(key);
    if (!found) {
      found = read(range);
      found.catch(() => recentKeys.delete(key));
      recentKeys.set(key, found);
      if (recentKeys.size > 8) recentKeys.delete(recentKeys.keys().next().value!);
    }
    return found;
  };
  return {
    manifest,
    layout,
    async qk(layer, head, rows) {
      const ranges = headRanges(layout, layer, head, rows);
      const [queries, keys] = await Promise.all([read(ranges.queries), readKeys(ranges.keys)]);
      return { queries, keys, meta: ranges.meta };
    },
    async tokens() {
      const info = layout.tensors.get('tokens.parquet')!;
      const parquet = await read([layout.dataStart + info.data_offsets[0], layout.dataStart + info.data_offsets[1]]);
      const bytes = new Uint8Array(parquet.buffer, parquet.byteOffset, parquet.byteLength);
      return view(await parquetToArrowIPC(bytes, name, manifest.n_tokens));
    },
    async image(seq) {
      const info = Number.isInteger(seq) ? layout.tensors.get(`image.${seq}`) : undefined;
      if (!info || info.dtype !== 'U8') {
        const count = [...layout.tensors.keys()].filter((key) => key.startsWith('image.')).length;
        throw new RangeError(count ? `no image for sequence ${seq}: this capture holds ${count} images` : 'this capture holds no images');
      }
      return read([layout.dataStart + info.data_offsets[0], layout.dataStart + info.data_offsets[1]]);
    },
  };
}
