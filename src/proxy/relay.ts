import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import type { Inspector } from '../inspect/inspector.js';
import { answerClientError, DEFAULT_MAX_HEADER_BYTES } from '../transport/ws-server.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SEND_HIGH_WATER_MARK,
} from '../transport/transport.js';
import { formatPeer } from '../transport/ws-transport.js';
import { createSessionJudge, type JudgeOptions, type JudgeSummary, type SessionJudge, type Side, type Violation } from './judge.js';
import type { FrameRecord, ProxyRecord } from './report.js';

export interface ProxyOptions {
  /** Port the RMs connect to; default 0 (a free port: read `port`/`url`). */
  readonly port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** `ws://` or `wss://` URL of the CEM. Every accepted RM connection gets its own connection to it. */
  readonly upstream: string;
  /** Certificate and key (PEM): serve `wss://` to the RMs. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Extra trusted CA (PEM) for a `wss://` upstream with a private CA. */
  readonly upstreamCa?: string | Buffer;
  /**
   * Answer a violating frame as a correct peer would (the judge's ReceptionStatus) instead of
   * forwarding it. For debugging only: the proxy then changes the conversation it is judging.
   */
  readonly strict?: boolean;
  /** Options for every session's judge (clock, `now`, ReceptionStatus timeout). */
  readonly judge?: Omit<JudgeOptions, 'id' | 'strict' | 'onViolation'>;
  /** Attach both shadow sessions of every proxied session to this inspector. */
  readonly inspector?: Inspector;
  /** Called once per proxied session, when both legs are open and before the first frame. */
  readonly onSession?: (session: ProxySession) => void;
  /** Every report record (frame verdicts, violations, one summary per session), in order. */
  readonly onRecord?: (record: ProxyRecord) => void;
  /**
   * Problems that belong to no frame: an upstream that cannot be reached or refuses the upgrade,
   * a judge that threw (its session goes on being relayed, unjudged).
   */
  readonly onError?: (err: Error) => void;
  /** Largest frame accepted on either leg, default {@link DEFAULT_MAX_FRAME_BYTES}; larger ⇒ close 1009. */
  readonly maxFrameBytes?: number;
  /** Upstream TCP/TLS connect plus upgrade, default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}; then the RM gets 504. */
  readonly handshakeTimeoutMs?: number;
}

/** One RM connection relayed to its own upstream connection, judged by one {@link SessionJudge}. */
export interface ProxySession {
  /** The judge's id: the `session` of every report record of this session. */
  readonly id: string;
  /** The RM's address (`host:port`). */
  readonly peer: string;
  readonly judge: SessionJudge;
  /** Violations so far: the judge's and the proxy's own (binary frames). */
  violations(): readonly Violation[];
  /** The judge's summary, with the proxy's own violations added. */
  summary(): JudgeSummary;
  /** Resolves with the summary once both legs are closed. */
  readonly closed: Promise<JudgeSummary>;
}

export interface Proxy {
  /** `ws://host:port` (or `wss://`) that RMs connect to. */
  readonly url: string;
  readonly port: number;
  /** Sessions still open. */
  sessions(): ProxySession[];
  /** Summaries of every session of this proxy so far, closed ones included, in the order they started. */
  summaries(): JudgeSummary[];
  /**
   * Closes every session (1001 to both sides, `by: 'proxy'`), waits for their summaries, and stops
   * listening.
   */
  close(): Promise<void>;
}

/**
 * Upgrade headers passed upstream: the credentials and whatever the RM's vendor put in `X-*`.
 * Hop-by-hop and WebSocket handshake headers are the proxy's own on each leg; `Host` names the proxy.
 */
function forwardedHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === 'authorization' || name.startsWith('x-')) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The subprotocols the RM asked for, in its order. */
function requestedProtocols(req: http.IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** Answers an upgrade with an HTTP status and an explanation in the body, then drops the socket. */
function refuse(socket: Duplex, status: number, message: string, body: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${message.replace(/[\r\n]/g, ' ')}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([n, v]) => `${n}: ${v.replace(/[\r\n]/g, ' ')}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/**
 * `ws` answers a broken frame itself (close frame with the code below) but reports 1006 on its own
 * `close` event; these are the codes it sent (ws 8 lib/receiver.js), so the other side is told the same.
 */
const WS_ERROR_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
};

/** A `ws` message as one Buffer, without copying when it already is one. */
function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const other = (side: Side): Side => (side === 'RM' ? 'CEM' : 'RM');

/**
 * A checking relay between RMs and a CEM: every RM connection to the proxy gets its own
 * connection to `upstream`; frames go both ways unchanged (the very bytes, text as text, binary as
 * binary), in order, each sent on in the same turn of the event loop it arrived in; close codes
 * and reasons are mirrored. Each session is followed by a {@link SessionJudge}, whose verdicts,
 * violations and summary come out through `onRecord`.
 *
 * The upstream is dialled when the RM's upgrade request arrives, and the RM's upgrade is only
 * answered once the upstream's is: an upstream that refuses (401, 404 …) is answered to the RM
 * with the same status, one that cannot be reached with 502 (504 when it does not answer within
 * `handshakeTimeoutMs`), the reason in the body.
 */
export async function createProxy(options: ProxyOptions): Promise<Proxy> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const strict = options.strict === true;
  const now = options.judge?.now ?? Date.now;
  // The subprotocol the upstream chose, for the RM's 101 (handleProtocols runs inside handleUpgrade).
  const chosenProtocol = new WeakMap<http.IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes,
    perMessageDeflate: false,
    // Pings and pongs are relayed, so that each end's heartbeat measures the whole path.
    autoPong: false,
    handleProtocols: (_protocols, req) => chosenProtocol.get(req) ?? false,
  });
  const server =
    options.tls === undefined
      ? http.createServer({ maxHeaderSize: DEFAULT_MAX_HEADER_BYTES })
      : https.createServer({ cert: options.tls.cert, key: options.tls.key, maxHeaderSize: DEFAULT_MAX_HEADER_BYTES });
  const open = new Set<ProxySession>();
  const all: ProxySession[] = [];
  const dialling = new Set<WebSocket>();
  const closers = new Map<ProxySession, () => void>();
  let closing: Promise<void> | undefined;
  const emit = (record: ProxyRecord): void => {
    try {
      options.onRecord?.(record);
    } catch (err) {
      options.onError?.(err as Error);
    }
  };
  const report = (err: Error): void => {
    try {
      options.onError?.(err);
    } catch {
      // nothing sensible left to do with an error reporter that throws
    }
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const onSocketError = (): void => {
      socket.destroy();
    };
    socket.on('error', onSocketError);
    if (closing !== undefined) return refuse(socket, 503, 'Service Unavailable', 's2 proxy: shutting down');
    // What ws would refuse anyway: refuse before dialling the upstream for nothing.
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || req.headers['sec-websocket-key'] === undefined)
      return refuse(socket, 400, 'Bad Request', 's2 proxy: not a WebSocket upgrade');
    const protocols = requestedProtocols(req);
    const clientOptions: ClientOptions = {
      headers: forwardedHeaders(req.headers),
      maxPayload: maxFrameBytes,
      perMessageDeflate: false,
      autoPong: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...(options.upstreamCa === undefined ? {} : { ca: options.upstreamCa }),
    };
    let upstream: WebSocket;
    try {
      upstream = new WebSocket(options.upstream, protocols, clientOptions);
    } catch (err) {
      report(new Error(`s2 proxy: upstream ${options.upstream}: ${(err as Error).message}`));
      return refuse(socket, 502, 'Bad Gateway', `s2 proxy: upstream ${options.upstream}: ${(err as Error).message}`);
    }
    dialling.add(upstream);
    let settled = false;
    // Frames the upstream sends right after its 101, before the RM's leg exists (none are lost).
    const early: Array<[Buffer, boolean]> = [];
    const hold = (data: RawData, isBinary: boolean): void => void early.push([asBuffer(data), isBinary]);
    upstream.on('message', hold);
    const fail = (status: number, message: string, body: string, headers?: Record<string, string>): void => {
      if (settled) return;
      settled = true;
      dialling.delete(upstream);
      report(new Error(body));
      refuse(socket, status, message, body, headers);
    };
    const onDialError = (err: Error & { code?: string }): void => {
      const timeout = /timed out/i.test(err.message);
      fail(
        timeout ? 504 : 502,
        timeout ? 'Gateway Timeout' : 'Bad Gateway',
        `s2 proxy: upstream ${options.upstream} unreachable: ${err.code ?? err.message}`,
      );
    };
    upstream.on('error', onDialError);
    upstream.once('unexpected-response', (_r, res: http.IncomingMessage) => {
      const status = res.statusCode ?? 502;
      const challenge = res.headers['www-authenticate'];
      fail(
        status,
        res.statusMessage ?? http.STATUS_CODES[status] ?? 'Error',
        `s2 proxy: upstream ${options.upstream} refused the upgrade: HTTP ${status} ${res.statusMessage ?? ''}`.trim(),
        challenge === undefined ? {} : { 'WWW-Authenticate': challenge },
      );
      res.resume();
      upstream.terminate();
    });
    // The RM gave up while the upstream was being dialled, or ws refused its upgrade after the upstream's was done.
    const onGaveUp = (): void => {
      settled = true;
      dialling.delete(upstream);
      upstream.terminate();
    };
    socket.once('close', onGaveUp);
    upstream.once('open', () => {
      if (settled) return void upstream.close(1001, 'RM gone');
      settled = true;
      dialling.delete(upstream);
      if (closing !== undefined) {
        upstream.close(1001, 'proxy shutting down');
        return refuse(socket, 503, 'Service Unavailable', 's2 proxy: shutting down');
      }
      if (upstream.protocol !== '') chosenProtocol.set(req, upstream.protocol);
      wss.handleUpgrade(req, socket, head, (rm) => {
        // The dial's listeners go: they hold the upgrade request, which a session has no use for.
        socket.off('error', onSocketError);
        socket.off('close', onGaveUp);
        upstream.off('error', onDialError);
        upstream.off('message', hold);
        startSession(rm, upstream, formatPeer(req.socket.remoteAddress, req.socket.remotePort), early);
      });
    });
  };

  const startSession = (rm: WebSocket, upstream: WebSocket, peer: string, early: Array<[Buffer, boolean]>): void => {
    const id = randomUUID();
    const legs: Record<Side, WebSocket> = { RM: rm, CEM: upstream };
    /** Violations found by the proxy itself (binary frames: R1), merged into the judge's summary. */
    const own: Violation[] = [];
    const seen = new WeakSet<Violation>();
    let seq = 0;
    let inFrame = false;
    let judgeBroken = false;
    const deferred: Violation[] = [];
    const emitViolation = (v: Violation): void => {
      if (seen.has(v)) return;
      seen.add(v);
      emit({ kind: 'violation', ...v });
    };
    let judge: SessionJudge;
    try {
      judge = createSessionJudge({
        ...options.judge,
        ...(options.inspector && options.judge?.inspect === undefined ? { inspect: options.inspector.inspect } : {}),
        id,
        strict,
        onViolation: (v) => (inFrame ? deferred.push(v) : emitViolation(v)),
      });
    } catch (err) {
      report(new Error(`s2 proxy: cannot judge session: ${(err as Error).message}`));
      rm.close(1011, 'proxy cannot judge');
      upstream.close(1011, 'proxy cannot judge');
      return;
    }
    if (options.inspector) {
      options.inspector.attach(judge.shadows.CEM);
      options.inspector.attach(judge.shadows.RM);
    }

    const guardJudge = <T>(what: string, fallback: T, run: () => T): T => {
      if (judgeBroken) return fallback;
      try {
        return run();
      } catch (err) {
        judgeBroken = true;
        report(
          new Error(
            `s2 proxy: session ${id}: the judge failed on ${what}, the session is relayed unjudged from here: ${(err as Error).message}`,
          ),
        );
        return fallback;
      }
    };

    const summary = (): JudgeSummary => {
      const base = guardJudge('summary', undefined, () => judge.summary());
      const rules: Record<string, { passed: number; failed: number }> = {};
      for (const [rule, c] of Object.entries(base?.rules ?? {})) rules[rule] = { ...c };
      for (const v of own) for (const r of v.rules) (rules[r] ??= { passed: 0, failed: 0 }).failed++;
      const frames = base?.frames ?? { CEM: 0, RM: 0 };
      return {
        session: id,
        ...base,
        frames,
        states: base?.states ?? { CEM: 'unknown', RM: 'unknown' },
        violations: (base?.violations ?? 0) + own.length,
        rules,
        ...(closedBy === undefined ? {} : { close: closedBy }),
      };
    };

    const frame = (from: Side, data: Buffer, isBinary: boolean): void => {
      const to = legs[other(from)];
      const n = ++seq;
      const ts = new Date(now()).toISOString();
      if (to.readyState !== WebSocket.OPEN) {
        emit({
          kind: 'frame',
          session: id,
          seq: n,
          from,
          ok: true,
          violations: [],
          ts,
          dropped: true,
          ...(isBinary ? { binary: true } : {}),
        });
        return;
      }
      if (isBinary) {
        // R1: S2 frames are text. Relayed anyway (the receiver's answer, usually close 1003, is part of what is judged).
        to.send(data, { binary: true });
        checkBuffer(to);
        const v: Violation = {
          session: id,
          side: from,
          rules: ['R1'],
          text: `${from} sent a binary frame of ${data.length} bytes (R1)`,
          expected: 'send every S2 message as one JSON object in a text frame',
          at: ts,
        };
        own.push(v);
        seen.add(v);
        emit({ kind: 'frame', session: id, seq: n, from, ok: false, violations: ['R1'], ts, binary: true });
        emit({ kind: 'violation', ...v });
        return;
      }
      // ws has checked that a text frame is UTF-8, so decoding is exact; the bytes sent on are the received ones.
      if (!strict) {
        to.send(data, { binary: false });
        checkBuffer(to);
      }
      inFrame = true;
      const verdict = guardJudge('a frame', undefined, () => judge.frame(from, data.toString('utf8')));
      inFrame = false;
      const answered = strict && verdict?.reply !== undefined ? verdict.reply : undefined;
      if (strict) {
        if (answered !== undefined) {
          legs[from].send(answered);
          checkBuffer(legs[from]);
        } else {
          to.send(data, { binary: false });
          checkBuffer(to);
        }
      }
      const violations = verdict?.violations ?? [];
      const record: FrameRecord = {
        kind: 'frame',
        session: id,
        seq: n,
        from,
        ...(verdict?.messageType === undefined ? {} : { type: verdict.messageType }),
        ...(verdict?.messageId === undefined ? {} : { id: verdict.messageId }),
        ok: violations.length === 0,
        violations: violations.flatMap((v) => v.rules),
        ts,
        ...(answered === undefined ? {} : { answered }),
      };
      emit(record);
      for (const v of violations) emitViolation(v);
      for (const v of deferred.splice(0)) emitViolation(v);
    };

    // A leg that does not read would make the proxy buffer without bound; as the engine's own transport does: 1008.
    const checkBuffer = (ws: WebSocket): void => {
      if (ws.bufferedAmount <= DEFAULT_SEND_HIGH_WATER_MARK) return;
      endBoth(1008, 'send buffer overflow');
    };

    let closedBy: { by: Side | 'proxy'; code: number; reason: string } | undefined;
    const errors: Partial<Record<Side, number>> = {};
    let finish: (s: JudgeSummary) => void = () => {};
    const closed = new Promise<JudgeSummary>((resolve) => (finish = resolve));
    const timers: NodeJS.Timeout[] = [];

    const recordClose = (by: Side | 'proxy', code: number, reason: string): void => {
      if (closedBy !== undefined) return;
      closedBy = { by, code, reason };
      const found = guardJudge('the close', [] as readonly Violation[], () => judge.closed(by, code, reason));
      for (const v of found) emitViolation(v);
    };

    /** Closes a leg with exactly what the other side sent: 1005 = a close frame without code, 1006 = no close frame at all. */
    const mirror = (ws: WebSocket, code: number, reason: string): void => {
      if (ws.readyState >= WebSocket.CLOSING) return;
      if (code === 1006) ws.terminate();
      else if (code === 1005) ws.close();
      else ws.close(code, reason);
      // ws waits 30 s for the peer's close frame; ours is the engine's default.
      const t = setTimeout(() => ws.terminate(), DEFAULT_CLOSE_TIMEOUT_MS);
      t.unref();
      timers.push(t);
    };

    const endBoth = (code: number, reason: string): void => {
      recordClose('proxy', code, reason);
      mirror(rm, code, reason);
      mirror(upstream, code, reason);
    };

    const onLegClose = (side: Side, code: number, reasonBuf: Buffer): void => {
      const sent = errors[side];
      // ws already told the sender of a broken frame why (e.g. 1007); tell the other side the same.
      const effective = code === 1006 && sent !== undefined ? sent : code;
      const reason = reasonBuf.toString('utf8');
      if (closedBy === undefined) {
        recordClose(side, effective, reason);
        mirror(legs[other(side)], effective, reason);
      }
      if (rm.readyState === WebSocket.CLOSED && upstream.readyState === WebSocket.CLOSED) {
        for (const t of timers) clearTimeout(t);
        const s = summary();
        guardJudge('stop', undefined, () => judge.stop());
        open.delete(session);
        closers.delete(session);
        emit({ kind: 'summary', ...s });
        finish(s);
      }
    };

    const session: ProxySession = {
      id,
      peer,
      judge,
      violations: () => [...guardJudge('violations', [] as readonly Violation[], () => judge.violations()), ...own],
      summary,
      closed,
    };
    open.add(session);
    all.push(session);
    closers.set(session, () => endBoth(1001, 'proxy shutting down'));

    for (const side of ['RM', 'CEM'] as const) {
      const ws = legs[side];
      const peerWs = legs[other(side)];
      ws.on('message', (data, isBinary) => frame(side, asBuffer(data), isBinary));
      ws.on('ping', (data) => peerWs.readyState === WebSocket.OPEN && peerWs.ping(data));
      ws.on('pong', (data) => peerWs.readyState === WebSocket.OPEN && peerWs.pong(data));
      ws.on('error', (err: Error & { code?: string }) => {
        const code = err.code === undefined ? undefined : WS_ERROR_CODES[err.code];
        errors[side] = code ?? 1002;
      });
      ws.on('close', (code, reason) => onLegClose(side, code, reason));
    }
    try {
      options.onSession?.(session);
    } catch (err) {
      report(err as Error);
    }
    for (const [data, isBinary] of early) frame('CEM', data, isBinary);
  };

  server.on('upgrade', onUpgrade);
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
  });
  server.on('clientError', answerClientError);
  // Rejects on an 'error' (a port in use) before 'listening'.
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  server.on('error', (err: Error) => report(err));

  const address = (): AddressInfo => server.address() as AddressInfo;
  return {
    get url() {
      const { address: host, port } = address();
      return `${options.tls ? 'wss' : 'ws'}://${formatPeer(host, port)}`;
    },
    get port() {
      return address().port;
    },
    sessions: () => [...open],
    summaries: () => all.map((s) => s.summary()),
    close() {
      closing ??= (async () => {
        for (const up of dialling) up.terminate();
        const sessions = [...open];
        for (const s of sessions) closers.get(s)?.();
        await Promise.all(sessions.map((s) => s.closed));
        wss.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
