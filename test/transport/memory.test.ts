import { describe, expect, it } from 'vitest';
import { CloseCode, createMemoryPair } from '../../src/transport/index.js';
import { collect, leakGuard } from './helpers.js';

leakGuard();

describe('memory pair', () => {
  it('names each end after its peer', () => {
    const [cem, rm] = createMemoryPair({ a: 'cem', b: 'rm' });
    expect(cem.peer).toBe('memory:rm');
    expect(rm.peer).toBe('memory:cem');
    const [a, b] = createMemoryPair();
    expect([a.peer, b.peer]).toEqual(['memory:b', 'memory:a']);
  });

  it('delivers frames asynchronously and in order, both ways', async () => {
    const [a, b] = createMemoryPair();
    const ra = collect(a);
    const rb = collect(b);
    for (let i = 0; i < 100; i++) a.send(`a${i}`);
    b.send('b0');
    expect(rb.frames).toEqual([]); // never synchronously inside send()
    await Promise.resolve();
    await Promise.resolve();
    expect(rb.frames).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
    expect(ra.frames).toEqual(['b0']);
    a.close(CloseCode.NORMAL, 'done');
    await ra.closed;
  });

  it('buffers frames and the close that arrive before start()', async () => {
    const [a, b] = createMemoryPair();
    a.send('one');
    a.send('two');
    a.close(4000, 'bye');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(b.isOpen).toBe(false);
    const rb = collect(b);
    expect(rb.frames).toEqual(['one', 'two']);
    expect(rb.closes).toEqual([{ code: 4000, reason: 'bye' }]);
  });

  it('propagates close to both sides exactly once, after the frames sent before it', async () => {
    const [a, b] = createMemoryPair();
    const ra = collect(a);
    const rb = collect(b);
    a.send('last');
    a.close(CloseCode.GOING_AWAY, 'shutting down');
    a.close(CloseCode.NORMAL, 'again'); // idempotent
    expect(a.isOpen).toBe(false);
    expect(() => a.send('after close')).not.toThrow();
    expect(await rb.closed).toEqual({ code: 1001, reason: 'shutting down' });
    expect(await ra.closed).toEqual({ code: 1001, reason: 'shutting down' });
    expect(rb.frames).toEqual(['last']);
    expect(b.isOpen).toBe(false);
    b.close(CloseCode.NORMAL, 'late');
    b.send('late');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ra.closes).toHaveLength(1);
    expect(rb.closes).toHaveLength(1);
    expect(ra.frames).toEqual([]);
  });

  it('drops frames still in flight to a side that already closed', async () => {
    const [a, b] = createMemoryPair();
    const ra = collect(a);
    collect(b);
    b.send('in flight');
    a.close(CloseCode.NORMAL, 'bye');
    await ra.closed;
    expect(ra.frames).toEqual([]);
  });

  it('closes with 1011 when a text handler throws, and reports the error', async () => {
    const [a, b] = createMemoryPair();
    const rb = collect(b);
    const errors: unknown[] = [];
    let closed: number | undefined;
    a.start({
      text: () => {
        throw new Error('boom');
      },
      error: (err) => errors.push(err),
      close: (code) => (closed = code),
    });
    b.send('x');
    expect(await rb.closed).toEqual({ code: 1011, reason: 'internal error' });
    expect(closed).toBe(1011);
    expect(errors).toHaveLength(1);
  });

  it('rejects a second start()', () => {
    const [a] = createMemoryPair();
    a.start({ text: () => undefined, close: () => undefined });
    expect(() => a.start({ text: () => undefined, close: () => undefined })).toThrow(/twice/);
  });
});
