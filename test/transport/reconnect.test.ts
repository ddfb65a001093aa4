import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  CloseCode,
  createMemoryPair,
  createReconnectingClient,
  type Clock,
  type Transport,
} from '../../src/transport/index.js';
import { collect, leakGuard } from './helpers.js';

leakGuard();

/** Deterministic PRNG (mulberry32) so jitter is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements Clock {
  now = 0;
  readonly delays: number[] = [];
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.delays.push(ms);
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers, and lets the promise callbacks they cause run. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.at <= this.now) {
        this.#timers.delete(id);
        timer.fn();
      }
    }
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('backoffDelay', () => {
  it('grows exponentially up to maxMs and stays within the jitter band', () => {
    const random = seeded(42);
    const options = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.5 };
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(5_000, 100 * 2 ** attempt);
      const delay = backoffDelay(attempt, options, random);
      expect(delay).toBeLessThanOrEqual(ceiling);
      expect(delay).toBeGreaterThanOrEqual(ceiling * 0.5);
    }
    const ceilings = Array.from({ length: 8 }, (_, n) => backoffDelay(n, { ...options, jitter: 0 }));
    expect(ceilings).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  it('uses the documented defaults and formula', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(1_000);
    expect(backoffDelay(0, {}, () => 0.5)).toBe(750); // 1000 × (1 − 0.5 × 0.5)
    expect(backoffDelay(3, {}, () => 0)).toBe(8_000);
    expect(backoffDelay(100, {}, () => 0)).toBe(60_000);
    expect(backoffDelay(10_000, { initialMs: 0 }, () => 0)).toBe(0);
    expect(backoffDelay(-3, {}, () => 0)).toBe(1_000);
  });

  it('is reproducible with a seeded random source', () => {
    const run = () => Array.from({ length: 6 }, (_, n) => backoffDelay(n, {}, seeded(7)));
    expect(run()).toEqual(run());
  });
});

/** A connect() that hands out memory transports (or fails on demand) and keeps the far ends. */
function fakeDialler() {
  const far: Transport[] = [];
  let failures = 0;
  return {
    far,
    dials: 0,
    failNext(n: number) {
      failures = n;
    },
    connect(): Promise<Transport> {
      this.dials += 1;
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('ECONNREFUSED'));
      }
      const [near, remote] = createMemoryPair({ a: 'rm', b: 'cem' });
      collect(remote);
      far.push(remote);
      return Promise.resolve(near);
    },
  };
}

describe('createReconnectingClient', () => {
  it('dials at once, backs off after failures, and hands over the transport', async () => {
    const clock = new FakeClock();
    const dialler = fakeDialler();
    dialler.failNext(3);
    const opened: Transport[] = [];
    const dialErrors: number[] = [];
    const client = createReconnectingClient({
      connect: () => dialler.connect(),
      onTransport: (t) => opened.push(t),
      onDialError: (_err, attempt) => dialErrors.push(attempt),
      clock,
      random: () => 0,
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    await flush();
    expect(dialler.dials).toBe(1);
    expect(clock.delays).toEqual([100]);
    await clock.advance(99);
    expect(dialler.dials).toBe(1);
    await clock.advance(1);
    expect(dialler.dials).toBe(2);
    await clock.advance(200);
    await clock.advance(400);
    expect(dialler.dials).toBe(4);
    expect(clock.delays).toEqual([100, 200, 400]);
    expect(dialErrors).toEqual([0, 1, 2]);
    expect(opened).toHaveLength(1);
    expect(client.attempts).toBe(3);
    client.stop();
    await flush();
    expect(opened[0]?.isOpen).toBe(false);
  });

  it('reconnects after a close with back-off; markHealthy() resets it', async () => {
    const clock = new FakeClock();
    const dialler = fakeDialler();
    const opened: Transport[] = [];
    const client = createReconnectingClient({
      connect: () => dialler.connect(),
      onTransport: (t) => opened.push(t),
      clock,
      random: () => 0,
      backoff: { initialMs: 100 },
    });
    await flush();
    const first = collect(opened[0] as Transport);
    dialler.far[0]?.close(CloseCode.NORMAL, 'TERMINATE'); // a normal close still backs off
    expect(await first.closed).toEqual({ code: 1000, reason: 'TERMINATE' });
    await flush();
    expect(clock.delays).toEqual([100]);
    await clock.advance(100);
    expect(opened).toHaveLength(2);

    dialler.far[1]?.close(CloseCode.GOING_AWAY, '');
    await flush();
    expect(clock.delays).toEqual([100, 200]); // unhealthy connections keep growing the wait
    await clock.advance(200);
    client.markHealthy();
    expect(client.attempts).toBe(0);
    dialler.far[2]?.close(CloseCode.GOING_AWAY, '');
    await flush();
    expect(clock.delays).toEqual([100, 200, 100]);
    client.stop();
  });

  it('reconnectNow() closes the current transport and dials without waiting', async () => {
    const clock = new FakeClock();
    const dialler = fakeDialler();
    const opened: Transport[] = [];
    const client = createReconnectingClient({
      connect: () => dialler.connect(),
      onTransport: (t) => opened.push(t),
      clock,
    });
    await flush();
    const first = collect(opened[0] as Transport);
    client.reconnectNow();
    expect(await first.closed).toEqual({ code: 1000, reason: 'reconnect' });
    await flush();
    expect(dialler.dials).toBe(2);
    expect(opened).toHaveLength(2);
    expect(clock.delays).toEqual([]);

    // During a back-off wait it cuts the wait short.
    dialler.failNext(1);
    dialler.far[1]?.close(CloseCode.NORMAL, '');
    await flush();
    await clock.advance(60_000);
    expect(dialler.dials).toBe(3);
    expect(clock.pending).toBe(1);
    client.reconnectNow();
    await flush();
    expect(dialler.dials).toBe(4);
    expect(clock.pending).toBe(0);
    expect(opened).toHaveLength(3);
    client.stop();
  });

  it('stop() ends everything, including a dial in flight', async () => {
    const clock = new FakeClock();
    let resolveDial!: (t: Transport) => void;
    let dials = 0;
    const [near, far] = createMemoryPair();
    const farEvents = collect(far);
    const opened: Transport[] = [];
    const client = createReconnectingClient({
      connect: () => {
        dials += 1;
        return new Promise((resolve) => (resolveDial = resolve));
      },
      onTransport: (t) => opened.push(t),
      clock,
    });
    client.stop();
    client.stop(); // idempotent
    resolveDial(near);
    expect(await farEvents.closed).toEqual({ code: 1000, reason: 'client stopped' });
    await clock.advance(120_000);
    client.reconnectNow();
    await flush();
    expect(dials).toBe(1);
    expect(opened).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('copes with a connection that died before it was handed over', async () => {
    const clock = new FakeClock();
    const opened: Transport[] = [];
    let dials = 0;
    const client = createReconnectingClient({
      connect: async () => {
        dials += 1;
        const [near, far] = createMemoryPair();
        far.close(CloseCode.GOING_AWAY, 'gone already');
        await flush();
        return near;
      },
      onTransport: (t) => opened.push(t),
      clock,
      random: () => 0,
      backoff: { initialMs: 10 },
    });
    await flush();
    await flush();
    expect(opened).toHaveLength(1);
    expect(opened[0]?.isOpen).toBe(false);
    expect(await collect(opened[0] as Transport).closed).toEqual({ code: 1001, reason: 'gone already' });
    expect(clock.delays).toEqual([10]);
    await clock.advance(10);
    await flush();
    expect(dials).toBe(2);
    client.stop();
  });

  it('closes a transport whose owner throws, then carries on', async () => {
    const clock = new FakeClock();
    const dialler = fakeDialler();
    let calls = 0;
    const client = createReconnectingClient({
      connect: () => dialler.connect(),
      onTransport: () => {
        calls += 1;
        throw new Error('owner bug');
      },
      clock,
      random: () => 0,
      backoff: { initialMs: 10 },
    });
    await flush();
    await flush();
    expect(dialler.far[0]?.isOpen).toBe(false);
    await clock.advance(10);
    expect(calls).toBe(2);
    client.stop();
  });
});
