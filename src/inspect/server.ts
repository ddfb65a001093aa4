import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { rawToString } from '../transport/ws-transport.js';
import { ChartCache } from './charts.js';
import type { InspectorOp, ViewStore } from './model.js';
import { APP_JS } from './page/app.js';
import { INDEX_HTML } from './page/html.js';
import { STYLE_CSS } from './page/style.js';

export interface InspectorServerOptions {
  readonly store: ViewStore;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. The page shows protocol traffic: exposing it on a network is an explicit choice. */
  readonly host?: string;
  /** Accept other processes' feeds on `/feed` (what `s2 inspect` does). Default false. */
  readonly acceptFeeds?: boolean;
}

export interface InspectorServer {
  /** The page: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly port: number;
  /** `ws://127.0.0.1:<port>/feed` when feeds are accepted. */
  readonly feedUrl: string | undefined;
  close(): Promise<void>;
}

/** A page's stream is dropped (it reconnects and gets a fresh snapshot) when it lags this far behind. */
const MAX_STREAM_BACKLOG = 16 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;
const MAX_FEED_FRAME = 32 * 1024 * 1024;

/**
 * Everything is served from this package: no CDN, no font, no third-party script. The policy
 * makes the browser enforce that, and refuses framing and form posts.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const STATIC: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: INDEX_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: APP_JS },
  '/style.css': { type: 'text/css; charset=utf-8', body: STYLE_CSS },
};

const OP_KINDS = new Set(['session', 'message', 'instruction', 'drop']);

/** A feed's ops are checked for shape only: the page puts every value in as text, never as markup. */
function validOps(data: unknown): InspectorOp[] {
  const ops = (data as { type?: unknown; ops?: unknown } | null)?.ops;
  if ((data as { type?: unknown } | null)?.type !== 'ops' || !Array.isArray(ops)) return [];
  return ops.filter((op): op is InspectorOp => {
    const o = op as { op?: unknown; key?: unknown; header?: unknown; entry?: unknown; instruction?: unknown } | null;
    if (!o || typeof o.key !== 'string' || !OP_KINDS.has(o.op as string)) return false;
    if (o.op === 'session') return typeof o.header === 'object' && o.header !== null;
    if (o.op === 'message')
      return typeof o.entry === 'object' && o.entry !== null && typeof (o.entry as { seq?: unknown }).seq === 'number';
    if (o.op === 'instruction')
      return typeof o.instruction === 'object' && o.instruction !== null && typeof (o.instruction as { id?: unknown }).id === 'string';
    return true;
  });
}

/**
 * The inspector's HTTP server: the page (one HTML file, one script, one style sheet), the
 * statechart SVGs, `/api/sessions` (the current picture as JSON) and `/events`, a server-sent
 * event stream: `snapshot` on connecting, then `ops` batches. Pages only read; nothing a page
 * does reaches a session.
 */
export async function startInspectorServer(options: InspectorServerOptions): Promise<InspectorServer> {
  const { store } = options;
  const host = options.host ?? '127.0.0.1';
  const charts = new ChartCache();
  const streams = new Set<http.ServerResponse>();
  const feeds = new Set<WebSocket>();
  let port = 0;
  let feedCount = 0;

  // DNS rebinding: a page of another site that resolves its name to 127.0.0.1 still sends its own
  // Host header. Only our own names are answered (any name when listening on every interface).
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const hostAllowed = (value: string | undefined): boolean => {
    if (wildcard) return true;
    if (!value) return false;
    const names = new Set(['127.0.0.1', 'localhost', '[::1]', host.includes(':') ? `[${host}]` : host]);
    return [...names].some((name) => value.toLowerCase() === `${name}:${port}`);
  };

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

  const unsubscribe = store.subscribe((ops) => {
    if (streams.size === 0) return;
    const chunk = sse('ops', ops);
    for (const res of streams) {
      if (res.writableLength > MAX_STREAM_BACKLOG) res.destroy();
      else res.write(chunk);
    }
  });

  const keepalive = setInterval(() => {
    for (const res of streams) res.write(': keepalive\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();

  const server = http.createServer((req, res) => {
    if (!hostAllowed(req.headers.host)) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const path = new URL(req.url ?? '/', 'http://inspector').pathname;
    const page = STATIC[path];
    if (page) return send(res, 200, page.type, page.body);
    // No icon: answering keeps the browser's console free of a 404.
    if (path === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS);
      return res.end();
    }
    if (path === '/api/sessions') return send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ sessions: store.snapshot() }));
    if (path === '/events') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
      res.write(`retry: 1000\n\n${sse('snapshot', { sessions: store.snapshot() })}`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    const chart = /^\/charts\/([a-z0-9-]+)\.svg$/.exec(path)?.[1];
    if (chart) {
      void charts.svg(chart).then(
        (svg) =>
          svg === undefined
            ? send(res, 404, 'text/plain; charset=utf-8', 'no such chart\n')
            : send(res, 200, 'image/svg+xml; charset=utf-8', svg),
        (err: unknown) => send(res, 500, 'text/plain; charset=utf-8', `could not draw the chart: ${(err as Error).message}\n`),
      );
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FEED_FRAME, perMessageDeflate: false });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://inspector').pathname;
    // Browsers always send Origin; our feeds (Node `ws` clients) do not. A web page may not feed us.
    if (!options.acceptFeeds || path !== '/feed' || !hostAllowed(req.headers.host) || req.headers.origin !== undefined) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const owner = `feed-${++feedCount}`;
      feeds.add(ws);
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(rawToString(data));
        } catch {
          return;
        }
        store.apply(validOps(parsed), owner);
      });
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        feeds.delete(ws);
        store.ownerGone(owner, 'the inspected process went away');
      });
    });
  });

  // Rejects on an 'error' (a port in use) before 'listening'.
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  const shownHost = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}/`,
    port,
    feedUrl: options.acceptFeeds ? `ws://${shownHost}:${port}/feed` : undefined,
    async close() {
      unsubscribe();
      clearInterval(keepalive);
      for (const res of streams) res.end();
      streams.clear();
      for (const ws of feeds) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
