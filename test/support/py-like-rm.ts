/**
 * A scripted RM that behaves exactly like the reference Python RM, s2-python's `S2Connection`
 * (the sequence of s2-python's connection code):
 *
 * 1. on open it sends `Handshake{role: RM, supported_protocol_versions: ["0.0.2-beta"]}` at once,
 *    then does nothing else until that Handshake's ReceptionStatus arrives (≤ 5 s, must be OK);
 *    inbound frames are buffered meanwhile;
 * 2. it then processes inbound messages one at a time; ReceptionStatuses never enter that queue,
 *    they are matched by `subject_message_id` in the receive loop (R14, ws#22);
 * 3. Handshake → RS OK, no checks;
 * 4. HandshakeResponse → RS OK, then ResourceManagerDetails (FRBC + NOT_CONTROLABLE), awaiting its
 *    RS (≤ 5 s) while the queue is blocked;
 * 5. SelectControlType → RS OK first, then (FRBC) FRBC.SystemDescription, FRBC.StorageStatus,
 *    FRBC.ActuatorStatus, each awaiting an OK RS;
 * 6. any other type has no handler: dropped **without** a ReceptionStatus.
 *
 * A missing RS (timeout) or a non-OK one stops the connection for good, as PY does; so does a
 * second RS for the same message (PY's awaiter raises).
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { rawToString } from '../../src/transport/ws-transport.js';
import { frbcActivationMessages, handshake, rmDetails, rs, type Wire } from './e2e-messages.js';

export interface PyLikeRmOptions {
  readonly url: string;
  readonly token?: string;
  /** How long every awaited ReceptionStatus may take; PY uses 5 s. */
  readonly timeoutMs?: number;
}

export interface PyLogEntry {
  readonly dir: 'in' | 'out';
  readonly message: Wire;
}

export class PyLikeRm {
  /** Every message sent and received, in order. */
  readonly log: PyLogEntry[] = [];
  /** Inbound messages without a handler (dropped, no RS), like PY. */
  readonly unhandled: Wire[] = [];
  /** Set when an awaited ReceptionStatus did not come in time (PY then stops). */
  timedOut: string | undefined;
  /** Set when PY would have raised: a non-OK or a second ReceptionStatus. */
  failure: string | undefined;
  /** The control type PY activated (after its activation messages were all acknowledged). */
  activated: string | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  readonly #ws: WebSocket;
  readonly #timeoutMs: number;
  readonly #queue: Wire[] = [];
  readonly #waiting = new Map<string, { resolve: (status: Wire) => void; timer: NodeJS.Timeout }>();
  readonly #answered = new Set<string>();
  #ready = false;
  #processing = false;

  private constructor(ws: WebSocket, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    ws.on('message', (data) => this.#receive(rawToString(data)));
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        for (const { timer } of this.#waiting.values()) clearTimeout(timer);
        this.#waiting.clear();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Connects and runs the RM; resolves once the socket is open (the Handshake is on its way). */
  static async connect(options: PyLikeRmOptions): Promise<PyLikeRm> {
    const ws = new WebSocket(options.url, {
      perMessageDeflate: false,
      ...(options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } }),
    });
    const rm = new PyLikeRm(ws, options.timeoutMs ?? 5_000);
    await once(ws, 'open');
    void rm.#run();
    return rm;
  }

  /** Messages PY sent (ReceptionStatuses excluded). */
  get sentMessages(): Wire[] {
    return this.log.filter((e) => e.dir === 'out' && e.message.message_type !== 'ReceptionStatus').map((e) => e.message);
  }

  /** ReceptionStatuses PY received for `id`. */
  statusesFor(id: string): Wire[] {
    return this.log
      .filter((e) => e.dir === 'in' && e.message.message_type === 'ReceptionStatus' && e.message.subject_message_id === id)
      .map((e) => e.message);
  }

  /** Ends the connection (test clean-up). */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(1000, 'done');
    await this.closed;
  }

  async #run(): Promise<void> {
    try {
      // Step 1: nothing else happens before the CEM acknowledged our Handshake.
      await this.#sendAndAwait(handshake('RM', ['0.0.2-beta']));
    } catch {
      return;
    }
    this.#ready = true;
    void this.#drain();
  }

  #send(message: Wire): void {
    this.log.push({ dir: 'out', message });
    this.#ws.send(JSON.stringify(message));
  }

  #stop(): void {
    // PY sets its stop event and closes the socket; it does not reconnect.
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000, 'stopped');
  }

  #receive(text: string): void {
    const message = JSON.parse(text) as Wire;
    this.log.push({ dir: 'in', message });
    if (message.message_type === 'ReceptionStatus') {
      // Step 2: matched right here, never queued behind the handlers (R14).
      const subject = String(message.subject_message_id);
      if (this.#answered.has(subject)) {
        this.failure = `a second ReceptionStatus for ${subject}`;
        this.#stop();
        return;
      }
      this.#answered.add(subject);
      this.#waiting.get(subject)?.resolve(message);
      return;
    }
    this.#queue.push(message);
    if (this.#ready) void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      let next: Wire | undefined;
      while (this.#ws.readyState === WebSocket.OPEN && (next = this.#queue.shift()) !== undefined) await this.#handle(next);
    } catch {
      // A failed await already recorded why and stopped the connection.
    } finally {
      this.#processing = false;
    }
  }

  async #handle(message: Wire): Promise<void> {
    const id = String(message.message_id);
    switch (message.message_type) {
      case 'Handshake': // step 3
        this.#send(rs(id, 'OK'));
        return;
      case 'HandshakeResponse': // step 4
        this.#send(rs(id, 'OK'));
        await this.#sendAndAwait(rmDetails(['FILL_RATE_BASED_CONTROL', 'NOT_CONTROLABLE']));
        return;
      case 'SelectControlType': // step 5
        this.#send(rs(id, 'OK'));
        this.activated = undefined;
        if (message.control_type === 'FILL_RATE_BASED_CONTROL') {
          for (const m of frbcActivationMessages()) await this.#sendAndAwait(m);
          this.activated = 'FILL_RATE_BASED_CONTROL';
        }
        return;
      default: // step 6
        this.unhandled.push(message);
    }
  }

  #sendAndAwait(message: Wire): Promise<void> {
    const id = String(message.message_id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        this.timedOut = `${String(message.message_type)} ${id}`;
        this.#stop();
        reject(new Error(`no ReceptionStatus for ${this.timedOut}`));
      }, this.#timeoutMs);
      this.#waiting.set(id, {
        timer,
        resolve: (status) => {
          clearTimeout(timer);
          this.#waiting.delete(id);
          if (status.status === 'OK') return resolve();
          this.failure = `${String(status.status)} for ${String(message.message_type)}: ${String(status.diagnostic_label)}`;
          this.#stop();
          reject(new Error(this.failure));
        },
      });
      this.#send(message);
    });
  }
}
