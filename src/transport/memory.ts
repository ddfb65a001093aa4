import { HandlerGate } from './handler-gate.js';
import { CloseCode, type Transport, type TransportHandlers } from './transport.js';

/**
 * One end of an in-memory pair. Delivery goes through `queueMicrotask` so that code written
 * against a socket (which never delivers synchronously from inside `send`) behaves the same here:
 * no re-entrancy, frames in order, the close after every frame sent before it.
 */
class MemoryEnd implements Transport {
  readonly peer: string;
  other!: MemoryEnd;
  #open = true;
  #closedLocally = false;
  readonly #gate = new HandlerGate(() => this.close(CloseCode.INTERNAL_ERROR, 'internal error'));

  constructor(peer: string) {
    this.peer = peer;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  start(handlers: TransportHandlers): void {
    this.#gate.start(handlers);
  }

  send(text: string): void {
    if (!this.#open) return;
    const other = this.other;
    queueMicrotask(() => other.#receive(text));
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closedLocally = true;
    this.#gate.mute();
    const other = this.other;
    queueMicrotask(() => {
      this.#gate.close(code, reason);
      other.#remoteClosed(code, reason);
    });
  }

  #receive(text: string): void {
    this.#gate.text(text);
  }

  #remoteClosed(code: number, reason: string): void {
    // When both ends close at the same time, each reports its own code, as the WebSocket
    // transport does for a locally initiated close.
    if (this.#closedLocally) return;
    this.#open = false;
    this.#gate.close(code, reason);
  }
}

/** Names shown as {@link Transport.peer}; each end's `peer` is the *other* end's name. */
export interface MemoryPairNames {
  readonly a?: string | undefined;
  readonly b?: string | undefined;
}

/**
 * Two connected transports in one process: for tests and for a CEM and RM living side by side.
 * `a.peer` is `"memory:b"` (the name of whom `a` talks to) and vice versa.
 */
export function createMemoryPair(names: MemoryPairNames = {}): [Transport, Transport] {
  const a = new MemoryEnd(`memory:${names.b ?? 'b'}`);
  const b = new MemoryEnd(`memory:${names.a ?? 'a'}`);
  a.other = b;
  b.other = a;
  return [a, b];
}
