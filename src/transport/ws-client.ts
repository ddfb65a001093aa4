import { S2Error } from '../typebox/errors.js';
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SEND_HIGH_WATER_MARK,
  defaultPongTimeoutMs,
  type Transport,
} from './transport.js';
import { resolveReceiveBudget, type ReceiveBudgetOptions } from './budget.js';
import { wrapWebSocket } from './ws-transport.js';

export interface WsClientOptions {
  /** Sent as `Authorization: Bearer <token>` on the upgrade request (S2 Connect). */
  readonly token?: string | undefined;
  /** Extra trusted CA certificate(s), PEM, for a `wss://` server with a private CA. */
  readonly ca?: string | Buffer | Array<string | Buffer> | undefined;
  /**
   * Further TLS options for `wss://` (S2 Connect pins a LAN server's root with `ca` and
   * `checkServerIdentity`, and reaches `.local` names through `lookup`). Merged over `ca`.
   */
  readonly tls?:
    | (Pick<TlsConnectionOptions, 'ca' | 'servername' | 'checkServerIdentity' | 'rejectUnauthorized' | 'minVersion'> & {
        readonly lookup?: LookupFunction | undefined;
      })
    | undefined;
  /** Incoming frame limit, default {@link DEFAULT_MAX_FRAME_BYTES}; larger ⇒ close 1009. */
  readonly maxFrameBytes?: number | undefined;
  /**
   * Ping interval, default {@link DEFAULT_HEARTBEAT_MS} (the same as the server). The client
   * pings too because it is the side that must notice a dead server in order to reconnect,
   * and it cannot count on every server pinging. 0 disables.
   */
  readonly heartbeatMs?: number | undefined;
  /**
   * How long a ping may go unanswered before the connection is dropped (1006 `heartbeat
   * timeout`, then the RM client reconnects), default 10 s (or `heartbeatMs` when that is
   * shorter). A server that vanishes or stops reading (a half-open connection) is noticed at
   * most `heartbeatMs + pongTimeoutMs` after its last pong: 60 s by default.
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
  /** TCP/TLS connect plus HTTP upgrade, default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Offer RFC 7692 compression; off by default, like the server. */
  readonly perMessageDeflate?: boolean | undefined;
}

/**
 * Why a connection could not be opened. `httpStatus` is set when the server answered the upgrade
 * with an HTTP response instead of switching protocols (401 = bad or missing token).
 */
export class TransportConnectError extends S2Error {
  override name = 'TransportConnectError';
  readonly url: string;
  readonly httpStatus: number | undefined;

  constructor(url: string, message: string, status?: number, cause?: unknown) {
    super('TRANSPORT_CONNECT_FAILED', `WebSocket connection to ${url} failed: ${message}`, cause === undefined ? {} : { cause });
    this.url = url;
    this.httpStatus = status;
  }
}

/** The URL with any credentials removed, for messages and logs. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Opens a WebSocket to an S2 peer and resolves once it is open. Rejects with a
 * {@link TransportConnectError} (never hangs: the handshake has a timeout).
 */
export function connectWs(url: string, options: WsClientOptions = {}): Promise<Transport> {
  const shownUrl = safeUrl(url);
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const wsOptions: ClientOptions = {
    maxPayload: maxFrameBytes,
    perMessageDeflate: options.perMessageDeflate ?? false,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };
  if (options.token !== undefined) wsOptions.headers = { Authorization: `Bearer ${options.token}` };
  if (options.ca !== undefined) wsOptions.ca = options.ca;
  if (options.tls !== undefined) Object.assign(wsOptions, options.tls);

  return new Promise<Transport>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, wsOptions);
    } catch (err) {
      reject(new TransportConnectError(shownUrl, errorMessage(err), undefined, err));
      return;
    }
    let settled = false;
    const fail = (error: TransportConnectError): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const onError = (err: Error): void => fail(new TransportConnectError(shownUrl, err.message, undefined, err));
    const onClose = (code: number): void => fail(new TransportConnectError(shownUrl, `closed during handshake (code ${code})`));
    ws.on('error', onError);
    ws.once('close', onClose);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const text = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
      fail(new TransportConnectError(shownUrl, text, status));
      res.resume();
      ws.terminate(); // releases the request; the resulting 'error'/'close' find us settled
    });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.off('error', onError);
      ws.off('close', onClose);
      const host = new URL(url).host;
      const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
      resolve(
        wrapWebSocket(ws, host, {
          heartbeatMs,
          pongTimeoutMs: options.pongTimeoutMs ?? defaultPongTimeoutMs(heartbeatMs),
          sendHighWaterMark: options.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK,
          closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
          receiveBudget: resolveReceiveBudget(options.receiveBudget, maxFrameBytes),
        }),
      );
    });
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
