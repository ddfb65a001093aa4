import { WebSocket, type RawData } from 'ws';
import { S2Error } from '../typebox/errors.js';
import { ReceiveBudget, type ResolvedReceiveBudget } from './budget.js';
import { HandlerGate } from './handler-gate.js';
import { CloseCode, truncateCloseReason, type Transport, type TransportHandlers } from './transport.js';

/** Per-connection limits, already resolved to numbers by the server or client factory. */
export interface WsLimits {
  /** 0 disables pings. */
  readonly heartbeatMs: number;
  /** An unanswered ping ends the connection after this long (detection ≤ heartbeatMs + this). */
  readonly pongTimeoutMs: number;
  readonly sendHighWaterMark: number;
  readonly closeTimeoutMs: number;
  /** Undefined: no receive budget (`receiveBudget: false`). */
  readonly receiveBudget?: ResolvedReceiveBudget | undefined;
}

/**
 * `ws` closes the connection itself when its frame parser fails, but only exposes the close code
 * it sent through a private symbol; map its stable error codes (ws 8 `lib/receiver.js`) instead,
 * so that our close handler reports the code the peer was sent.
 */
const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_INVALID_UTF8: CloseCode.INVALID_PAYLOAD,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: CloseCode.POLICY_VIOLATION,
  WS_ERR_INVALID_OPCODE: CloseCode.PROTOCOL_ERROR,
  WS_ERR_INVALID_CLOSE_CODE: CloseCode.PROTOCOL_ERROR,
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: CloseCode.PROTOCOL_ERROR,
  WS_ERR_EXPECTED_FIN: CloseCode.PROTOCOL_ERROR,
  WS_ERR_EXPECTED_MASK: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_MASK: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_RSV_1: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_RSV_2_3: CloseCode.PROTOCOL_ERROR,
};

function isSendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** The size of a `ws` message in bytes, without copying it. */
function rawByteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

/** A `ws` message as text, whatever shape `ws` hands it over in. */
export function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * Adapts an *open* `ws` socket to {@link Transport} and enforces the limits that `ws` does not:
 * text-only frames, heartbeat, send high-water mark and a bounded closing handshake.
 */
class WsTransport implements Transport {
  readonly peer: string;
  readonly #ws: WebSocket;
  readonly #limits: WsLimits;
  readonly #gate = new HandlerGate(() => this.close(CloseCode.INTERNAL_ERROR, 'internal error'));
  /** Set when we decided to end the connection; reported instead of the peer's echo. */
  #localClose: { code: number; reason: string } | undefined;
  #corked = false;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Armed while a ping is unanswered; firing means the peer is gone. */
  #pongTimer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  readonly #budget: ReceiveBudget | undefined;

  constructor(ws: WebSocket, peer: string, limits: WsLimits) {
    this.peer = peer;
    this.#ws = ws;
    this.#limits = limits;
    this.#budget = limits.receiveBudget === undefined ? undefined : new ReceiveBudget(limits.receiveBudget);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    // Any pong counts (RFC 6455 allows unsolicited ones): the peer is there and reading.
    ws.on('pong', () => this.#clearPongTimer());
    ws.on('error', (err: Error & { code?: string }) => this.#onError(err));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    if (limits.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#tick(), limits.heartbeatMs);
    }
  }

  get isOpen(): boolean {
    return this.#localClose === undefined && this.#ws.readyState === WebSocket.OPEN;
  }

  start(handlers: TransportHandlers): void {
    this.#gate.start(handlers);
  }

  send(text: string): void {
    if (!this.isOpen) return;
    this.#corkUntilNextTick();
    // Write errors surface as 'error' + 'close' on the socket; the callback only keeps `ws` from
    // treating them as unhandled.
    this.#ws.send(text, () => undefined);
    if (this.#ws.bufferedAmount > this.#limits.sendHighWaterMark) {
      // The peer is not reading. A close frame would sit behind the same full buffer, so
      // terminate instead of waiting out the closing handshake.
      this.#end(CloseCode.POLICY_VIOLATION, 'send buffer overflow', true);
    }
  }

  close(code: number, reason: string): void {
    this.#end(code, reason, !isSendableCode(code));
  }

  /**
   * Frames sent in one turn of the event loop (a ReceptionStatus and the replies it triggers,
   * a burst of answers) leave in one write: one syscall per frame was the largest cost of a busy
   * CEM (bench/RESULTS.md §5.3). `ws` keeps its socket in `_socket`; without one, nothing changes.
   */
  #corkUntilNextTick(): void {
    if (this.#corked) return;
    const socket = (this.#ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!socket) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #end(code: number, reason: string, terminate: boolean): void {
    if (this.#localClose !== undefined || this.#ws.readyState >= WebSocket.CLOSING) return;
    this.#localClose = { code, reason };
    this.#gate.mute();
    this.#stopHeartbeat();
    if (terminate) {
      this.#ws.terminate();
      return;
    }
    this.#ws.close(code, truncateCloseReason(reason));
    this.#closeTimer = setTimeout(() => this.#ws.terminate(), this.#limits.closeTimeoutMs);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      // R1: S2 frames are JSON text. Binary means the peer speaks something else.
      this.#end(CloseCode.UNSUPPORTED_DATA, 'binary frames are not supported', false);
      return;
    }
    // Before decoding: the point is that a flood never reaches JSON.parse and the schema.
    const verdict = this.#budget?.take(rawByteLength(data));
    if (verdict !== undefined) {
      this.#closeFlooder(verdict.reason, verdict.detail);
      return;
    }
    this.#gate.text(rawToString(data));
  }

  /**
   * Closes a peer over its receive budget (4003). The close frame tells it why. Unlike an ordinary
   * close we stop parsing at once: a flooder keeps sending, and `ws` would unmask, UTF-8-check and
   * assemble every frame until the peer's close frame came, up to `closeTimeoutMs`. What arrives
   * from now on is read and dropped unparsed (read, not left unread: closing a socket with unread
   * data sends a TCP reset, which can destroy our close frame before the peer reads it), and the
   * socket is ended after the close frame. A cooperating peer then closes its side at once; one
   * that does not is cut off by the close timer.
   */
  #closeFlooder(reason: string, detail: string): void {
    if (this.#localClose !== undefined || this.#ws.readyState >= WebSocket.CLOSING) return;
    this.#gate.error(
      new S2Error('BUDGET_EXCEEDED', `receive budget exceeded by ${this.peer}: ${detail}`, { closeCode: CloseCode.BUDGET_EXCEEDED }),
    );
    this.#end(CloseCode.BUDGET_EXCEEDED, reason, false);
    // `ws` keeps its socket in `_socket`; its frame parser is the socket's 'data' listener.
    const socket = (this.#ws as unknown as { _socket?: NodeJS.ReadableStream & { end(): void } })._socket;
    if (socket === undefined) return;
    socket.removeAllListeners('data');
    socket.on('data', () => undefined);
    socket.end();
  }

  #onError(err: Error & { code?: string }): void {
    const code = err.code === undefined ? undefined : WS_ERROR_CLOSE_CODES[err.code];
    // `ws` has already sent this close code; record it so our handler reports it too.
    if (code !== undefined && this.#localClose === undefined) {
      this.#localClose = { code, reason: err.message };
      this.#gate.mute();
    }
    this.#gate.error(err);
  }

  #onClose(code: number, reason: string): void {
    this.#stopHeartbeat();
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    const reported = this.#localClose ?? { code, reason };
    this.#gate.close(reported.code, reported.reason);
  }

  /**
   * Pings, and gives the pong its own deadline: waiting for the next tick to notice a missing
   * pong let a dead peer live up to two intervals (100 s at the S2 Connect interval). One ping
   * at a time: while one is unanswered (a pong timeout longer than the interval), its deadline
   * decides, so a silent peer is dropped at most heartbeatMs + pongTimeoutMs after its last pong.
   */
  #tick(): void {
    if (this.#ws.readyState !== WebSocket.OPEN || this.#pongTimer !== undefined) return;
    this.#ws.ping();
    this.#pongTimer = setTimeout(() => this.#onPongTimeout(), this.#limits.pongTimeoutMs);
  }

  #clearPongTimer(): void {
    if (this.#pongTimer !== undefined) clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
  }

  #onPongTimeout(): void {
    this.#pongTimer = undefined;
    // The peer (or the path to it) is dead or has stopped reading. There is nobody to send a
    // close frame to, so terminate; 1006 is what a vanished connection reports.
    this.#end(CloseCode.ABNORMAL, 'heartbeat timeout', true);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#clearPongTimer();
  }
}

/** Wraps an open `ws` socket; internal to the server and client factories. */
export function wrapWebSocket(ws: WebSocket, peer: string, limits: WsLimits): Transport {
  return new WsTransport(ws, peer, limits);
}

/** `host:port`, with IPv6 addresses in brackets so the port stays unambiguous. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const host = address === undefined ? 'unknown' : address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}
