import type { TransportHandlers } from './transport.js';

type Pending =
  | { readonly kind: 'text'; readonly frame: string }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }
  | { readonly kind: 'error'; readonly err: unknown };

/**
 * The delivery half shared by every transport: it buffers events until `start()`, guarantees a
 * single close notification, drops frames once the owner has asked to close, and keeps a
 * throwing handler from unwinding into socket code.
 *
 * Internal; transports own one gate each.
 */
export class HandlerGate {
  #handlers: TransportHandlers | undefined;
  #pending: Pending[] = [];
  #closeSeen = false;
  #muted = false;
  #flushing = false;
  readonly #onHandlerError: (err: unknown) => void;

  /** @param onHandlerError called when `text` throws; transports close with 1011 there. */
  constructor(onHandlerError: (err: unknown) => void) {
    this.#onHandlerError = onHandlerError;
  }

  /** True once a close has been accepted (delivered or buffered). */
  get closed(): boolean {
    return this.#closeSeen;
  }

  start(handlers: TransportHandlers): void {
    if (this.#handlers !== undefined) throw new Error('Transport.start() called twice');
    this.#handlers = handlers;
    this.#flush();
  }

  /** Incoming frame. Ignored after a local close request or after the close itself. */
  text(frame: string): void {
    if (this.#muted || this.#closeSeen) return;
    this.#push({ kind: 'text', frame });
  }

  /** The connection ended; only the first call counts. */
  close(code: number, reason: string): void {
    if (this.#closeSeen) return;
    this.#closeSeen = true;
    this.#push({ kind: 'close', code, reason });
  }

  error(err: unknown): void {
    if (this.#closeSeen) return;
    this.#push({ kind: 'error', err });
  }

  /**
   * The owner asked to close: frames still buffered or in flight are of no use to it any more
   * (it would have to ignore them anyway), so they are discarded. The close is still delivered.
   */
  mute(): void {
    this.#muted = true;
  }

  #push(event: Pending): void {
    this.#pending.push(event);
    this.#flush();
  }

  #flush(): void {
    // A handler may cause new events synchronously (e.g. call close()); they join the queue and
    // the outer loop delivers them, which keeps the order of events intact.
    if (this.#handlers === undefined || this.#flushing) return;
    this.#flushing = true;
    try {
      let event: Pending | undefined;
      while ((event = this.#pending.shift()) !== undefined) this.#deliver(this.#handlers, event);
    } finally {
      this.#flushing = false;
    }
  }

  #deliver(handlers: TransportHandlers, event: Pending): void {
    switch (event.kind) {
      case 'text':
        if (this.#muted) return;
        try {
          handlers.text(event.frame);
        } catch (err) {
          this.#reportError(handlers, err);
          this.#onHandlerError(err);
        }
        return;
      case 'close':
        try {
          handlers.close(event.code, event.reason);
        } catch (err) {
          this.#reportError(handlers, err);
        }
        return;
      case 'error':
        this.#reportError(handlers, event.err);
        return;
    }
  }

  #reportError(handlers: TransportHandlers, err: unknown): void {
    try {
      handlers.error?.(err);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }
}
