/**
 * A WebSocket peer scripted frame by frame, for the end-to-end tests: it speaks raw `ws`, sends
 * exactly the frames the test writes (valid or not, text or binary) and records every frame it
 * receives, so a test controls the order of a handshake and sees each ReceptionStatus.
 *
 * - {@link RawPeer.connect} dials a server (a raw RM against `createCemServer`);
 * - {@link createRawServer} accepts connections (a raw CEM for `createRmClient`).
 */
import { once } from 'node:events';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import type { ControlType, ReceptionStatusValues } from '../../src/typebox/common/enums.js';
import { rawToString } from '../../src/transport/ws-transport.js';
import { waitFor } from '../transport/helpers.js';
import { handshake, rmDetails, rs, type Wire } from './e2e-messages.js';

export interface RawPeerOptions {
  /** Answer every received message except a ReceptionStatus with this status (e.g. 'OK'). */
  readonly autoAck?: ReceptionStatusValues;
}

export interface RawClose {
  readonly code: number;
  readonly reason: string;
}

/**
 * The scripting half shared by the WebSocket peer and the in-memory one: an inbox of parsed
 * frames, `next`/`statusFor` to wait for what the session sent, and `send`/`ack` to answer.
 */
export abstract class FramePeer {
  /** Every text frame received, parsed (an unparsable one is kept as `{ unparsed: text }`). */
  readonly inbox: Wire[] = [];
  /** Everything this peer sent, in order (raw frames as `{ raw }`, binary ones as `{ binary: length }`). */
  readonly outbox: Wire[] = [];
  autoAck: ReceptionStatusValues | undefined;
  #taken = new Set<number>();
  /** `next` calls waiting for a frame: re-checked on every arrival (no polling). */
  readonly #waiters = new Set<() => void>();

  constructor(options: RawPeerOptions = {}) {
    this.autoAck = options.autoAck;
  }

  /** Puts one text frame on the wire. */
  protected abstract write(text: string): void;

  /** Subclasses call this for every text frame that arrives. */
  protected receive(text: string): void {
    let msg: Wire;
    try {
      msg = JSON.parse(text) as Wire;
    } catch {
      msg = { unparsed: text };
    }
    this.inbox.push(msg);
    for (const check of [...this.#waiters]) check();
    if (this.autoAck && msg.message_type !== 'ReceptionStatus' && typeof msg.message_id === 'string') {
      this.send(rs(msg.message_id, this.autoAck));
    }
  }

  /** Sends a message as JSON; returns its message_id (or undefined for a ReceptionStatus). */
  send(message: Wire): string | undefined {
    this.outbox.push(message);
    this.write(JSON.stringify(message));
    return typeof message.message_id === 'string' ? message.message_id : undefined;
  }

  sendRaw(text: string): void {
    this.outbox.push({ raw: text });
    this.write(text);
  }

  /** Answers `message` with a ReceptionStatus. */
  ack(message: Wire, status: ReceptionStatusValues = 'OK'): void {
    this.send(rs(String(message.message_id), status));
  }

  /** The first received message matching `pred` that no earlier `next` returned; waits for it. */
  next(pred: (m: Wire) => boolean, what = 'a matching frame', timeoutMs = 3_000): Promise<Wire> {
    const take = (): Wire | undefined => {
      const i = this.inbox.findIndex((m, idx) => !this.#taken.has(idx) && pred(m));
      if (i < 0) return undefined;
      this.#taken.add(i);
      return this.inbox[i];
    };
    const now = take();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      const check = (): void => {
        const found = take();
        if (found) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.inbox.map((m) => (typeof m.message_type === 'string' ? m.message_type : 'unparsed')).join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received so far: ${seen})`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** The next received message of this type. */
  message(type: string, timeoutMs?: number): Promise<Wire> {
    return this.next((m) => m.message_type === type, type, timeoutMs);
  }

  /** The ReceptionStatus answering `messageId` (waits for it). */
  statusFor(messageId: string, timeoutMs?: number): Promise<Wire> {
    return this.next(
      (m) => m.message_type === 'ReceptionStatus' && m.subject_message_id === messageId,
      `ReceptionStatus for ${messageId}`,
      timeoutMs,
    );
  }

  /** All ReceptionStatuses received so far for `messageId`. */
  statusesFor(messageId: string): Wire[] {
    return this.inbox.filter((m) => m.message_type === 'ReceptionStatus' && m.subject_message_id === messageId);
  }

  /** Received messages of a type, so far. */
  all(type: string): Wire[] {
    return this.inbox.filter((m) => m.message_type === type);
  }
}

/** A {@link FramePeer} on a real `ws` socket. */
export class RawPeer extends FramePeer {
  readonly closed: Promise<RawClose>;
  #close: RawClose | undefined;

  constructor(
    readonly ws: WebSocket,
    options: RawPeerOptions = {},
  ) {
    super(options);
    ws.on('message', (data, isBinary) => this.receive(isBinary ? `<binary ${String((data as Buffer).length)}>` : rawToString(data)));
    // A reset peer must not crash the test process; the close that follows is what tests look at.
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.#close = { code, reason: reason.toString() };
        resolve(this.#close);
      }),
    );
  }

  /** Opens a connection to `url` (127.0.0.1 only in these tests) and resolves once it is open. */
  static async connect(url: string, options: RawPeerOptions & { token?: string; ca?: string } = {}): Promise<RawPeer> {
    const wsOptions: ClientOptions = { perMessageDeflate: false };
    if (options.token !== undefined) wsOptions.headers = { Authorization: `Bearer ${options.token}` };
    if (options.ca !== undefined) wsOptions.ca = options.ca;
    const ws = new WebSocket(url, wsOptions);
    const peer = new RawPeer(ws, options);
    await once(ws, 'open');
    return peer;
  }

  protected write(text: string): void {
    this.ws.send(text);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The close the connection ended with, once it has. */
  get closeInfo(): RawClose | undefined {
    return this.#close;
  }

  sendBinary(data: Buffer): void {
    this.outbox.push({ binary: data.length });
    this.ws.send(data, { binary: true });
  }

  /** Starts a normal close; resolves when the connection is gone. */
  async close(code = 1000, reason = 'raw peer done'): Promise<RawClose> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export interface RawServer {
  readonly url: string;
  /** The next connection (in order of arrival). */
  accept(timeoutMs?: number): Promise<RawPeer>;
  /** Connections accepted so far. */
  readonly peers: readonly RawPeer[];
  readonly isClosed: boolean;
  /** Terminates every connection and stops listening. */
  close(): Promise<void>;
}

/** A raw WebSocket server on 127.0.0.1 (a port the OS picks): a scripted CEM for RM clients. */
export async function createRawServer(options: RawPeerOptions = {}): Promise<RawServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const peers: RawPeer[] = [];
  let handed = 0;
  let closed = false;
  wss.on('connection', (ws) => void peers.push(new RawPeer(ws, options)));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    peers,
    get isClosed() {
      return closed;
    },
    async accept(timeoutMs = 3_000) {
      await waitFor(() => peers.length > handed, timeoutMs, 'a connection to the raw server');
      return peers[handed++] as RawPeer;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const p of peers) p.terminate();
      await Promise.all(peers.map((p) => p.closed));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export interface RawRmSetup {
  readonly handshakeId: string;
  readonly detailsId: string;
  /** The CEM's SelectControlType (undefined when `expectSelect` was false). */
  readonly select: Wire | undefined;
}

/**
 * Drives a raw RM through the handshake against a CEM: waits for the CEM's Handshake, sends its
 * own, acknowledges the HandshakeResponse, announces details offering `offer`, and acknowledges
 * the SelectControlType that follows (R26, R28, R34, R41).
 */
export async function rawRmHandshake(
  peer: FramePeer,
  options: { offer?: readonly ControlType[]; expectSelect?: boolean; versions?: readonly string[] } = {},
): Promise<RawRmSetup> {
  const cemHandshake = await peer.message('Handshake');
  peer.ack(cemHandshake);
  const handshakeId = peer.send(handshake('RM', options.versions)) as string;
  const response = await peer.message('HandshakeResponse');
  peer.ack(response);
  const detailsId = peer.send(rmDetails(options.offer)) as string;
  await peer.statusFor(detailsId);
  if (options.expectSelect === false) return { handshakeId, detailsId, select: undefined };
  const select = await peer.message('SelectControlType');
  peer.ack(select);
  return { handshakeId, detailsId, select };
}
