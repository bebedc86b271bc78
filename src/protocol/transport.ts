/** The two ends a channel runs over: anywidget's model (the view) and a MemoryModel's kernel end (hosts). */
import type { AnyModel } from '@anywidget/types';
import { Channel, type OutBuffers, type Transport } from './channel';
import { HOST_REQUEST_TIMEOUTS, VIEW_REQUEST_TIMEOUTS, type HostSide, type ViewSide } from './kinds';

export type ViewChannel = Channel<ViewSide>;
export type HostChannel = Channel<HostSide>;

/** As DataViews (anywidget's receiving convention); a DataView passes as it is (no copy). */
const asViews = (buffers: OutBuffers): DataView[] =>
  buffers.map((b) => (b instanceof DataView ? b : b instanceof ArrayBuffer ? new DataView(b) : new DataView(b.buffer, b.byteOffset, b.byteLength)));

/** The view's end: `model.send` out, the model's `msg:custom` in. */
export function modelTransport(model: Pick<AnyModel, 'send' | 'on' | 'off'>): Transport {
  return {
    send: (content, buffers) => model.send(content, undefined, buffers as ArrayBuffer[]),
    listen: (receive) => {
      model.on('msg:custom', receive);
      return () => model.off('msg:custom', receive);
    },
  };
}

/** The kernel's end of an in-memory model (MemoryModel): what its views send, and `deliver` to them. */
export interface KernelEnd {
  deliver(content: unknown, buffers: DataView[]): void;
  onSent(listener: (content: unknown, buffers: DataView[]) => void): () => void;
}

/** The kernel's end of an in-memory model: what views send in, `deliver` out. */
export function memoryHostTransport(model: KernelEnd): Transport {
  return {
    send: (content, buffers) => model.deliver(content, asViews(buffers)),
    listen: (receive) => model.onSent(receive),
  };
}

export function viewChannel(model: Pick<AnyModel, 'send' | 'on' | 'off'>): ViewChannel {
  return new Channel<ViewSide>(modelTransport(model), VIEW_REQUEST_TIMEOUTS);
}

export function hostChannel(model: KernelEnd): HostChannel {
  return new Channel<HostSide>(memoryHostTransport(model), HOST_REQUEST_TIMEOUTS);
}
