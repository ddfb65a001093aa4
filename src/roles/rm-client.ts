import { CloseCode } from '../machines/close-codes.js';
import type { RmDetailsInput } from '../machines/session-setup.js';
import { createReconnectingClient, type BackoffOptions, type Clock } from '../transport/reconnect.js';
import { connectWs, type WsClientOptions } from '../transport/ws-client.js';
import type { Transport } from '../transport/transport.js';
import { attachRmControlTypes, type RmControlTypes } from './rm-control.js';
import { S2Session, type SessionOptions } from './session.js';

export interface RmClientOptions extends Omit<SessionOptions, 'role' | 'details' | 'sessionId'>, WsClientOptions {
  /** The CEM's WebSocket URL (`ws://` or `wss://`). */
  readonly url: string;
  /** The ResourceManagerDetails the RM announces after every handshake. */
  readonly details: RmDetailsInput;
  /**
   * Reconnect after the connection ends (default true, with back-off and jitter). A
   * SessionRequest RECONNECT reconnects at once; TERMINATE and losses wait the back-off.
   */
  readonly reconnect?: boolean | BackoffOptions;
  /** The control types this RM implements (offer them in `details.available_control_types`). */
  readonly controlTypes?: RmControlTypes;
  /** Called for every new session (one per connection). */
  readonly onSession?: (session: S2Session) => void;
  /** A dial failed; for logging. */
  readonly onDialError?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Timers of the reconnect loop (tests inject fakes). */
  readonly reconnectClock?: Clock;
}

export interface RmClient {
  /** The current session, if connected. */
  readonly session: S2Session | undefined;
  /** Resolves with the next session that completes its handshake. */
  nextSession(): Promise<S2Session>;
  /** Stops reconnecting and closes the current session (1000). */
  stop(): Promise<void>;
}

/** An RM that dials its CEM and keeps the connection up (S2-RULES.md §2.1, §2.6). */
export function createRmClient(options: RmClientOptions): RmClient {
  const { url, reconnect = true, onSession, onDialError, reconnectClock, controlTypes, ...rest } = options;
  let current: S2Session | undefined;
  let stopped = false;
  let waiters: Array<(s: S2Session) => void> = [];

  const start = (transport: Transport, markHealthy?: () => void) => {
    const session = new S2Session(transport, { ...rest, role: 'RM' });
    if (controlTypes) attachRmControlTypes(session, controlTypes);
    current = session;
    // The current session only while it lives, whether the client reconnects or not.
    void session.closed.then(() => {
      if (current === session) current = undefined;
    });
    session.on('handshake', () => {
      markHealthy?.();
      const ws = waiters;
      waiters = [];
      for (const w of ws) w(session);
    });
    // Listeners attached here see everything, from the first Handshake on.
    onSession?.(session);
    return session.start();
  };

  if (reconnect === false) {
    void connectWs(url, rest).then(
      (t) => (stopped ? t.close(CloseCode.NORMAL, 'client stopped') : void start(t)),
      (err: unknown) => onDialError?.(err, 0, 0),
    );
    return {
      get session() {
        return current;
      },
      nextSession: () => new Promise((resolve) => waiters.push(resolve)),
      async stop() {
        stopped = true;
        if (current) await current.close(CloseCode.NORMAL, 'client stopped');
      },
    };
  }

  const client = createReconnectingClient({
    connect: () => connectWs(url, rest),
    onTransport: (transport) => {
      const session = start(transport, () => client.markHealthy());
      void session.closed.then(() => {
        // §2.6: RECONNECT asks for a new connection straight away.
        if (!stopped && session.peerRequest === 'RECONNECT') client.reconnectNow();
      });
    },
    ...(typeof reconnect === 'object' ? { backoff: reconnect } : {}),
    ...(reconnectClock ? { clock: reconnectClock } : {}),
    ...(onDialError ? { onDialError } : {}),
  });
  return {
    get session() {
      return current;
    },
    nextSession: () => new Promise((resolve) => waiters.push(resolve)),
    async stop() {
      stopped = true;
      const s = current;
      client.stop();
      if (s) await s.closed;
    },
  };
}
