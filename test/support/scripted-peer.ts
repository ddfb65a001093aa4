/**
 * Test doubles around an in-memory transport pair, for driving one real S2 session from a script:
 *
 * - {@link HeldCloseTransport} wraps the session's end and holds the session's `close()` until the
 *   test confirms it. A WebSocket close takes a round trip, so a session really does sit in its
 *   `closing` state for a while; with the plain memory pair that state would last one microtask
 *   and the `closing → closed` grace timer could never be observed.
 * - {@link ScriptedPeer} is the other end: it writes raw frames and records every frame the
 *   session sends and the close it reports.
 */
import type { Transport, TransportHandlers } from '../../src/transport/transport.js';

export interface CloseRecord {
  readonly code: number;
  readonly reason: string;
}

export class HeldCloseTransport implements Transport {
  /** Every `close()` the session made, in order (a correct session makes at most one). */
  readonly closeRequests: CloseRecord[] = [];

  constructor(private readonly inner: Transport) {}

  get peer(): string {
    return this.inner.peer;
  }

  /** Like a socket: false once close was asked for, or once the connection is gone. */
  get isOpen(): boolean {
    return this.inner.isOpen && this.closeRequests.length === 0;
  }

  start(handlers: TransportHandlers): void {
    this.inner.start({
      // Like the real transports: frames arriving after a local close() are dropped.
      text: (frame) => {
        if (this.closeRequests.length === 0) handlers.text(frame);
      },
      close: (code, reason) => handlers.close(code, reason),
      error: (err) => handlers.error?.(err),
    });
  }

  send(text: string): void {
    if (this.isOpen) this.inner.send(text);
  }

  close(code: number, reason: string): void {
    this.closeRequests.push({ code, reason });
  }

  /** The connection really closes now, with the code the session asked for. */
  confirmClose(): void {
    const first = this.closeRequests[0];
    if (!first) throw new Error('confirmClose() without a close request from the session');
    this.inner.close(first.code, first.reason);
  }
}

export class ScriptedPeer {
  /** Every frame the session sent, parsed, in order. */
  readonly received: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  /** The close the peer's end reported (the session's code when the session closed first). */
  closed: CloseRecord | undefined;

  constructor(private readonly end: Transport) {
    end.start({
      text: (frame) => {
        this.raw.push(frame);
        this.received.push(JSON.parse(frame) as Record<string, unknown>);
      },
      close: (code, reason) => {
        this.closed ??= { code, reason };
      },
    });
  }

  sendRaw(text: string): void {
    this.end.send(text);
  }

  send(message: object): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** The peer drops the connection (as a crashed peer or a lost network would). */
  close(code: number, reason: string): void {
    this.end.close(code, reason);
  }
}
