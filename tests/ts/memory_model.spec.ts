import { MemoryModel } from '../../src/model/memory_model';

interface State {
  count: number;
  name: string;
  items: number[] | null;
  ratio: number;
}

function makeModel(): MemoryModel<State> {
  return new MemoryModel<State>({ count: 1, name: 'a', items: null, ratio: NaN });
}

describe('MemoryModel', () => {
  it('returns the initial state and does not share it with the caller', () => {
    const initial: State = { count: 1, name: 'a', items: null, ratio: 0 };
    const model = new MemoryModel(initial);
    initial.count = 99;
    expect(model.get('count')).toBe(1);
    expect(model.get('name')).toBe('a');
  });

  it('set updates get and notifies change:<key> listeners synchronously, once', () => {
    const model = makeModel();
    const seen: number[] = [];
    model.on('change:count', () => seen.push(model.get('count')));
    model.set('count', 2);
    expect(seen).toEqual([2]);
    model.set('count', 3);
    expect(seen).toEqual([2, 3]);
  });

  it('does not notify listeners of other keys', () => {
    const model = makeModel();
    const name = jasmine.createSpy('name');
    model.on('change:name', name);
    model.set('count', 5);
    expect(name).not.toHaveBeenCalled();
  });

  it('emits nothing when the value is identical (same primitive, same object, NaN)', () => {
    const model = makeModel();
    const items = [1, 2];
    model.set('items', items);
    const spy = jasmine.createSpy('change');
    model.on('change:count', spy);
    model.on('change:items', spy);
    model.on('change:ratio', spy);
    model.set('count', 1);
    model.set('items', items);
    model.set('ratio', NaN);
    expect(spy).not.toHaveBeenCalled();
    // An equal but different object is a change (buffers are replaced, not mutated).
    model.set('items', [1, 2]);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('off(event, callback) removes one listener; off(event) all of that event; off() everything', () => {
    const model = makeModel();
    const a = jasmine.createSpy('a');
    const b = jasmine.createSpy('b');
    const c = jasmine.createSpy('c');
    model.on('change:count', a);
    model.on('change:count', b);
    model.on('change:name', c);
    expect(model.listenerCount()).toBe(3);

    model.off('change:count', a);
    expect(model.listenerCount()).toBe(2);
    model.set('count', 2);
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);

    model.off('change:count');
    expect(model.listenerCount()).toBe(1);
    model.set('count', 3);
    expect(b).toHaveBeenCalledTimes(1);

    model.off();
    expect(model.listenerCount()).toBe(0);
    model.set('name', 'b');
    expect(c).not.toHaveBeenCalled();
  });

  it('counts a callback registered twice for one event once, and per event otherwise', () => {
    const model = makeModel();
    const a = (): void => undefined;
    model.on('change:count', a);
    model.on('change:count', a);
    expect(model.listenerCount()).toBe(1);
    model.on('change:name', a);
    expect(model.listenerCount()).toBe(2);
    model.off('change:name', a);
    model.off('change:count', a);
    expect(model.listenerCount()).toBe(0);
  });

  it('lets a listener remove itself (or add another) during an event without skipping others', () => {
    const model = makeModel();
    const calls: string[] = [];
    const once = (): void => {
      calls.push('once');
      model.off('change:count', once);
    };
    model.on('change:count', once);
    model.on('change:count', () => calls.push('always'));
    model.set('count', 2);
    model.set('count', 3);
    expect(calls).toEqual(['once', 'always', 'always']);
  });

  it('has no-op save_changes/send and a widget manager that refuses', async () => {
    const model = makeModel();
    expect(() => model.save_changes()).not.toThrow();
    expect(() => model.send({ type: 'ping' })).not.toThrow();
    await expectAsync(model.widget_manager.get_model()).toBeRejectedWithError(/standalone/);
  });

  it('lets kernel ends hear what views send, after the constructor callback and asynchronously', async () => {
    const heard: string[] = [];
    const model = new MemoryModel({ count: 0 }, (content) => heard.push(`onSend ${JSON.stringify(content)}`));
    const stop = model.onSent((content, buffers) => heard.push(`onSent ${JSON.stringify(content)} ${buffers[0]?.byteLength}`));
    model.send({ kind: 'html', id: 1 }, undefined, [new Uint8Array(3)]);
    expect(heard).toEqual([]); // not re-entrant: a kernel round trip is never synchronous
    await Promise.resolve();
    expect(heard).toEqual(['onSend {"kind":"html","id":1}', 'onSent {"kind":"html","id":1} 3']);
    stop();
    model.send({ kind: 'html', id: 2 });
    await Promise.resolve();
    expect(heard.length).toBe(3);
  });
});
