/**
 * Heartbeat detection bound: a peer that stops answering pings (a half-open connection: it
 * vanished, or it stopped reading) is dropped at most `heartbeatMs + pongTimeoutMs` after its
 * last pong — not up to two ping intervals later, as when an unanswered ping was only noticed at
 * the next tick (50–100 s with the S2 Connect interval; 96.9 s measured).
 */
import { EventEmitter, once } from 'node:events';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { checkCemServerOptions, checkRmClientOptions } from '../../src/roles/options.js';
import { CloseCode, connectWs, createWsServer, type Transport } from '../../src/transport/index.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_PONG_TIMEOUT_MS, defaultPongTimeoutMs } from '../../src/transport/transport.js';
import { wrapWebSocket, type WsLimits } from '../../src/transport/ws-transport.js';
import { collect, leakGuard, waitFor } from './helpers.js';

/** The parts of a `ws` socket the transport touches, driven by hand under fake timers. */
class FakeWs extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  pings = 0;
  terminated = false;
  /** Answer every ping at once, as `ws` does by default; false = the peer went silent. */
  answering = true;

  ping(): void {
    this.pings += 1;
    if (this.answering) queueMicrotask(() => this.emit('pong', Buffer.alloc(0)));
  }

  terminate(): void {
    if (this.readyState === WebSocket.CLOSED) return;
    this.terminated = true;
    this.readyState = WebSocket.CLOSED;
    queueMicrotask(() => this.emit('close', 1006, Buffer.alloc(0)));
  }

  close(code: number, reason: string): void {
    this.readyState = WebSocket.CLOSING;
    queueMicrotask(() => {
      this.readyState = WebSocket.CLOSED;
      this.emit('close', code, Buffer.from(reason));
    });
  }

  send(): void {}
}

function fakeTransport(limits: Partial<WsLimits>): { ws: FakeWs; transport: Transport } {
  const ws = new FakeWs();
  const transport = wrapWebSocket(ws as unknown as WebSocket, 'fake:1', {
    heartbeatMs: 200,
    pongTimeoutMs: 100,
    sendHighWaterMark: 1 << 20,
    closeTimeoutMs: 1_000,
    ...limits,
  });
  return { ws, transport };
}

describe('heartbeat detection bound (fake clock)', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('a peer silent after its last pong is dropped exactly heartbeatMs + pongTimeoutMs later, not two intervals later', async () => {
    const { ws, transport } = fakeTransport({ heartbeatMs: 200, pongTimeoutMs: 100 });
    const events = collect(transport);
    await vi.advanceTimersByTimeAsync(200); // first ping, answered at once
    expect(ws.pings).toBe(1);
    const lastPong = Date.now();
    ws.answering = false; // the peer vanishes right after that pong
    await vi.advanceTimersByTimeAsync(200 + 100 - 1);
    expect(ws.pings).toBe(2);
    expect(transport.isOpen).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.terminated).toBe(true);
    expect(Date.now() - lastPong).toBe(300); // heartbeatMs + pongTimeoutMs; the old tick logic took 400
    expect(await events.closed).toEqual({ code: CloseCode.ABNORMAL, reason: 'heartbeat timeout' });
  });

  it('a pong that arrives within pongTimeoutMs keeps the connection, interval after interval', async () => {
    const { ws, transport } = fakeTransport({ heartbeatMs: 200, pongTimeoutMs: 100 });
    const events = collect(transport);
    ws.answering = false;
    await vi.advanceTimersByTimeAsync(200);
    for (let i = 1; i <= 10; i += 1) {
      expect(ws.pings).toBe(i);
      await vi.advanceTimersByTimeAsync(99);
      ws.emit('pong', Buffer.alloc(0)); // late, but in time
      await vi.advanceTimersByTimeAsync(101); // the next ping
    }
    expect(transport.isOpen).toBe(true);
    expect(ws.terminated).toBe(false);
    transport.close(CloseCode.NORMAL, 'done');
    expect(await events.closed).toEqual({ code: CloseCode.NORMAL, reason: 'done' });
  });

  it('a pongTimeoutMs longer than the interval keeps one ping outstanding and still bounds detection', async () => {
    const { ws, transport } = fakeTransport({ heartbeatMs: 100, pongTimeoutMs: 250 });
    const events = collect(transport);
    ws.answering = false;
    await vi.advanceTimersByTimeAsync(100 + 250 - 1);
    expect(ws.pings).toBe(1); // no second ping while the first is unanswered
    expect(transport.isOpen).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.terminated).toBe(true);
    expect(await events.closed).toEqual({ code: CloseCode.ABNORMAL, reason: 'heartbeat timeout' });
  });

  it('heartbeatMs 0 disables pings and the pong timeout', async () => {
    const { ws, transport } = fakeTransport({ heartbeatMs: 0, pongTimeoutMs: 10 });
    collect(transport);
    ws.answering = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ws.pings).toBe(0);
    expect(transport.isOpen).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the defaults keep the S2 Connect ping interval and bound detection to 60 s', () => {
    expect(DEFAULT_HEARTBEAT_MS).toBe(50_000); // DOC/S2C#Keepalive: not more often than every 50 s
    expect(DEFAULT_HEARTBEAT_MS + DEFAULT_PONG_TIMEOUT_MS).toBeLessThanOrEqual(60_000);
  });
});

describe('heartbeat detection bound (127.0.0.1)', () => {
  const guard = leakGuard();
  const HEARTBEAT_MS = 400;
  const PONG_TIMEOUT_MS = 100;
  const BOUND_MS = HEARTBEAT_MS + PONG_TIMEOUT_MS;
  /** Timer and loopback latency on a loaded machine; the old logic needed 2 × 400 = 800 ms. */
  const MARGIN_MS = 150;

  function socketOf(ws: WebSocket): Socket {
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    if (socket === undefined) throw new Error('no socket');
    return socket;
  }

  it('the server drops a client that stops reading after a pong within heartbeatMs + pongTimeoutMs', async () => {
    let serverSide: { closedAt?: number; closed?: Promise<unknown> } = {};
    const server = await createWsServer({
      heartbeatMs: HEARTBEAT_MS,
      pongTimeoutMs: PONG_TIMEOUT_MS,
      onConnection: (transport) => {
        const events = collect(transport);
        serverSide = { closed: events.closed.then((c) => ((serverSide.closedAt = performance.now()), c)) };
      },
    });
    guard.defer(() => server.close());
    const client = new WebSocket(server.url);
    guard.defer(() => client.terminate());
    await once(client, 'open');
    await once(client, 'ping'); // ws has answered it already
    const lastPong = performance.now();
    socketOf(client).pause(); // half-open: the TCP connection stays up, nothing is read or answered
    expect(await serverSide.closed).toEqual({ code: CloseCode.ABNORMAL, reason: 'heartbeat timeout' });
    const detection = (serverSide.closedAt ?? Infinity) - lastPong;
    expect(detection).toBeGreaterThanOrEqual(HEARTBEAT_MS - 50);
    expect(detection).toBeLessThanOrEqual(BOUND_MS + MARGIN_MS);
    client.terminate();
    await waitFor(() => server.connections === 0);
    await server.close();
  });

  it('the client drops a server that stops reading after a pong within heartbeatMs + pongTimeoutMs', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    guard.defer(() => {
      for (const ws of wss.clients) ws.terminate(); // a paused socket would hold wss.close() forever
      return new Promise((resolve) => wss.close(resolve));
    });
    await once(wss, 'listening');
    let lastPong = Infinity;
    wss.on('connection', (ws) => {
      ws.once('ping', () => {
        lastPong = performance.now();
        socketOf(ws).pause();
      });
    });
    const { port } = wss.address() as { port: number };
    const client = await connectWs(`ws://127.0.0.1:${port}`, { heartbeatMs: HEARTBEAT_MS, pongTimeoutMs: PONG_TIMEOUT_MS });
    const closed = await collect(client).closed;
    const detection = performance.now() - lastPong;
    expect(closed).toEqual({ code: CloseCode.ABNORMAL, reason: 'heartbeat timeout' });
    expect(detection).toBeGreaterThanOrEqual(HEARTBEAT_MS - 50);
    expect(detection).toBeLessThanOrEqual(BOUND_MS + MARGIN_MS);
    for (const ws of wss.clients) ws.terminate();
    await waitFor(() => wss.clients.size === 0);
    await new Promise((resolve) => wss.close(resolve));
  });
});

describe('pongTimeoutMs default', () => {
  const guard = leakGuard();

  it('is 10 s, or heartbeatMs when that is shorter: a short interval still detects within two intervals', async () => {
    expect(defaultPongTimeoutMs(DEFAULT_HEARTBEAT_MS)).toBe(DEFAULT_PONG_TIMEOUT_MS);
    expect(defaultPongTimeoutMs(1_000)).toBe(1_000);
    const server = await createWsServer({ heartbeatMs: 100, onConnection: (transport) => void collect(transport) });
    guard.defer(() => server.close());
    const silent = new WebSocket(server.url, { autoPong: false });
    guard.defer(() => silent.terminate());
    await once(silent, 'open');
    const opened = performance.now();
    const [code] = (await once(silent, 'close')) as [number];
    expect(code).toBe(CloseCode.ABNORMAL);
    expect(performance.now() - opened).toBeLessThanOrEqual(2 * 100 + 150); // not 100 ms + 10 s
    await waitFor(() => server.connections === 0);
    await server.close();
  });
});

describe('pongTimeoutMs option', () => {
  const details = {
    resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
    roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 100,
    available_control_types: ['NOT_CONTROLABLE'],
    provides_forecast: false,
    provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
  };

  it('is accepted on both sides and must be a positive duration', () => {
    expect(checkCemServerOptions({ heartbeatMs: 50_000, pongTimeoutMs: 10_000 })).toEqual([]);
    expect(checkRmClientOptions({ url: 'ws://cem', details, pongTimeoutMs: 5 })).toEqual([]);
    for (const bad of [0, -1, Number.NaN, 3e9, '10']) {
      expect(checkCemServerOptions({ pongTimeoutMs: bad }).map((p) => p.path)).toEqual(['pongTimeoutMs']);
      expect(checkRmClientOptions({ url: 'ws://cem', details, pongTimeoutMs: bad }).map((p) => p.path)).toEqual(['pongTimeoutMs']);
    }
  });
});
