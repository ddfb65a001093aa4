import { CloseCode } from '../machines/close-codes.js';
import type { RmDetailsInput } from '../machines/types.js';
import { createReconnectingClient, type BackoffOptions, type Clock } from '../transport/reconnect.js';
import { connectWs, type WsClientOptions } from '../transport/ws-client.js';
import type { Transport } from '../transport/transport.js';
import { S2Error } from '../typebox/errors.js';
import { resolveLogger } from './logger.js';
import { checkRmClientOptions, throwIfProblems } from './options.js';
import { attachRmControlTypes, type RmControlTypes } from './rm-control.js';
import { S2Session, type SessionOptions } from './session.js';

/**
 * Options of `createRmClient`. Every optional field also accepts `undefined`, meaning "not given"
 * (`token: process.env.S2_TOKEN` works under `exactOptionalPropertyTypes`).
 */
export interface RmClientOptions extends Omit<SessionOptions, 'role' | 'details' | 'sessionId'>, WsClientOptions {
  /** The CEM's WebSocket URL (`ws://` or `wss://`); or give `connect`. */
  readonly url?: string | undefined;
  /**
   * Opens each connection instead of dialling `url`: e.g. S2 Connect's
   * `() => connectPaired({ store })`, which also says which S2 version was agreed (the session then
   * offers only that one). Called again for every reconnect.
   */
  readonly connect?: (() => Promise<Transport | DialledTransport>) | undefined;
  /** The ResourceManagerDetails the RM announces after every handshake. */
  readonly details: RmDetailsInput;
  /**
   * Reconnect after the connection ends (default true, with back-off and jitter). A
   * SessionRequest RECONNECT reconnects at once; TERMINATE and losses wait the back-off.
   */
  readonly reconnect?: boolean | BackoffOptions | undefined;
  /**
   * The control types this RM implements. When given, it must match
   * `details.available_control_types` exactly (NOT_CONTROLABLE aside): checked up front.
   */
  readonly controlTypes?: RmControlTypes | undefined;
  /** Called for every new session (one per connection). */
  readonly onSession?: ((session: S2Session) => void) | undefined;
  /** A dial failed (it is also logged as a warning). */
  readonly onDialError?: ((err: unknown, attempt: number, delayMs: number) => void) | undefined;
  /** Timers of the reconnect loop (tests inject fakes). */
  readonly reconnectClock?: Clock | undefined;
}

/** A connection opened by {@link RmClientOptions.connect}, with the S2 versions agreed for it. */
export interface DialledTransport {
  readonly transport: Transport;
  /** The versions the session offers in its Handshake; default the client's `versions`. */
  readonly versions?: readonly string[] | undefined;
  /** Where it goes, for logs (never a token). */
  readonly peer?: string | undefined;
}

export interface RmClient {
  /** The current session, if connected. */
  readonly session: S2Session | undefined;
  /**
   * Resolves with the next session that completes its handshake. Rejects with
   * `S2Error('INVALID_STATE')` once the client is stopped (at once if it already is), and, with
   * `reconnect: false`, when the one connection failed or ended without a handshake (the dial
   * error itself when dialling failed): a waiting caller is never left hanging.
   */
  nextSession(): Promise<S2Session>;
  /** Stops reconnecting and closes the current session (1000). */
  stop(): Promise<void>;
}

/**
 * An RM that dials its CEM and keeps the connection up (docs/rules.md#phases, #Q11). The options are
 * checked first: a mistake (details that are not valid ResourceManagerDetails, handlers that do
 * not match the offered control types, a bad limit) throws `S2Error('INVALID_OPTIONS')` listing
 * every problem, before anything is dialled.
 */
export function createRmClient(options: RmClientOptions): RmClient {
  throwIfProblems('createRmClient options', checkRmClientOptions(options));
  const { url, connect, reconnect = true, onSession, onDialError, reconnectClock, controlTypes, ...rest } = options;
  // Each dial yields the transport and, with S2 Connect, the version agreed for it.
  let versions: readonly string[] | undefined;
  const dial = async (): Promise<Transport> => {
    if (connect === undefined) return connectWs(url!, rest);
    const opened = await connect();
    if ('transport' in opened) {
      versions = opened.versions;
      return opened.transport;
    }
    versions = undefined;
    return opened;
  };
  const target = url === undefined ? 'the CEM (connect)' : redact(url);
  const logger = resolveLogger(rest.logger);
  let current: S2Session | undefined;
  let stopped = false;
  /** No session will ever come (stopped, or the single connection of reconnect:false is over). */
  let finished: Error | undefined;
  let waiters: Array<{ resolve: (s: S2Session) => void; reject: (err: Error) => void }> = [];

  const finish = (err: Error) => {
    finished ??= err;
    const ws = waiters;
    waiters = [];
    for (const w of ws) w.reject(finished);
  };
  const nextSession = () =>
    new Promise<S2Session>((resolve, reject) => {
      if (finished) reject(finished);
      else waiters.push({ resolve, reject });
    });
  const dialFailed = (err: unknown, attempt: number, delayMs: number) => {
    logger.warn(
      { kind: 'dial-failed', url: target, attempt, ...(delayMs > 0 ? { retryInMs: delayMs } : {}), err },
      'could not reach the CEM',
    );
    onDialError?.(err, attempt, delayMs);
  };

  const start = (transport: Transport, markHealthy?: () => void) => {
    const session = new S2Session(transport, { ...rest, ...(versions === undefined ? {} : { versions }), role: 'RM' });
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
      for (const w of ws) w.resolve(session);
    });
    // Listeners attached here see everything, from the first Handshake on.
    onSession?.(session);
    return session.start();
  };
  const stoppedError = () => new S2Error('INVALID_STATE', 'the RM client was stopped: no further session will start');

  if (reconnect === false) {
    void dial().then(
      (t) => {
        if (stopped) return t.close(CloseCode.NORMAL, 'client stopped');
        const session = start(t);
        // One connection only: after it, nobody waiting may wait for ever.
        void session.closed.then(({ code, reason }) =>
          finish(
            stopped
              ? stoppedError()
              : new S2Error('INVALID_STATE', `the connection ended (${code}${reason ? ` ${reason}` : ''}) and reconnect is off`),
          ),
        );
      },
      (err: unknown) => {
        dialFailed(err, 0, 0);
        finish(err instanceof Error ? err : new S2Error('TRANSPORT_CONNECT_FAILED', String(err), { cause: err }));
      },
    );
    return {
      get session() {
        return current;
      },
      nextSession,
      async stop() {
        stopped = true;
        finish(stoppedError());
        if (current) await current.close(CloseCode.NORMAL, 'client stopped');
      },
    };
  }

  const client = createReconnectingClient({
    connect: dial,
    onTransport: (transport) => {
      const session = start(transport, () => client.markHealthy());
      void session.closed.then(() => {
        // RECONNECT asks for a new connection straight away (docs/rules.md#Q11).
        if (!stopped && session.peerRequest === 'RECONNECT') client.reconnectNow();
      });
    },
    ...(typeof reconnect === 'object' ? { backoff: reconnect } : {}),
    ...(reconnectClock ? { clock: reconnectClock } : {}),
    onDialError: dialFailed,
  });
  return {
    get session() {
      return current;
    },
    nextSession,
    async stop() {
      stopped = true;
      finish(stoppedError());
      const s = current;
      client.stop();
      if (s) await s.closed;
    },
  };
}

/** The URL without user info or query (a token in the URL must not reach the log). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
