/**
 * Receive budgets (issue 15 item 5): every incoming frame draws its size from a byte bucket and 1
 * from a message bucket before it is decoded; a peer that sends more than a bucket holds is closed
 * with 4003 BUDGET_EXCEEDED and a reason naming the budget. Time is an injected `now`: no sleeps.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { checkCemServerOptions, checkRmClientOptions } from '../../src/roles/options.js';
import {
  DEFAULT_RECEIVE_BURST_MESSAGES,
  DEFAULT_RECEIVE_BYTES_PER_SECOND,
  DEFAULT_RECEIVE_INITIAL_BYTES,
  DEFAULT_RECEIVE_MESSAGES_PER_SECOND,
  ReceiveBudget,
  resolveReceiveBudget,
  type ResolvedReceiveBudget,
} from '../../src/transport/budget.js';
import { CloseCode, DEFAULT_MAX_FRAME_BYTES } from '../../src/transport/index.js';
import { wrapWebSocket } from '../../src/transport/ws-transport.js';
import { S2Error } from '../../src/typebox/errors.js';
import { rmDetailsInput } from '../support/e2e-messages.js';
import { collect } from './helpers.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function budget(over: Partial<ResolvedReceiveBudget> = {}): ResolvedReceiveBudget {
  return {
    bytesPerSecond: 1_000,
    burstBytes: 10_000,
    initialBytes: 10_000,
    messagesPerSecond: 10,
    burstMessages: 20,
    now: () => 0,
    ...over,
  };
}

describe('ReceiveBudget (token buckets)', () => {
  it('lets a full burst of messages through, refuses the next one, and refills at the rate', () => {
    const clock = fakeClock();
    const b = new ReceiveBudget(budget({ now: clock.now }));
    for (let i = 0; i < 20; i++) expect(b.take(1), `message ${i + 1}`).toBeUndefined();
    const verdict = b.take(1);
    expect(verdict?.reason).toBe('message budget exceeded: 10/s, burst 20');
    expect(verdict?.detail).toMatch(/more than 10 messages per second beyond a burst of 20/);
    clock.advance(100); // 10/s × 0.1 s = one message
    expect(b.take(1)).toBeUndefined();
    expect(b.take(1)).toBeDefined();
  });

  it('refuses a frame larger than what is left of the byte burst, naming the numbers', () => {
    const clock = fakeClock();
    const b = new ReceiveBudget(budget({ now: clock.now }));
    expect(b.take(9_000)).toBeUndefined();
    const verdict = b.take(1_500);
    expect(verdict?.reason).toBe('byte budget exceeded: 1500-byte frame, 1000 left (1000 B/s, burst 10000)');
    // A refused frame takes nothing: a smaller one still fits.
    expect(b.take(1_000)).toBeUndefined();
    clock.advance(2_000); // refills 2,000 bytes
    expect(b.take(2_000)).toBeUndefined();
  });

  it('a new connection starts with initialBytes: a large frame passes only once the bucket has filled', () => {
    const clock = fakeClock();
    const b = new ReceiveBudget(budget({ now: clock.now, initialBytes: 1_000 }));
    expect(b.take(4_000)?.reason).toBe('byte budget exceeded: 4000-byte frame, 1000 left (1000 B/s, burst 10000)');
    clock.advance(3_000);
    expect(b.take(4_000)).toBeUndefined();
  });

  it('never refills beyond the burst, however long the peer was quiet', () => {
    const clock = fakeClock();
    const b = new ReceiveBudget(budget({ now: clock.now }));
    clock.advance(3_600_000);
    expect(b.take(10_000)).toBeUndefined();
    expect(b.take(1)).toBeDefined();
  });

  it('a clock that goes backwards refills nothing and drains nothing', () => {
    const clock = fakeClock(50_000);
    const b = new ReceiveBudget(budget({ now: clock.now }));
    expect(b.take(10_000)).toBeUndefined();
    clock.advance(-10_000);
    expect(b.take(1)).toBeDefined();
    clock.advance(10_001); // back past the old high-water mark by 1 ms: 1 byte
    expect(b.take(1)).toBeUndefined();
  });

  it('a peer at a steady rate just under the budget is never refused', () => {
    const clock = fakeClock();
    const b = new ReceiveBudget(budget({ now: clock.now }));
    // 9 messages of 100 bytes per second for 10 simulated minutes: below both rates.
    let refused = 0;
    for (let i = 0; i < 9 * 600; i++) {
      clock.advance(1000 / 9);
      if (b.take(100) !== undefined) refused++;
    }
    expect(refused).toBe(0);
  });
});

describe('resolveReceiveBudget', () => {
  it('fills in the documented defaults: 1 MiB/s, burst maxFrameBytes + 1 MiB, 1 MiB at first, 200 messages/s, burst 1,000', () => {
    const r = resolveReceiveBudget(undefined, DEFAULT_MAX_FRAME_BYTES);
    expect(r).toMatchObject({
      bytesPerSecond: 1024 * 1024,
      burstBytes: 5 * 1024 * 1024,
      initialBytes: 1024 * 1024,
      messagesPerSecond: 200,
      burstMessages: 1000,
    });
    expect(DEFAULT_RECEIVE_BYTES_PER_SECOND).toBe(1024 * 1024);
    expect(DEFAULT_RECEIVE_MESSAGES_PER_SECOND).toBe(200);
    expect(DEFAULT_RECEIVE_BURST_MESSAGES).toBe(1000);
    expect(DEFAULT_RECEIVE_INITIAL_BYTES).toBe(1024 * 1024);
    expect(resolveReceiveBudget({}, 1024)?.burstBytes).toBe(1024 + 1024 * 1024);
    // Never more at first than the burst.
    expect(resolveReceiveBudget({ burstBytes: 4096 }, 1024)?.initialBytes).toBe(4096);
    expect(resolveReceiveBudget({ initialBytes: 8 << 20 }, DEFAULT_MAX_FRAME_BYTES)?.initialBytes).toBe(5 * 1024 * 1024);
    expect(resolveReceiveBudget({ burstBytes: 5000, messagesPerSecond: 3 }, 1024)).toMatchObject({
      burstBytes: 5000,
      messagesPerSecond: 3,
    });
  });

  it('false turns budgets off', () => {
    expect(resolveReceiveBudget(false, DEFAULT_MAX_FRAME_BYTES)).toBeUndefined();
  });
});

/** The parts of a `ws` socket the transport touches on the receive path. */
class FakeWs extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  closedWith: { code: number; reason: string } | undefined;
  /** The socket under `ws`: its 'data' listener is the frame parser. */
  readonly _socket = Object.assign(new EventEmitter(), { ended: false, end: () => void (this._socket.ended = true) });

  constructor() {
    super();
    this._socket.on('data', () => this.emit('parsed'));
  }

  ping(): void {}
  send(): void {}
  terminate(): void {
    this.readyState = WebSocket.CLOSED;
    queueMicrotask(() => this.emit('close', 1006, Buffer.alloc(0)));
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = WebSocket.CLOSING;
    queueMicrotask(() => {
      this.readyState = WebSocket.CLOSED;
      this.emit('close', 1006, Buffer.alloc(0));
    });
  }
  /** A text frame from the peer. */
  frame(text: string): void {
    this.emit('message', Buffer.from(text), false);
  }
}

function budgetedTransport(receiveBudget: ResolvedReceiveBudget | undefined) {
  const ws = new FakeWs();
  const transport = wrapWebSocket(ws as unknown as WebSocket, 'fake:1', {
    heartbeatMs: 0,
    pongTimeoutMs: 1_000,
    sendHighWaterMark: 1 << 20,
    closeTimeoutMs: 1_000,
    receiveBudget,
  });
  return { ws, transport, events: collect(transport) };
}

describe('WebSocket transport with a receive budget', () => {
  it('delivers frames within the budget and closes with 4003 at the first frame beyond it, before delivering it', async () => {
    const clock = fakeClock();
    const { ws, transport, events } = budgetedTransport(budget({ now: clock.now, burstMessages: 5 }));
    for (let i = 0; i < 5; i++) ws.frame(`{"n":${i}}`);
    expect(events.frames).toHaveLength(5);
    ws.frame('{"n":5}');
    ws.frame('{"n":6}'); // after the close decision: dropped
    expect(events.frames).toHaveLength(5);
    expect(transport.isOpen).toBe(false);
    expect(ws.closedWith).toEqual({ code: 4003, reason: 'message budget exceeded: 10/s, burst 5' });
    // It stops parsing the flood at once (what still comes is read and dropped) and ends the socket after the close frame.
    let parsed = 0;
    ws.on('parsed', () => parsed++);
    ws._socket.emit('data', Buffer.alloc(1024));
    expect(parsed).toBe(0);
    expect(ws._socket.listenerCount('data')).toBe(1);
    expect(ws._socket.ended).toBe(true);
    expect(await events.closed).toEqual({ code: CloseCode.BUDGET_EXCEEDED, reason: 'message budget exceeded: 10/s, burst 5' });
    // Reported like the transport's other limit closes: an error (logged by the session) then the close.
    expect(events.errors).toHaveLength(1);
    const err = events.errors[0] as S2Error;
    expect(err).toBeInstanceOf(S2Error);
    expect(err).toMatchObject({ code: 'BUDGET_EXCEEDED', closeCode: 4003 });
    expect(err.message).toMatch(/fake:1: the peer sent more than 10 messages per second beyond a burst of 5/);
  });

  it('counts bytes as they arrived on the wire (UTF-8), and a paced peer keeps its connection', () => {
    const clock = fakeClock();
    const { ws, transport, events } = budgetedTransport(budget({ now: clock.now, bytesPerSecond: 100, burstBytes: 100 }));
    const text = `"${'é'.repeat(20)}"`; // 22 characters, 42 bytes
    ws.frame(text);
    ws.frame(text);
    expect(events.frames).toHaveLength(2); // 84 of 100 bytes
    clock.advance(260); // +26 bytes: 42 available
    ws.frame(text);
    expect(events.frames).toHaveLength(3);
    expect(transport.isOpen).toBe(true);
    ws.frame(text);
    expect(events.frames).toHaveLength(3);
    expect(ws.closedWith?.code).toBe(4003);
    expect(ws.closedWith?.reason).toBe('byte budget exceeded: 42-byte frame, 0 left (100 B/s, burst 100)');
  });

  it('without a budget (receiveBudget: false) a flood is delivered in full', () => {
    const { ws, transport, events } = budgetedTransport(undefined);
    for (let i = 0; i < 5_000; i++) ws.frame('{}');
    expect(events.frames).toHaveLength(5_000);
    expect(transport.isOpen).toBe(true);
  });
});

describe('receiveBudget options (createCemServer, createRmClient)', () => {
  const rm = { url: 'ws://127.0.0.1:1', details: rmDetailsInput(['NOT_CONTROLABLE']) };

  it('accepts false, {} and positive numbers; the defaults need no option', () => {
    expect(checkCemServerOptions({})).toEqual([]);
    expect(checkCemServerOptions({ receiveBudget: false })).toEqual([]);
    expect(checkCemServerOptions({ receiveBudget: {} })).toEqual([]);
    expect(
      checkCemServerOptions({
        receiveBudget: {
          bytesPerSecond: 0.5,
          burstBytes: 8 << 20,
          initialBytes: 1,
          messagesPerSecond: 2.5,
          burstMessages: 10,
          now: () => 0,
        },
      }),
    ).toEqual([]);
    expect(checkRmClientOptions({ ...rm, receiveBudget: { messagesPerSecond: 50 } })).toEqual([]);
  });

  it('names every bad field with its value', () => {
    const problems = checkCemServerOptions({
      receiveBudget: { bytesPerSecond: 0, burstBytes: 1.5, initialBytes: 0, messagesPerSecond: Infinity, burstMessages: -1, now: 5 },
    });
    expect(problems.map((p) => p.path)).toEqual([
      'receiveBudget.bytesPerSecond',
      'receiveBudget.messagesPerSecond',
      'receiveBudget.burstBytes',
      'receiveBudget.initialBytes',
      'receiveBudget.burstMessages',
      'receiveBudget.now',
      'receiveBudget.burstBytes',
    ]);
    expect(checkRmClientOptions({ ...rm, receiveBudget: 'off' })).toEqual([
      expect.objectContaining({ path: 'receiveBudget', value: '"off"' }) as unknown,
    ]);
  });

  it('refuses a byte burst below maxFrameBytes: a frame the size limit allows would always close the connection', () => {
    expect(checkCemServerOptions({ receiveBudget: { burstBytes: 1024 } })).toEqual([
      expect.objectContaining({
        path: 'receiveBudget.burstBytes',
        message: expect.stringMatching(/below maxFrameBytes \(4194304\)/) as unknown,
      }) as unknown,
    ]);
    expect(checkCemServerOptions({ maxFrameBytes: 1024, receiveBudget: { burstBytes: 1024 } })).toEqual([]);
  });
});
