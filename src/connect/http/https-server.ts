import { once } from 'node:events';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { bearerOf } from '../../transport/upgrade-auth.js';
import { answerClientError, DEFAULT_MAX_HEADER_BYTES } from '../../transport/ws-server.js';

/** One parsed request as a route handler sees it. */
export interface RouteRequest {
  /** The JSON body (POST), undefined for GET. */
  readonly body: unknown;
  /** The token of `Authorization: Bearer …`, undefined when missing or malformed. */
  readonly bearer: string | undefined;
  readonly remoteAddress: string;
  readonly headers: http.IncomingHttpHeaders;
  /**
   * Aborted when the client's connection closes before the answer was sent: a handler that holds a request (the
   * `waitForPairing` long poll) drops it at once instead of answering a socket nobody reads.
   */
  readonly signal: AbortSignal;
}

/** A route's answer. `authFailed` marks a rejected credential, which counts against the source's budget. */
export interface RouteAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly authFailed?: boolean;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, e.g. `v1/requestPairing`. */
  readonly path: string;
  readonly handle: (req: RouteRequest) => RouteAnswer | Promise<RouteAnswer>;
}

/** Failed credentials allowed per source address and window before it is answered 429. */
export interface ThrottleOptions {
  readonly failures: number;
  readonly windowMs: number;
}

export interface ConnectHttpServerOptions {
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 0 (a free port). */
  readonly port?: number | undefined;
  /** Path of the base URL, ending in `/`; default `/`. `GET <base>` answers the API versions. */
  readonly basePath?: string | undefined;
  readonly routes: readonly Route[];
  /** Request bodies above this are answered 413; default 64 KiB. */
  readonly maxBodyBytes?: number | undefined;
  /**
   * Limit on a request head (request line and headers), default 16 KiB (Node's own); a larger one
   * is answered 431 Request Header Fields Too Large and the connection closed.
   */
  readonly maxHeaderBytes?: number | undefined;
  /** Default 10 failures per source per minute. */
  readonly throttle?: ThrottleOptions | undefined;
  readonly now?: (() => number) | undefined;
  /** A handler threw (the request was answered 500). */
  readonly onError?: ((err: unknown) => void) | undefined;
}

export interface ConnectHttpServer {
  readonly server: https.Server;
  readonly port: number;
  /** `https://127.0.0.1:port/base/` as bound (callers advertise their own host name). */
  readonly boundUrl: string;
  close(): Promise<void>;
}

/** The API versions served at every base URL (S2 Connect §3.1). */
export const API_VERSIONS = ['v1'] as const;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_THROTTLE: ThrottleOptions = { failures: 10, windowMs: 60_000 };

const PARSING_ERROR = { errorMessage: 'ParsingError' } as const;

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);
}

/**
 * The HTTPS side of S2 Connect as a thin transport: routing below one base URL, JSON bodies with a
 * size cap, bearer parsing, and a per-source budget of failed credentials. What an answer means is
 * decided by the route handlers (and the statecharts behind them), never here.
 */
export async function createConnectHttpServer(options: ConnectHttpServerOptions): Promise<ConnectHttpServer> {
  const base = options.basePath ?? '/';
  if (!base.startsWith('/') || !base.endsWith('/')) throw new Error(`basePath must start and end with '/': ${base}`);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const throttle = options.throttle ?? DEFAULT_THROTTLE;
  const now = options.now ?? Date.now;
  const routes = new Map(options.routes.map((r) => [`${r.method} ${base}${r.path}`, r]));
  const paths = new Set(options.routes.map((r) => `${base}${r.path}`));
  const failures = new Map<string, number[]>();

  const throttled = (source: string): boolean => {
    const list = failures.get(source);
    if (list === undefined) return false;
    const since = now() - throttle.windowMs;
    while (list.length > 0 && list[0]! <= since) list.shift();
    if (list.length === 0) failures.delete(source);
    return list.length >= throttle.failures;
  };
  const recordFailure = (source: string): void => {
    const list = failures.get(source) ?? [];
    list.push(now());
    failures.set(source, list);
    // Bound the table: a flood of distinct sources must not grow it without limit.
    if (failures.size > 10_000) failures.delete(failures.keys().next().value as string);
  };

  const send = (res: http.ServerResponse, answer: RouteAnswer): void => {
    const headers: Record<string, string | number> = { 'Cache-Control': 'no-store', ...answer.headers };
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers).end();
      return;
    }
    const text = JSON.stringify(answer.body);
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(text);
    res.writeHead(answer.status, headers).end(text);
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> =>
    new Promise((resolve) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) return resolve('too-large');
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          req.removeAllListeners('data');
          req.pause();
          resolve('too-large');
        } else parts.push(chunk);
      });
      req.once('end', () => resolve(Buffer.concat(parts)));
      // The peer went away mid-body ('aborted'): a peer's doing, not a handler failure for onError.
      req.once('error', () => resolve('aborted'));
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const source = req.socket.remoteAddress ?? 'unknown';
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'https://localhost').pathname;
    } catch {
      return send(res, { status: 400 });
    }
    if (pathname === base || (base !== '/' && pathname === base.slice(0, -1))) {
      if (req.method !== 'GET') return send(res, { status: 405, headers: { Allow: 'GET' } });
      return send(res, { status: 200, body: API_VERSIONS });
    }
    const route = routes.get(`${req.method ?? ''} ${pathname}`);
    if (route === undefined) {
      return paths.has(pathname) ? send(res, { status: 405 }) : send(res, { status: 404 });
    }
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== undefined && throttled(source))
      return send(res, { status: 429, headers: { 'Retry-After': String(Math.ceil(throttle.windowMs / 1000)) } });
    let body: unknown;
    if (route.method === 'POST') {
      const raw = await readBody(req);
      if (raw === 'aborted') {
        res.destroy();
        return;
      }
      if (raw === 'too-large') {
        send(res, { status: 413, headers: { Connection: 'close' } });
        res.once('finish', () => req.socket.destroy());
        return;
      }
      // An empty body is legal (confirmAccessToken has none); the route decides what it needs.
      if (raw.length > 0) {
        if (!isJson(req.headers['content-type'])) return send(res, { status: 400, body: PARSING_ERROR });
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return send(res, { status: 400, body: PARSING_ERROR });
        }
      }
    }
    // 'close' of the response comes after it was sent, or earlier when the connection went away.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableEnded) gone.abort();
    });
    const answer = await route.handle({ body, bearer, remoteAddress: source, headers: req.headers, signal: gone.signal });
    // Counted even when the caller hung up: disconnecting early must not dodge the throttle.
    if (answer.authFailed === true) recordFailure(source);
    // The connection is gone: nobody reads this answer (a held long poll already dropped itself).
    if (gone.signal.aborted) return;
    send(res, answer);
  };

  const server = https.createServer({
    cert: options.tls.cert,
    key: options.tls.key,
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
  });
  // Slow clients (slowloris) must not hold sockets for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      options.onError?.(err);
      if (!res.headersSent) send(res, { status: 500, body: { errorMessage: 'Other' } });
      else res.destroy();
    });
  });
  // Unparseable requests (a head above maxHeaderBytes, a slow one) get an answer, then the close.
  server.on('clientError', answerClientError);
  // Rejects on an 'error' (a port in use) before 'listening'.
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  server.on('error', (err) => options.onError?.(err));
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    boundUrl: `https://${hostText}:${address.port}${base}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
