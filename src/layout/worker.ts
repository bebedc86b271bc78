/**
 * Layout worker: receives one head's Q/K and layout parameters, posts progress and
 * the layout back (transferred, not copied). Cancellation = the pool terminates it.
 */
import { jointLayout } from './joint';
import type { LayoutParams } from './types';

export interface LayoutJob {
  id: number;
  queries: Float32Array;
  keys: Float32Array;
  nTokens: number;
  dHead: number;
  params: LayoutParams;
}

export type WorkerReply =
  | { id: number; type: 'progress'; fraction: number; stage: string }
  | { id: number; type: 'done'; layout: Float32Array; seconds: number }
  | { id: number; type: 'error'; message: string };

interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutJob>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  const job = event.data;
  const started = performance.now();
  let lastReport = 0;
  try {
    const layout = jointLayout(job.queries, job.keys, job.nTokens, job.dHead, job.params, (fraction, stage) => {
      const now = performance.now();
      if (now - lastReport < 100 && fraction < 1) return; // ~10 progress messages a second at most
      lastReport = now;
      scope.postMessage({ id: job.id, type: 'progress', fraction, stage });
    });
    scope.postMessage({ id: job.id, type: 'done', layout, seconds: (performance.now() - started) / 1000 }, [
      layout.buffer,
    ]);
  } catch (error) {
    scope.postMessage({ id: job.id, type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
