/**
 * Where the kit's sessions come from: it dials the implementation under test for every scenario
 * (`--url`: a CEM, or an RM that listens), or it listens and takes the next connection the RM
 * opens (`--listen`: the RM reconnects after each scenario, at once after SessionRequest
 * RECONNECT). The project's own transports carry the frames (ws-client.ts, ws-server.ts).
 */
import { connectWs } from '../transport/ws-client.js';
import { createWsServer } from '../transport/ws-server.js';
import type { Transport } from '../transport/transport.js';

export interface Connector {
  /** The URL dialled, or the URL the kit listens on. */
  readonly url: string;
  readonly mode: 'dial' | 'listen';
  /** The transport for the next scenario (rejects after `timeoutMs`). */
  next(timeoutMs: number): Promise<Transport>;
  close(): Promise<void>;
}

/** The kit needs neither pings nor long closing handshakes: scenarios are short. */
const LIMITS = { heartbeatMs: 0, closeTimeoutMs: 1_000 } as const;

export interface DialOptions {
  readonly token?: string;
  readonly ca?: string;
}

export function dialer(url: string, options: DialOptions = {}): Connector {
  return {
    url,
    mode: 'dial',
    next: (timeoutMs) =>
      connectWs(url, {
        ...LIMITS,
        handshakeTimeoutMs: timeoutMs,
        ...(options.token ? { token: options.token } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
      }),
    close: () => Promise.resolve(),
  };
}

export interface ListenOptions {
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Bearer token the RM must present (S2 Connect). */
  readonly token?: string;
}

export async function listener(options: ListenOptions): Promise<Connector> {
  const queue: Transport[] = [];
  const waiters = new Set<() => void>();
  const server = await createWsServer({
    ...LIMITS,
    port: options.port,
    host: options.host ?? '127.0.0.1',
    ...(options.token ? { token: options.token } : {}),
    onConnection: (transport) => {
      queue.push(transport);
      for (const w of [...waiters]) w();
    },
  });
  const take = (): Transport | undefined => {
    while (queue.length) {
      const t = queue.shift()!;
      // A connection that already ended (an RM that gave up) carries no scenario.
      if (t.isOpen) return t;
      t.start({ text: () => undefined, close: () => undefined });
    }
    return undefined;
  };
  return {
    url: server.url,
    mode: 'listen',
    next(timeoutMs) {
      const now = take();
      if (now) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const check = () => {
          const t = take();
          if (!t) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(t);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no RM connected to ${server.url} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      for (const t of queue.splice(0)) t.start({ text: () => undefined, close: () => undefined });
      await server.close(1001, 'conformance kit done');
    },
  };
}
