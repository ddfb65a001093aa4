import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, connectWs, createWsServer, type Transport, type WsServerOptions } from '../../src/transport/index.js';
import { collect, leakGuard, rawUpgrade, waitFor, type Collector } from './helpers.js';

const guard = leakGuard();

/** A server that records its side of every connection. */
async function recordingServer(options: Partial<WsServerOptions> = {}) {
  const sides: Array<{ transport: Transport; events: Collector }> = [];
  const server = await createWsServer({
    ...options,
    onConnection: (transport) => sides.push({ transport, events: collect(transport) }),
  });
  guard.defer(() => server.close());
  return { server, sides };
}

describe('heartbeat', () => {
  it('terminates a peer that does not answer pings', async () => {
    const { server, sides } = await recordingServer({ heartbeatMs: 50 });
    const silent = new WebSocket(server.url, { autoPong: false });
    guard.defer(() => silent.terminate());
    await once(silent, 'open');
    const [code] = (await once(silent, 'close')) as [number];
    expect(code).toBe(CloseCode.ABNORMAL); // terminated: no close frame
    await waitFor(() => sides.length === 1);
    expect(await sides[0]?.events.closed).toEqual({ code: 1006, reason: 'heartbeat timeout' });
    expect(server.connections).toBe(0);
    await server.close();
  });

  it('keeps a peer that answers pings', async () => {
    const { server, sides } = await recordingServer({ heartbeatMs: 60 });
    const client = await connectWs(server.url, { heartbeatMs: 0 });
    const events = collect(client);
    await new Promise((resolve) => setTimeout(resolve, 300)); // ≈ 5 ping intervals
    expect(client.isOpen).toBe(true);
    expect(sides[0]?.transport.isOpen).toBe(true);
    client.close(CloseCode.NORMAL, 'done');
    await events.closed;
    await server.close();
  });

  it('the client detects a server that does not answer pings', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    guard.defer(() => new Promise((resolve) => wss.close(resolve)));
    await once(wss, 'listening');
    const { port } = wss.address() as { port: number };
    const client = await connectWs(`ws://127.0.0.1:${port}`, { heartbeatMs: 50 });
    expect(await collect(client).closed).toEqual({ code: 1006, reason: 'heartbeat timeout' });
    await waitFor(() => wss.clients.size === 0);
    await new Promise((resolve) => wss.close(resolve));
  });
});

describe('send high-water mark', () => {
  it('closes with 1008 when the peer stops reading', async () => {
    const { server, sides } = await recordingServer({ sendHighWaterMark: 256 * 1024 });
    const raw = await rawUpgrade(server.url);
    expect(raw.status).toBe(101);
    const socket = raw.socket;
    if (socket === undefined) throw new Error('no upgraded socket');
    guard.defer(() => socket.destroy());
    socket.pause(); // the peer stops reading; kernel buffers fill, then ws buffers
    await waitFor(() => sides.length === 1);
    const side = sides[0];
    if (side === undefined) throw new Error('no connection');

    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    // Bounded: 4096 × 64 KiB = 256 MiB would be far beyond any loopback socket buffer.
    while (side.transport.isOpen && sent < 4096) {
      side.transport.send(chunk);
      sent += 1;
    }
    expect(side.transport.isOpen).toBe(false);
    expect(await side.events.closed).toEqual({ code: 1008, reason: 'send buffer overflow' });
    expect(() => side.transport.send(chunk)).not.toThrow();
    const gone = once(socket, 'close');
    socket.resume(); // drain what arrived; the server already destroyed its end
    await gone;
    await server.close();
  });

  it('does not trip for a peer that keeps up', async () => {
    const { server, sides } = await recordingServer({ sendHighWaterMark: 256 * 1024 });
    // 3.2 MiB as fast as the loop turns is beyond the client's default receive budget (4003): not what this tests.
    const client = await connectWs(server.url, { receiveBudget: false });
    const events = collect(client);
    await waitFor(() => sides.length === 1);
    const chunk = 'y'.repeat(16 * 1024);
    for (let i = 0; i < 200; i++) {
      sides[0]?.transport.send(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => events.frames.length === 200, 5_000, 'all frames');
    expect(sides[0]?.transport.isOpen).toBe(true);
    client.close(CloseCode.NORMAL, '');
    await events.closed;
    await server.close();
  });
});

describe('closing handshake', () => {
  it('does not wait longer than closeTimeoutMs for a peer that never answers the close', async () => {
    const { server, sides } = await recordingServer({ closeTimeoutMs: 100 });
    const raw = await rawUpgrade(server.url);
    const socket = raw.socket;
    if (socket === undefined) throw new Error('no upgraded socket');
    guard.defer(() => socket.destroy());
    socket.resume(); // reads, but never sends a close frame back
    await waitFor(() => sides.length === 1);
    const started = Date.now();
    sides[0]?.transport.close(CloseCode.NORMAL, 'bye');
    expect(await sides[0]?.events.closed).toEqual({ code: 1000, reason: 'bye' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(1_000);
    await server.close();
  });

  it('server.close() does not hang on such a peer either', async () => {
    const { server } = await recordingServer({ closeTimeoutMs: 100 });
    const raw = await rawUpgrade(server.url);
    guard.defer(() => raw.socket?.destroy());
    raw.socket?.resume();
    await waitFor(() => server.connections === 1);
    await server.close();
    expect(server.connections).toBe(0);
  });
});

describe('maximum frame size', () => {
  it('reports 1009 on both sides', async () => {
    const { server, sides } = await recordingServer({ maxFrameBytes: 100 });
    const client = await connectWs(server.url);
    const events = collect(client);
    client.send('a'.repeat(101));
    expect((await events.closed).code).toBe(1009);
    await waitFor(() => sides.length === 1);
    expect((await sides[0]?.events.closed)?.code).toBe(1009);
    await server.close();
  });

  it('the client enforces its own limit', async () => {
    const { server, sides } = await recordingServer();
    const client = await connectWs(server.url, { maxFrameBytes: 100 });
    const events = collect(client);
    await waitFor(() => sides.length === 1);
    sides[0]?.transport.send('b'.repeat(101));
    expect((await events.closed).code).toBe(1009);
    expect((await sides[0]?.events.closed)?.code).toBe(1009);
    await server.close();
  });
});
