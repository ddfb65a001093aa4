import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Outcome of checking an `Authorization` header against the expected bearer token. */
export type BearerVerdict = 'ok' | 'missing' | 'invalid';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header; undefined when missing or malformed. */
export function bearerOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
}

/**
 * S2 Connect puts the access token in `Authorization: Bearer …` on the upgrade request.
 *
 * Both sides are hashed before `timingSafeEqual` so the comparison takes the same time whatever
 * the length or content of the presented token: neither a prefix match nor the token's length
 * can be learned by timing repeated attempts.
 */
export function bearerTokenMatches(header: string | undefined, expected: string): BearerVerdict {
  const presented = bearerOf(header);
  if (presented === undefined) return 'missing';
  return timingSafeEqual(sha256(presented), sha256(expected)) ? 'ok' : 'invalid';
}

/**
 * Answers an upgrade request with a plain HTTP error and drops the socket. The response is
 * flushed before the socket is destroyed so the client sees the status (e.g. 401) rather than a
 * connection reset.
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string = STATUS_CODES[status] ?? 'Error',
  headers: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines = [
    `HTTP/1.1 ${status} ${message}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(message)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${message}`);
}
