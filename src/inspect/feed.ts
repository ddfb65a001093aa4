import { WebSocket } from 'ws';
import { Collector } from './collector.js';
import { ViewStore, type InspectorOp, type ViewLimits } from './model.js';
import { resolveLimits, type Inspector } from './inspector.js';
import type { Sanitizer } from './sanitize.js';

export interface FeedOptions {
  /** As for `createInspector`: applied here, before anything leaves this process. */
  readonly sanitize?: Sanitizer;
  readonly limits?: Partial<ViewLimits>;
  /** Give up the first connection after this long (default 5 s); later losses are retried every second. */
  readonly connectTimeoutMs?: number;
}

const RETRY_MS = 1_000;

/** `ws://host:port/feed` → the page `http://host:port/`. */
function pageUrl(feedUrl: string): string {
  const u = new URL(feedUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/';
  return u.toString();
}

/**
 * Feeds a running `s2 inspect` (or any inspector created with `acceptFeeds`) over a WebSocket
 * to 127.0.0.1, instead of serving a page here: one page for several processes, e.g. the workers
 * of `s2 cem --workers N`. Sanitising happens in this process; only the page's view is sent. A
 * lost connection is retried, and the inspector gets the whole current picture again.
 */
export async function connectInspector(url: string, options: FeedOptions = {}): Promise<Inspector> {
  const limits = resolveLimits(options.limits);
  const store = new ViewStore(limits);
  const collector = new Collector({ sanitize: options.sanitize, limits, output: (ops) => store.apply(ops) });
  let socket: WebSocket | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const send = (ops: readonly InspectorOp[]) => {
    if (socket?.readyState === WebSocket.OPEN && ops.length) socket.send(JSON.stringify({ type: 'ops', ops }));
  };
  store.subscribe(send);

  const connect = () =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: options.connectTimeoutMs ?? 5_000 });
      socket = ws;
      ws.on('open', () => {
        send(store.snapshotOps());
        resolve();
      });
      ws.on('error', (err) => reject(err));
      // The inspector sends nothing; a feed only writes.
      ws.on('close', () => {
        if (socket === ws) socket = undefined;
        if (closed) return;
        retry = setTimeout(() => void connect().catch(() => undefined), RETRY_MS);
        retry.unref();
      });
    });

  try {
    await connect();
  } catch (err) {
    closed = true;
    clearTimeout(retry);
    socket?.terminate();
    collector.stop();
    throw new Error(`no inspector at ${url}: ${(err as Error).message}`, { cause: err });
  }

  return {
    url: pageUrl(url),
    inspect: collector.inspect,
    attach: (session) => collector.attach(session),
    async close() {
      collector.stop();
      closed = true;
      clearTimeout(retry);
      const ws = socket;
      if (!ws) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'done');
        setTimeout(() => ws.terminate(), 1_000).unref();
      });
    },
  };
}
