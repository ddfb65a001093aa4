import { once } from 'node:events';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, connectWs, createWsServer, type Transport, type WsServerOptions } from '../../src/transport/index.js';
import { collect, leakGuard, rawUpgrade, waitFor, type Collector } from './helpers.js';

const guard = leakGuard();

/** A server whose connections echo every frame; `accepted` lists the server-side transports. */
async function echoServer(options: Partial<WsServerOptions> = {}) {
  const accepted: Array<{ transport: Transport; headers: http.IncomingHttpHeaders }> = [];
  const server = await createWsServer({
    ...options,
    onConnection: (transport, info) => {
      accepted.push({ transport, headers: info.headers });
      transport.start({ text: (frame) => transport.send(frame), close: () => undefined });
    },
  });
  guard.defer(() => server.close());
  return { server, accepted };
}

async function rawClient(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  const ws = new WebSocket(url, options);
  guard.defer(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

describe('WebSocket transport', () => {
  it('echoes text frames in order and reports peers', async () => {
    const { server, accepted } = await echoServer();
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    const client = await connectWs(server.url);
    expect(client.peer).toBe(`127.0.0.1:${server.port}`);
    expect(client.isOpen).toBe(true);
    const received = collect(client);
    const frames = ['{"a":1}', 'ünïcødé ✓', 'x'.repeat(70_000)];
    for (const frame of frames) client.send(frame);
    await waitFor(() => received.frames.length === frames.length);
    expect(received.frames).toEqual(frames);
    expect(accepted[0]?.transport.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.connections).toBe(1);

    client.close(CloseCode.NORMAL, 'bye');
    expect(client.isOpen).toBe(false);
    expect(() => client.send('after close')).not.toThrow();
    expect(await received.closed).toEqual({ code: 1000, reason: 'bye' });
    await waitFor(() => server.connections === 0);
    await server.close();
  });

  it('closes every connection with 1001 on server.close() and stops listening', async () => {
    const { server } = await echoServer();
    const port = server.port;
    const clients = await Promise.all([connectWs(server.url), connectWs(server.url)]);
    const closes = clients.map((c) => collect(c).closed);
    await server.close();
    expect(await Promise.all(closes)).toEqual([
      { code: 1001, reason: 'server shutting down' },
      { code: 1001, reason: 'server shutting down' },
    ]);
    expect(server.connections).toBe(0);
    await expect(connectWs(`ws://127.0.0.1:${port}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('closes with 1009 when a frame exceeds maxFrameBytes', async () => {
    const { server, accepted } = await echoServer({ maxFrameBytes: 1024 });
    const client = await connectWs(server.url);
    const received = collect(client);
    client.send('x'.repeat(1024)); // exactly the limit is fine
    expect(await received.nextFrame()).toHaveLength(1024);
    client.send('x'.repeat(1025));
    expect((await received.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
    await waitFor(() => server.connections === 0);
    expect(accepted).toHaveLength(1);
    await server.close();
  });

  it('closes with 1003 when the peer sends a binary frame', async () => {
    const { server, accepted } = await echoServer();
    const ws = await rawClient(server.url);
    ws.send(Buffer.from([1, 2, 3]));
    const [code] = (await once(ws, 'close')) as [number, Buffer];
    expect(code).toBe(CloseCode.UNSUPPORTED_DATA);
    await waitFor(() => server.connections === 0);
    expect(accepted[0]?.transport.isOpen).toBe(false);
    await server.close();
  });

  it('client side also refuses binary frames', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    guard.defer(() => new Promise((resolve) => wss.close(resolve)));
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.send(Buffer.from([0xff])));
    const { port } = wss.address() as { port: number };
    const client = await connectWs(`ws://127.0.0.1:${port}`);
    expect((await collect(client).closed).code).toBe(CloseCode.UNSUPPORTED_DATA);
    await waitFor(() => wss.clients.size === 0);
    await new Promise((resolve) => wss.close(resolve));
  });

  it('truncates an over-long close reason to the 123 bytes RFC 6455 allows', async () => {
    let serverSide: Collector | undefined;
    const server = await createWsServer({ onConnection: (t) => (serverSide = collect(t)) });
    guard.defer(() => server.close());
    const client = await connectWs(server.url);
    const events = collect(client);
    await waitFor(() => serverSide !== undefined);
    expect(() => client.close(4001, 'é'.repeat(100))).not.toThrow();
    const seen = await serverSide?.closed;
    expect(seen?.code).toBe(4001);
    expect(Buffer.byteLength(seen?.reason ?? '')).toBeLessThanOrEqual(123);
    expect(seen?.reason).toMatch(/^é+\.\.\.$/);
    await events.closed;
    await server.close();
  });

  it('buffers frames that arrive before start()', async () => {
    let serverSide: Transport | undefined;
    const server = await createWsServer({ onConnection: (t) => (serverSide = t) });
    guard.defer(() => server.close());
    const client = await connectWs(server.url);
    client.send('early 1');
    client.send('early 2');
    await waitFor(() => serverSide !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const received = collect(serverSide as Transport);
    expect(received.frames).toEqual(['early 1', 'early 2']);
    client.close(CloseCode.NORMAL, 'done');
    expect(await received.closed).toEqual({ code: 1000, reason: 'done' });
    await server.close();
  });

  it('leaves permessage-deflate off by default and negotiates it when asked', async () => {
    const plain = await echoServer();
    const offered = await rawClient(plain.server.url, { perMessageDeflate: true });
    expect(offered.extensions).toBe('');
    offered.close();
    const client = await connectWs(plain.server.url);
    await waitFor(() => plain.accepted.length === 2);
    expect(plain.accepted[1]?.headers['sec-websocket-extensions']).toBeUndefined();
    client.close(CloseCode.NORMAL, '');
    await waitFor(() => plain.server.connections === 0);
    await plain.server.close();

    const deflating = await echoServer({ perMessageDeflate: true });
    const raw = await rawClient(deflating.server.url, { perMessageDeflate: true });
    expect(raw.extensions).toMatch(/^permessage-deflate/);
    raw.close();
    const compressed = await connectWs(deflating.server.url, { perMessageDeflate: true });
    const received = collect(compressed);
    await waitFor(() => deflating.accepted.length === 2);
    expect(deflating.accepted[1]?.headers['sec-websocket-extensions']).toMatch(/permessage-deflate/);
    compressed.send('z'.repeat(10_000));
    expect(await received.nextFrame()).toBe('z'.repeat(10_000));
    compressed.close(CloseCode.NORMAL, '');
    await received.closed;
    await deflating.server.close();
  });

  it('answers plain HTTP with 426 and a wrong path with 404', async () => {
    const { server, accepted } = await echoServer({ path: '/s2' });
    expect(server.url).toMatch(/\/s2$/);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get(server.url.replace('ws:', 'http:'), { agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        })
        .on('error', reject);
    });
    expect(status).toBe(426);
    expect((await rawUpgrade(server.url.replace('/s2', '/other'))).status).toBe(404);
    const client = await connectWs(server.url);
    client.close(CloseCode.NORMAL, '');
    await collect(client).closed;
    expect(accepted).toHaveLength(1);
    await server.close();
  });

  it('attaches to an existing HTTP server without closing it', async () => {
    const http1 = http.createServer((_req, res) => res.end('still here'));
    guard.defer(() => new Promise((resolve) => http1.close(resolve)));
    await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
    const { server } = await echoServer({ server: http1, path: '/ws' });
    const client = await connectWs(server.url);
    const received = collect(client);
    client.send('hello');
    expect(await received.nextFrame()).toBe('hello');
    await server.close();
    expect((await received.closed).code).toBe(1001);
    expect(http1.listening).toBe(true);
    http1.closeAllConnections();
    await new Promise((resolve) => http1.close(resolve));
  });

  it('closes with 1011 when onConnection throws, and keeps serving', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const server = await createWsServer({
      onConnection: (t) => {
        calls += 1;
        if (calls === 1) throw new Error('bad handler');
        t.start({ text: (f) => t.send(f), close: () => undefined });
      },
      onError: (err) => errors.push(err),
    });
    guard.defer(() => server.close());
    const first = await connectWs(server.url);
    expect((await collect(first).closed).code).toBe(CloseCode.INTERNAL_ERROR);
    expect(errors).toHaveLength(1);
    const second = await connectWs(server.url);
    const events = collect(second);
    second.send('ok');
    expect(await events.nextFrame()).toBe('ok');
    second.close(CloseCode.NORMAL, '');
    await events.closed;
    await server.close();
  });

  it('reports 1007 for a text frame that is not UTF-8', async () => {
    let serverSide: Collector | undefined;
    const server = await createWsServer({ onConnection: (t) => (serverSide = collect(t)) });
    guard.defer(() => server.close());
    const raw = await rawUpgrade(server.url);
    const socket = raw.socket;
    if (socket === undefined) throw new Error('no upgraded socket');
    guard.defer(() => socket.destroy());
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await waitFor(() => serverSide !== undefined);
    const closed = (serverSide as Collector).closed;
    // FIN + text opcode, masked, 2-byte payload 0xff 0xfe (never valid UTF-8), mask 0.
    socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]));
    expect((await closed).code).toBe(CloseCode.INVALID_PAYLOAD);
    await waitFor(() => received.length > 0);
    const frame = Buffer.concat(received);
    expect(frame[0]).toBe(0x88); // the close frame the peer got carries 1007 too
    expect(frame.readUInt16BE(2)).toBe(1007);
    await server.close();
  });

  it('rejects with a clear error when nobody listens', async () => {
    const { server } = await echoServer();
    const url = server.url;
    await server.close();
    const error = await connectWs(url).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'TransportConnectError', code: 'TRANSPORT_CONNECT_FAILED' });
    expect(String(error)).toContain(url);
  });
});
