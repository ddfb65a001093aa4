import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerTokenMatches, rejectUpgrade } from './upgrade-auth.js';
import {
  CloseCode,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SEND_HIGH_WATER_MARK,
  defaultPongTimeoutMs,
  type Transport,
} from './transport.js';
import { resolveReceiveBudget, type ReceiveBudgetOptions } from './budget.js';
import { formatPeer, wrapWebSocket, type WsLimits } from './ws-transport.js';

/** What the server knows about a new connection beyond the transport itself. */
export interface ConnectionInfo {
  readonly remoteAddress: string | undefined;
  /** Headers of the HTTP upgrade request (`Authorization` included; do not log them verbatim). */
  readonly headers: http.IncomingHttpHeaders;
  /** What `authorize` returned for this connection (e.g. the S2 Connect pairing it belongs to). */
  readonly authorization?: unknown;
}

/** The verdict of {@link WsServerOptions.authorize} on one upgrade request. */
export type UpgradeVerdict =
  | { readonly ok: true; readonly context?: unknown }
  | { readonly ok: false; readonly status: number; readonly headers?: Readonly<Record<string, string>> };

export interface WsServerOptions {
  /** Interface to listen on. Default `127.0.0.1`: exposing S2 on the network is an explicit choice. */
  readonly host?: string | undefined;
  /** Default 0: the OS picks a free port (read it back from `port`/`url`). */
  readonly port?: number | undefined;
  /**
   * Attach to an existing HTTP(S) server instead of listening. The caller keeps ownership:
   * `close()` detaches and closes our connections but leaves that server running.
   */
  readonly server?: http.Server | https.Server | undefined;
  /** Only upgrades to this path are accepted (404 otherwise). Default: any path. */
  readonly path?: string | undefined;
  /** Certificate and key (PEM) for `wss://`, which S2 Connect requires outside tests. */
  readonly tls?:
    | {
        readonly cert: string | Buffer;
        readonly key: string | Buffer;
        readonly ca?: string | Buffer | Array<string | Buffer> | undefined;
      }
    | undefined;
  /** Expected bearer token on the upgrade request; missing or wrong ⇒ HTTP 401. */
  readonly token?: string | undefined;
  /**
   * Decides on every upgrade request before it becomes a WebSocket (after `path` and `token`):
   * S2 Connect uses it to accept one-time WebSocket tokens. A rejection is answered with its
   * HTTP status; a throw or rejected promise with 500.
   */
  readonly authorize?: ((req: http.IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>) | undefined;
  /**
   * Limit on the HTTP request head (request line and headers) of an upgrade, default 16 KiB
   * (16384 bytes, Node's own default). A larger head is answered 431 Request Header Fields Too
   * Large and the socket closed. Ignored when attaching to an existing `server` (its own
   * `maxHeaderSize` applies).
   */
  readonly maxHeaderBytes?: number | undefined;
  /** Incoming frame limit, default {@link DEFAULT_MAX_FRAME_BYTES}; larger ⇒ close 1009. */
  readonly maxFrameBytes?: number | undefined;
  /**
   * Ping interval, default {@link DEFAULT_HEARTBEAT_MS} (50 s, the shortest S2 Connect allows);
   * 0 disables pings and with them dead-peer detection.
   */
  readonly heartbeatMs?: number | undefined;
  /**
   * How long a ping may go unanswered before the connection is dropped (1006 `heartbeat
   * timeout`), default 10 s (or `heartbeatMs` when that is shorter). A client that vanishes or
   * stops reading (a half-open connection) is dropped at most `heartbeatMs + pongTimeoutMs`
   * after its last pong: 60 s by default.
   */
  readonly pongTimeoutMs?: number | undefined;
  /**
   * Per-connection receive budget: sustained bytes and messages per second, each with a burst
   * (token buckets). A peer that sends more is closed with 4003 (BUDGET_EXCEEDED) and a reason
   * naming the budget and its numbers, before its frame is decoded. Defaults: 1 MiB/s with a burst
   * of `maxFrameBytes` + 1 MiB, of which 1 MiB is available at once on a new connection; 200
   * messages/s with a burst of 1,000. A normal device stays far below. `false` turns it off
   * (benchmarks that flood on purpose).
   */
  readonly receiveBudget?: ReceiveBudgetOptions | false | undefined;
  /** Default {@link DEFAULT_SEND_HIGH_WATER_MARK}; exceeded ⇒ close 1008. */
  readonly sendHighWaterMark?: number | undefined;
  /** Wait for the peer's close frame at most this long, default {@link DEFAULT_CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number | undefined;
  /**
   * RFC 7692 compression. S2 Connect says SHOULD, but it costs memory and CPU per connection and
   * has a history of compression side channels, so it is off unless asked for.
   */
  readonly perMessageDeflate?: boolean | undefined;
  /**
   * Called once per accepted (authenticated) connection; call `transport.start()` soon. If it
   * throws, that connection is closed with 1011 and the error goes to `onError`: one bad session
   * must not take the whole server down.
   */
  readonly onConnection: (transport: Transport, info: ConnectionInfo) => void;
  /** Errors that belong to no transport (a throwing `onConnection`, the HTTP server). */
  readonly onError?: ((err: unknown) => void) | undefined;
}

export interface WsServer {
  /** `ws://host:port/path` or `wss://…`; throws if an attached server is not listening yet. */
  readonly url: string;
  readonly port: number;
  /** Open WebSocket connections right now (for metrics, and for leak checks in tests). */
  readonly connections: number;
  /** Closes every connection with `code` (default 1001 GOING_AWAY), then stops listening. */
  close(code?: number, reason?: string): Promise<void>;
}

/** Default limit on an HTTP request head (request line and headers): 16 KiB, as Node's own. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/**
 * A `clientError` handler for our HTTP(S) servers: answers a request that could not be parsed
 * (431 for a head above the header limit, 408 for one that took too long, 400 otherwise) and
 * closes the socket, instead of dropping it with no reply. A socket that can no longer be written
 * (reset by the peer, TLS failure) is only destroyed. Internal: S2 Connect's server uses it too.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  // end() flushes the answer before the FIN; a peer that never closes its side is cut off soon after.
  const timer = setTimeout(() => socket.destroy(), 1_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Removes a connection from the server's set when it closes. A module-level function on purpose:
 * a closure written inside the upgrade handler would keep that handler's whole scope alive for
 * the life of the connection, the upgrade's `IncomingMessage` (headers, raw headers, parser
 * state) included: about 1 KiB per connection (bench/RESULTS.md §5.6 C).
 */
function forgetOnClose<T extends { readonly ws: WebSocket }>(set: Set<T>, entry: T): void {
  entry.ws.once('close', () => set.delete(entry));
}

/** Corks a socket until the next tick, so that the writes of this tick go out in one syscall. */
function corkUntilNextTick(socket: Duplex): void {
  socket.cork();
  process.nextTick(() => socket.uncork());
}

/** The request's path without the query, or undefined if the request target is not a URL path. */
function pathOf(req: http.IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/**
 * Starts a WebSocket server for S2 (the CEM side, or an RM that listens).
 *
 * Upgrades are handled by hand (`noServer`) so that authentication and path checks run on the raw
 * HTTP request, before `ws` accepts anything: a rejected peer never becomes a WebSocket and never
 * reaches `onConnection`.
 */
export async function createWsServer(options: WsServerOptions): Promise<WsServer> {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const limits: WsLimits = {
    heartbeatMs,
    pongTimeoutMs: options.pongTimeoutMs ?? defaultPongTimeoutMs(heartbeatMs),
    sendHighWaterMark: options.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    receiveBudget: resolveReceiveBudget(options.receiveBudget, maxFrameBytes),
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes,
    perMessageDeflate: options.perMessageDeflate ?? false,
    // `transports` below already tracks every connection: ws's own set would add an entry and a
    // 'close' listener per connection for nothing.
    clientTracking: false,
  });
  const transports = new Set<{ transport: Transport; ws: WebSocket }>();
  const owned = options.server === undefined;
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const server: http.Server | https.Server =
    options.server ??
    (options.tls === undefined
      ? http.createServer({ maxHeaderSize: maxHeaderBytes })
      : https.createServer({ ...options.tls, maxHeaderSize: maxHeaderBytes }));
  let closing: Promise<void> | undefined;

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const wrongPath = options.path !== undefined && pathOf(req) !== options.path;
    // Another upgrade listener on a shared server may serve this path: leave the socket to it.
    if (wrongPath && !owned && server.listenerCount('upgrade') > 1) return;
    // Until `ws` takes over, socket errors (a peer resetting mid-rejection) are ours to swallow;
    // an 'error' without a listener would crash the process.
    const onSocketError = (): void => {
      socket.destroy();
    };
    socket.on('error', onSocketError);
    if (wrongPath) return rejectUpgrade(socket, 404, 'Not Found');
    if (closing !== undefined) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (options.token !== undefined) {
      const verdict = bearerTokenMatches(req.headers.authorization, options.token);
      if (verdict !== 'ok') {
        const challenge = verdict === 'missing' ? 'Bearer realm="s2"' : 'Bearer realm="s2", error="invalid_token"';
        return rejectUpgrade(socket, 401, 'Unauthorized', { 'WWW-Authenticate': challenge });
      }
    }
    const authorize = options.authorize;
    if (authorize === undefined) return accept(req, socket, head, onSocketError, undefined);
    void Promise.resolve()
      .then(() => authorize(req))
      .then(
        (verdict) => {
          if (closing !== undefined) return rejectUpgrade(socket, 503, 'Service Unavailable');
          if (!verdict.ok) return rejectUpgrade(socket, verdict.status, undefined, verdict.headers);
          accept(req, socket, head, onSocketError, verdict.context);
        },
        (err: unknown) => {
          rejectUpgrade(socket, 500);
          options.onError?.(err);
        },
      );
  };

  const accept = (req: http.IncomingMessage, socket: Duplex, head: Buffer, onSocketError: () => void, authorization: unknown): void => {
    // The 101 answer and what the session sends at once (a CEM's Handshake) leave in one write:
    // one syscall and one wake-up of the peer less per connection. `ws` completes the upgrade
    // synchronously here, and end() (an aborted upgrade) uncorks by itself.
    corkUntilNextTick(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onSocketError); // `ws` owns the socket's errors from here on
      const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
      const transport = wrapWebSocket(ws, peer, limits);
      const entry = { transport, ws };
      transports.add(entry);
      forgetOnClose(transports, entry);
      try {
        const info: ConnectionInfo = {
          remoteAddress: req.socket.remoteAddress,
          headers: req.headers,
          ...(authorization === undefined ? {} : { authorization }),
        };
        options.onConnection(transport, info);
      } catch (err) {
        transport.close(CloseCode.INTERNAL_ERROR, 'internal error');
        options.onError?.(err);
      }
    });
  };

  server.on('upgrade', onUpgrade);
  if (owned) {
    // Plain HTTP requests have no business here; answer instead of leaving them hanging.
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
    });
    server.on('clientError', answerClientError);
    try {
      await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
    } catch (err) {
      server.off('upgrade', onUpgrade);
      wss.close();
      throw err;
    }
    // Without a listener a late server error (e.g. EMFILE on accept) would crash the process.
    server.on('error', (err: Error) => options.onError?.(err));
  }

  const address = (): AddressInfo => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') {
      throw new Error('WebSocket server is not listening on a TCP port');
    }
    return addr;
  };

  const shutdown = async (code: number, reason: string): Promise<void> => {
    // Not events.once(): it rejects on an 'error' event, which may well precede 'close' here.
    const gone = [...transports].map(
      ({ transport, ws }) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          transport.close(code, reason);
        }),
    );
    await Promise.all(gone);
    server.off('upgrade', onUpgrade);
    wss.close();
    if (owned) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    }
  };

  return {
    get url(): string {
      const scheme = server instanceof https.Server ? 'wss' : 'ws';
      const { address: host, port } = address();
      return `${scheme}://${formatPeer(host, port)}${options.path ?? ''}`;
    },
    get port(): number {
      return address().port;
    },
    get connections(): number {
      return transports.size;
    },
    close(code: number = CloseCode.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
      closing ??= shutdown(code, reason);
      return closing;
    },
  };
}
