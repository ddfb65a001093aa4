import type http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createCemServer } from '../../src/roles/cem-server.js';
import type { S2Session } from '../../src/roles/session.js';
import type { Inspector } from '../../src/inspect/inspector.js';
import { createProxy, type Proxy } from '../../src/proxy/relay.js';
import type { ProxyRecord } from '../../src/proxy/report.js';
import { waitFor } from '../transport/helpers.js';

/** Everything a test opened, closed after it. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** A plain `ws` server standing in for the CEM: records every frame, the upgrade request and the close. */
async function upstreamServer(opts: { verify?: (req: http.IncomingMessage) => number | undefined } = {}) {
  const frames: Received[] = [];
  const requests: http.IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  let onConnection: (ws: WebSocket) => void = () => {};
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('s2') ? 's2' : false),
    verifyClient: (info, cb) => {
      const status = opts.verify?.(info.req);
      if (status === undefined) cb(true);
      else cb(false, status, undefined, { 'WWW-Authenticate': 'Bearer realm="s2"' });
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    requests.push(req);
    sockets.push(ws);
    ws.on('message', (data: RawData, isBinary) => frames.push({ data: Buffer.from(data as Buffer), isBinary }));
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    onConnection(ws);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  );
  const { port } = wss.address() as net.AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    frames,
    requests,
    sockets,
    closes,
    set onConnection(f: (ws: WebSocket) => void) {
      onConnection = f;
    },
  };
}

async function proxyTo(upstream: string, records: ProxyRecord[] = [], errors: Error[] = []): Promise<Proxy> {
  const proxy = await createProxy({ upstream, onRecord: (r) => records.push(r), onError: (e) => errors.push(e) });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** An RM-side client of the proxy that records what it receives. */
async function client(url: string, protocols: string[] = [], headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, protocols, { headers });
  const frames: Received[] = [];
  ws.on('message', (data: RawData, isBinary) => frames.push({ data: Buffer.from(data as Buffer), isBinary }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  cleanups.push(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

/** Polls `check` (the shared test helper) with this file's patience. */
const until = (check: () => boolean, what: string, ms = 3000): Promise<void> => waitFor(check, ms, what);

/** Texts a re-encoding relay would change: spacing, key order, escapes, non-ASCII, broken JSON. */
const AWKWARD = [
  '{ "message_type" : "Handshake",\n\t"message_id":"a1",  "role":"RM", "supported_protocol_versions":["0.0.2-beta"] }',
  '{"message_id":"b2","message_type":"PowerMeasurement","z":1,"a":"\\u00e9\\/é 🔋"}',
  'not json at all',
  '',
  '{"message_type":"X","n":1.0e0,"big":12345678901234567890}',
  'x'.repeat(70_000),
];

describe('s2 proxy relay', () => {
  it('relays text frames byte for byte and in order, RM → CEM and CEM → RM, as text', async () => {
    const up = await upstreamServer();
    const proxy = await proxyTo(up.url);
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'the upstream connection');
    for (const t of AWKWARD) rm.ws.send(Buffer.from(t, 'utf8'), { binary: false });
    for (const t of [...AWKWARD].reverse()) up.sockets[0]!.send(t);
    await until(() => up.frames.length === AWKWARD.length && rm.frames.length === AWKWARD.length, 'every frame on both ends');
    expect(up.frames.map((f) => f.isBinary)).toEqual(AWKWARD.map(() => false));
    expect(up.frames.map((f) => f.data.equals(Buffer.from(AWKWARD[up.frames.indexOf(f)]!, 'utf8')))).toEqual(AWKWARD.map(() => true));
    const back = [...AWKWARD].reverse();
    expect(rm.frames.map((f) => f.isBinary)).toEqual(back.map(() => false));
    expect(rm.frames.map((f, i) => f.data.equals(Buffer.from(back[i]!, 'utf8')))).toEqual(back.map(() => true));
  });

  it('frames the CEM sends right after the upgrade reach the RM, before and in order with later ones', async () => {
    const up = await upstreamServer();
    up.onConnection = (ws) => {
      for (let i = 0; i < 20; i++) ws.send(`{"n":${i}}`);
    };
    const proxy = await proxyTo(up.url);
    const rm = await client(proxy.url);
    await until(() => rm.frames.length === 20, '20 frames');
    expect(rm.frames.map((f) => f.data.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `{"n":${i}}`));
  });

  it('passes Authorization, X-* and Sec-WebSocket-Protocol upstream (not other headers) and the chosen subprotocol back', async () => {
    const up = await upstreamServer();
    const proxy = await proxyTo(up.url);
    const rm = await client(proxy.url, ['s2', 'other'], { Authorization: 'Bearer tok-123', 'X-Device': 'battery 7', Cookie: 'c=1' });
    await until(() => up.requests.length === 1, 'the upstream upgrade');
    const h = up.requests[0]!.headers;
    expect(h.authorization).toBe('Bearer tok-123');
    expect(h['x-device']).toBe('battery 7');
    expect(h.cookie).toBeUndefined();
    expect(h['sec-websocket-protocol']).toBe('s2,other');
    expect(rm.ws.protocol).toBe('s2');
  });

  it('answers the RM’s upgrade with the upstream’s refusal status (401 with its challenge, 404)', async () => {
    for (const status of [401, 404]) {
      const up = await upstreamServer({ verify: () => status });
      const proxy = await proxyTo(up.url);
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const ws = new WebSocket(proxy.url);
        ws.once('unexpected-response', (_req, r) => {
          resolve(r);
          ws.terminate();
        });
        ws.once('open', () => reject(new Error('opened')));
        ws.on('error', () => undefined);
      });
      expect(res.statusCode).toBe(status);
      if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer realm="s2"');
      expect(proxy.sessions()).toHaveLength(0);
    }
  });

  it('an unreachable upstream: the RM’s upgrade is answered 502 with the reason, and onError says the same', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as net.AddressInfo;
    await new Promise((r) => s.close(r));
    const errors: Error[] = [];
    const proxy = await proxyTo(`ws://127.0.0.1:${port}`, [], errors);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve) => {
      const ws = new WebSocket(proxy.url);
      ws.on('error', () => undefined);
      ws.once('unexpected-response', (_req, r) => {
        let b = '';
        r.on('data', (d: Buffer) => (b += d.toString()));
        r.on('end', () => {
          resolve({ status: r.statusCode ?? 0, body: b });
          ws.terminate();
        });
      });
    });
    expect(status).toBe(502);
    expect(body).toContain(`upstream ws://127.0.0.1:${port} unreachable: ECONNREFUSED`);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('ECONNREFUSED')]);
  });

  it('refuses to start on a port already in use (the listen error, not a hang)', async () => {
    const first = await createProxy({ upstream: 'ws://127.0.0.1:9' });
    try {
      await expect(createProxy({ upstream: 'ws://127.0.0.1:9', port: Number(new URL(first.url).port) })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });

  it('an upstream that accepts TCP but never answers the upgrade: 504 after handshakeTimeoutMs', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((c) => sockets.push(c));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      silent.close();
      for (const c of sockets) c.destroy();
    });
    const proxy = await createProxy({ upstream: `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, handshakeTimeoutMs: 100 });
    cleanups.push(() => proxy.close());
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(proxy.url);
      ws.on('error', () => undefined);
      ws.once('unexpected-response', (_req, r) => {
        resolve(r.statusCode ?? 0);
        ws.terminate();
      });
    });
    expect(status).toBe(504);
  });

  it('relays pings and pongs end to end (each end’s heartbeat measures the whole path)', async () => {
    const up = await upstreamServer();
    const proxy = await proxyTo(up.url);
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream');
    const pinged = new Promise<string>((resolve) => up.sockets[0]!.once('ping', (d: Buffer) => resolve(d.toString())));
    const ponged = new Promise<string>((resolve) => rm.ws.once('pong', (d: Buffer) => resolve(d.toString())));
    rm.ws.ping('are you there');
    expect(await pinged).toBe('are you there');
    expect(await ponged).toBe('are you there');
  });

  it('mirrors close code and reason RM → CEM, and the session ends with a summary naming who closed', async () => {
    const up = await upstreamServer();
    const records: ProxyRecord[] = [];
    const proxy = await proxyTo(up.url, records);
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream');
    rm.ws.close(4001, 'RM says bye');
    await until(() => up.closes.length === 1, 'the upstream close');
    expect(up.closes[0]).toEqual({ code: 4001, reason: 'RM says bye' });
    expect(await rm.closed).toEqual({ code: 4001, reason: 'RM says bye' });
    await until(() => records.some((r) => r.kind === 'summary'), 'the summary');
    expect(records.find((r) => r.kind === 'summary')).toMatchObject({ close: { by: 'RM', code: 4001, reason: 'RM says bye' } });
    expect(proxy.sessions()).toHaveLength(0);
  });

  it('mirrors close code and reason CEM → RM', async () => {
    const up = await upstreamServer();
    const proxy = await proxyTo(up.url);
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream');
    up.sockets[0]!.close(1011, 'CEM broke');
    expect(await rm.closed).toEqual({ code: 1011, reason: 'CEM broke' });
    const s = proxy.summaries()[0]!;
    await proxy.sessions()[0]?.closed;
    expect(proxy.summaries()[0]).toMatchObject({ session: s.session, close: { by: 'CEM', code: 1011, reason: 'CEM broke' } });
  });

  it('mirrors a close without status (1005) and a vanished connection (1006) as such', async () => {
    const up = await upstreamServer();
    const proxy = await proxyTo(up.url);
    const rm1 = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream 1');
    up.sockets[0]!.close();
    expect((await rm1.closed).code).toBe(1005);
    const rm2 = await client(proxy.url);
    await until(() => up.sockets.length === 2, 'upstream 2');
    rm2.ws.terminate();
    await until(() => up.closes.length === 2, 'the second upstream close');
    expect(up.closes[1]!.code).toBe(1006);
  });

  it('[R1] relays a binary frame as binary, byte for byte, and reports it as an R1 violation of its sender', async () => {
    const up = await upstreamServer();
    const records: ProxyRecord[] = [];
    const proxy = await proxyTo(up.url, records);
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    rm.ws.send(bytes, { binary: true });
    up.sockets[0]!.send(bytes, { binary: true });
    await until(() => up.frames.length === 1 && rm.frames.length === 1, 'both binary frames');
    expect(up.frames[0]).toEqual({ data: bytes, isBinary: true });
    expect(rm.frames[0]).toEqual({ data: bytes, isBinary: true });
    const frames = records.filter((r) => r.kind === 'frame');
    expect(frames).toEqual([
      expect.objectContaining({ from: 'RM', binary: true, ok: false, violations: ['R1'] }),
      expect.objectContaining({ from: 'CEM', binary: true, ok: false, violations: ['R1'] }),
    ]);
    const violations = records.filter((r) => r.kind === 'violation');
    expect(violations.map((v) => [v.side, v.rules])).toEqual([
      ['RM', ['R1']],
      ['CEM', ['R1']],
    ]);
    expect(proxy.sessions()[0]!.summary()).toMatchObject({ violations: 2, rules: { R1: { failed: 2 } } });
  });

  it('close() ends every session with 1001 on both sides and resolves after the summaries', async () => {
    const up = await upstreamServer();
    const records: ProxyRecord[] = [];
    const proxy = await createProxy({ upstream: up.url, onRecord: (r) => records.push(r) });
    const rm = await client(proxy.url);
    await until(() => up.sockets.length === 1, 'upstream');
    await proxy.close();
    expect((await rm.closed).code).toBe(1001);
    await until(() => up.closes.length === 1, 'upstream close');
    expect(up.closes[0]!.code).toBe(1001);
    expect(records.filter((r) => r.kind === 'summary')).toEqual([
      expect.objectContaining({ close: { by: 'proxy', code: 1001, reason: 'proxy shutting down' } }),
    ]);
  });

  it('[R39] --strict: a violating RM frame is not forwarded; the RM gets the ReceptionStatus a correct CEM sends (INVALID_CONTENT)', async () => {
    const received: string[] = [];
    const cem = await createCemServer({
      port: 0,
      logger: false,
      onSession: (session: S2Session) => session.on('received', ({ message }) => received.push(message?.message_type ?? '?')),
    });
    cleanups.push(() => cem.close());
    const records: ProxyRecord[] = [];
    const proxy = await createProxy({ upstream: cem.url, strict: true, onRecord: (r) => records.push(r) });
    cleanups.push(() => proxy.close());
    const fixture = (name: string) =>
      JSON.parse(fs.readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const statusId = randomUUID();
    const answers = new Map<string, string>();
    const ws = new WebSocket(proxy.url);
    cleanups.push(() => ws.terminate());
    const send = (m: Record<string, unknown>) => ws.send(JSON.stringify(m));
    ws.on('open', () =>
      send({ message_type: 'Handshake', message_id: randomUUID(), role: 'RM', supported_protocol_versions: ['0.0.2-beta'] }),
    );
    ws.on('message', (data: RawData) => {
      const m = JSON.parse((data as Buffer).toString('utf8')) as {
        message_type: string;
        message_id?: string;
        subject_message_id?: string;
        status?: string;
      };
      if (m.message_type === 'ReceptionStatus') return void answers.set(m.subject_message_id!, m.status!);
      send({ message_type: 'ReceptionStatus', subject_message_id: m.message_id, status: 'OK' });
      if (m.message_type === 'HandshakeResponse') send({ ...fixture('ResourceManagerDetails'), message_id: randomUUID() });
      if (m.message_type === 'SelectControlType') send({ ...fixture('FRBC.ActuatorStatus'), message_id: statusId });
    });
    await until(() => answers.has(statusId), 'the answer to FRBC.ActuatorStatus');
    expect(answers.get(statusId)).toBe('INVALID_CONTENT');
    expect(received).toContain('ResourceManagerDetails');
    expect(received).not.toContain('FRBC.ActuatorStatus');
    const frame = records.find((r) => r.kind === 'frame' && r.type === 'FRBC.ActuatorStatus');
    expect(frame).toMatchObject({ from: 'RM', ok: false, violations: expect.arrayContaining(['R39']) as unknown });
    expect(frame?.kind === 'frame' && frame.answered).toContain('"status":"INVALID_CONTENT"');
    expect(records.filter((r) => r.kind === 'violation')).toEqual([expect.objectContaining({ side: 'RM' })]);
  });

  it('attaches both shadow sessions of every proxied session to the inspector, with its inspection hook', async () => {
    const up = await upstreamServer();
    const attached: S2Session[] = [];
    const inspect = () => undefined;
    const inspector: Inspector = { url: 'http://127.0.0.1/', inspect, attach: (s) => attached.push(s), close: () => Promise.resolve() };
    const proxy = await createProxy({ upstream: up.url, inspector });
    cleanups.push(() => proxy.close());
    await client(proxy.url);
    await until(() => proxy.sessions().length === 1, 'the session');
    const { judge } = proxy.sessions()[0]!;
    expect(attached).toEqual([judge.shadows.CEM, judge.shadows.RM]);
    expect(attached.map((s) => s.role)).toEqual(['CEM', 'RM']);
  });
});
