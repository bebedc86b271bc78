/**
 * The ONNX model for typed text, downloaded from the host: `onnx-files` names the files
 * and their sizes, then `onnx-chunk` requests fetch each file from offset 0 up, one at a
 * time (each answer at most 16 MiB). Any error, or an answer that does not fit (another
 * file or offset, a size that changed, an empty or overlong chunk), rejects naming it.
 */
import type { ViewChannel } from './transport';

/** Files the inference session needs; `tokenizer_config` is optional. */
export const REQUIRED_FILES = ['model', 'tokenizer', 'manifest', 'wasm'] as const;

/** Bytes received so far of `total`. */
export type DownloadProgress = (received: number, total: number) => void;

export async function downloadModelFiles(channel: ViewChannel, onProgress: DownloadProgress): Promise<Map<string, Uint8Array>> {
  const { result } = await channel.request('onnx-files', {});
  const sizes = result.files && typeof result.files === 'object' ? result.files : {};
  const missing = REQUIRED_FILES.filter((name) => !(name in sizes));
  if (missing.length) throw new Error(`the host offers no ${missing.join(', ')} for the typed-text model`);
  const entries = Object.entries(sizes);
  for (const [name, size] of entries) {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`the host gave ${name} an impossible size (${String(size)})`);
  }
  const total = entries.reduce((sum, [, size]) => sum + size, 0);
  let received = 0;
  onProgress(0, total);
  const files = new Map<string, Uint8Array>();
  for (const [name, size] of entries) {
    const bytes = new Uint8Array(size);
    for (let offset = 0; offset < size; ) {
      const { result: chunk, buffers } = await channel.request('onnx-chunk', { file: name, offset });
      const data = buffers[0];
      if (chunk.file !== name || chunk.offset !== offset || chunk.size !== size) {
        throw new Error(`the host answered ${name} at ${offset} (of ${size} bytes) with ${String(chunk.file)} at ${String(chunk.offset)} (of ${String(chunk.size)})`);
      }
      if (!data || data.byteLength === 0 || offset + data.byteLength > size) {
        throw new Error(`the host sent ${data?.byteLength ?? 'no'} bytes of ${name} at ${offset}, which does not fit its ${size} bytes`);
      }
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
      offset += data.byteLength;
      received += data.byteLength;
      onProgress(received, total);
    }
    files.set(name, bytes);
  }
  return files;
}
