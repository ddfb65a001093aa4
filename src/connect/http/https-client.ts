import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { lookupWith, peerChainOf, tlsOptionsFor, type HostResolver, type PeerChain, type TlsTrust } from './tls-trust.js';

/** One JSON call of an S2 Connect client. */
export interface HttpCall {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  /** Sent as JSON (`Content-Type: application/json`). */
  readonly body?: unknown;
  /** `Authorization: Bearer …` (a pairing attempt id or an access token). */
  readonly bearer?: string | undefined;
  readonly trust: TlsTrust;
  readonly resolve?: HostResolver | undefined;
  /** Whole call, connect to last byte; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Larger answers are cut off and fail; default 1 MiB. */
  readonly maxResponseBytes?: number | undefined;
  /** Aborts the call (a held long poll when its poller stops): the socket is closed and the call rejects. */
  readonly signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  readonly status: number;
  /** The parsed body when it was JSON, else undefined. */
  readonly json: unknown;
  /** What the TLS handshake showed (leaf and root of the server's chain). */
  readonly chain: PeerChain | undefined;
}

/** Why a call produced no HTTP answer at all (connection, TLS, timeout, oversized answer). */
export class HttpCallError extends Error {
  override name = 'HttpCallError';
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE = 1 << 20;

/**
 * Performs one HTTPS JSON call. Never follows redirects (a redirect could carry a bearer token to
 * another host). Secrets are only in headers and body, never in the errors it throws.
 */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  if (call.url.protocol !== 'https:') throw new HttpCallError(`S2 Connect requires https:, got ${call.url.protocol}`);
  const lookup = lookupWith(call.resolve);
  const host = call.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(call.url.port || 443);
  const trust = call.trust;
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body), 'utf8');
  const headers: Record<string, string | number> = { Accept: 'application/json' };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = payload.length;
  }
  if (call.bearer !== undefined) headers.Authorization = `Bearer ${call.bearer}`;
  const limit = call.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;

  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = https.request({
      ...tlsOptionsFor(trust, host),
      host,
      port,
      path: `${call.url.pathname}${call.url.search}`,
      method: call.method,
      headers,
      agent: false,
      ...(lookup ? { lookup } : {}),
    });
    const timer = setTimeout(
      () => req.destroy(new HttpCallError(`${call.method} ${safe(call.url)} timed out`)),
      call.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    const abort = (): void => void req.destroy(new HttpCallError(`${call.method} ${safe(call.url)} aborted`));
    if (call.signal?.aborted === true) abort();
    else call.signal?.addEventListener('abort', abort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', abort);
    };
    req.once('error', (err) => {
      settle();
      reject(
        err instanceof HttpCallError ? err : new HttpCallError(`${call.method} ${safe(call.url)} failed: ${err.message}`, { cause: err }),
      );
    });
    req.once('response', (res: IncomingMessage) => {
      const chain = peerChainOf(res.socket as TLSSocket);
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) req.destroy(new HttpCallError(`${call.method} ${safe(call.url)}: answer larger than ${limit} bytes`));
        else parts.push(chunk);
      });
      res.once('end', () => {
        settle();
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        if (text.length > 0 && /\bjson\b/i.test(res.headers['content-type'] ?? '')) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, json, chain });
      });
    });
    req.end(payload);
  });
}

/** The URL without credentials or query, for messages. */
function safe(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
