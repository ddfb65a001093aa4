/**
 * The transport contract: a full-duplex pipe of text frames plus one close notification.
 *
 * The transport deliberately knows nothing about S2 or JSON. S2 maps one session onto one
 * WebSocket connection (docs/rules.md#phases), so a `Transport` *is* the lifetime of a session: once
 * `close` has been reported, the transport is dead and a new session needs a new transport.
 */

/** Callbacks a transport's owner installs with {@link Transport.start}. */
export interface TransportHandlers {
  /** One complete text frame (one S2 message, R1). */
  text(frame: string): void;
  /**
   * The connection is gone. Called exactly once per transport, whoever closed it. For a close
   * initiated locally (including the transport's own limit enforcement) the code is the local
   * one; otherwise it is the peer's code, or 1006 when the connection died without a close frame.
   */
  close(code: number, reason: string): void;
  /**
   * Optional, informational: a socket-level error, or an exception thrown by `text`/`close`.
   * A close always follows a fatal error, so owners may ignore this and only log it.
   */
  error?(err: unknown): void;
}

/** A text-frame connection to one peer. Implemented by the WebSocket and in-memory transports. */
export interface Transport {
  /** Who is on the other end, for logs and traces: `"127.0.0.1:53211"`, `"memory:cem"`. */
  readonly peer: string;
  /**
   * Installs the handlers. Frames and a close that arrived earlier were buffered and are
   * delivered now, in order, so the owner can finish its set-up before it sees traffic.
   * Calling it twice is a programming error and throws.
   *
   * A handler that throws does not tear down the caller's event loop: the transport closes with
   * 1011 (INTERNAL_ERROR) and passes the exception to `handlers.error`.
   */
  start(handlers: TransportHandlers): void;
  /** Queues a text frame. After close it is a silent no-op: the close handler reports the end. */
  send(text: string): void;
  /**
   * Starts closing. Idempotent; frames arriving after this call are dropped. The close handler
   * runs once the connection is really gone (bounded by the transport's close timeout) and
   * reports this code and reason. A code that may not be sent on the wire (1005, 1006, …)
   * drops a WebSocket connection without a close frame.
   */
  close(code: number, reason: string): void;
  /** True until `close` was called or the connection was lost. */
  readonly isOpen: boolean;
}

// One table of close codes for the whole library: the transport's own (1003, 1007–1009) and
// the session's (1000, 1002, 4000–4002) live together in machines/close-codes.ts.
export { CloseCode, type CloseCodeValue } from '../machines/close-codes.js';

/**
 * Largest accepted incoming frame. S2 messages are small, but a PPBC/DDBC system description or a
 * long forecast can reach hundreds of KiB; 4 MiB leaves head-room while bounding memory per peer.
 */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Ping interval. S2 Connect (DOC/S2C#Keepalive) says pings SHOULD NOT be sent more often than
 * once per 50 s, so this is the shortest compliant interval. A peer that stops answering (it
 * vanished, or the connection is half-open) is dropped at most `heartbeatMs + pongTimeoutMs`
 * after its last pong: 60 s with the defaults.
 */
export const DEFAULT_HEARTBEAT_MS = 50_000;

/**
 * How long a ping may stay unanswered before the peer is taken for dead and the connection is
 * dropped (reported as 1006 `heartbeat timeout`). It has to cover a round trip, a busy peer's
 * event loop and a large frame that the pong queues behind, yet keep detection well inside two
 * ping intervals: a peer that goes silent is dropped `pongTimeoutMs` to `heartbeatMs +
 * pongTimeoutMs` later (10–60 s by default), where noticing the missing pong only at the next
 * ping took one to two intervals (50–100 s).
 */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;

/**
 * The pong timeout when none is given: {@link DEFAULT_PONG_TIMEOUT_MS}, or the ping interval when
 * that is shorter, so that a short interval never detects a dead peer later than two intervals.
 */
export function defaultPongTimeoutMs(heartbeatMs: number): number {
  return heartbeatMs > 0 ? Math.min(DEFAULT_PONG_TIMEOUT_MS, heartbeatMs) : DEFAULT_PONG_TIMEOUT_MS;
}

/**
 * Outgoing bytes we are willing to queue for a peer that does not read. Beyond it the peer is
 * either dead or too slow for real-time control, and queueing more only costs memory.
 */
export const DEFAULT_SEND_HIGH_WATER_MARK = 8 * 1024 * 1024;

/**
 * How long a locally initiated close may wait for the peer's close frame before the socket is
 * destroyed. `ws` itself waits 30 s, which would keep a dead session (and `server.close()`) around
 * for far too long.
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** Time allowed for the client's TCP/TLS connect plus HTTP upgrade. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** RFC 6455 limits a close reason to 123 bytes of UTF-8; `ws` throws beyond that. */
export function truncateCloseReason(reason: string): string {
  const max = 123;
  if (Buffer.byteLength(reason, 'utf8') <= max) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > max - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}...`;
}
