/**
 * A file on the Jupyter server as a `ByteSource`: HTTP range requests on its download URL
 * (the server's `files/` handler is a static file handler and honours `Range`), so opening
 * a capture reads its header, the token table and then only the heads the view asks for.
 * A server that ignores `Range` answers 200 with the whole file, which is then kept in memory.
 */
import { ServerConnection } from '@jupyterlab/services';
import { bufferSource, type ByteSource } from '../model/attnviz_file';

/** Bytes fetched by the first request: covers the header of any capture short of huge ones. */
const FIRST_READ = 1 << 16;

async function failure(response: Response, url: string): Promise<Error> {
  const detail = response.status === 404 ? 'no such file' : `${response.status} ${response.statusText}`.trim();
  return new Error(`could not read ${decodeURIComponent(new URL(url, location.href).pathname)} from the server (${detail})`);
}

/** Total size from `Content-Range: bytes a-b/total`, or null. */
export function rangeTotal(header: string | null): number | null {
  const match = /\/(\d+)\s*$/.exec(header ?? '');
  return match ? Number(match[1]) : null;
}

export async function httpSource(url: string, settings: ServerConnection.ISettings): Promise<ByteSource> {
  const get = (start: number, end: number): Promise<Response> =>
    ServerConnection.makeRequest(url, { headers: { Range: `bytes=${start}-${end - 1}` }, cache: 'no-store' }, settings);
  const response = await get(0, FIRST_READ);
  if (response.status === 416) return bufferSource(new Uint8Array(0)); // an empty file: nothing to range over
  if (!response.ok) throw await failure(response, url);
  const first = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 206) return bufferSource(first); // the whole file
  const total = rangeTotal(response.headers.get('Content-Range'));
  if (total === null) throw new Error(`the server sent a partial answer without the file size (Content-Range: ${response.headers.get('Content-Range')})`);
  return {
    byteLength: total,
    async read(start: number, end: number): Promise<Uint8Array> {
      if (end <= first.byteLength) return first.subarray(start, end);
      if (end <= start) return new Uint8Array(0);
      const part = await get(start, end);
      if (part.status !== 206) throw part.ok ? new Error('the server stopped answering range requests') : await failure(part, url);
      return new Uint8Array(await part.arrayBuffer());
    },
  };
}
