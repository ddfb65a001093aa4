import { CloseCode } from '../machines/close-codes.js';
import type { SessionStatePath } from '../machines/types.js';
import type { ReceptionStatusValues } from '../typebox/common/enums.js';
import { createWsServer, type ConnectionInfo, type WsServerOptions } from '../transport/ws-server.js';
import type { Transport } from '../transport/transport.js';
import { attachCemControlTypes, type CemControlTypes } from './cem-control.js';
import { resolveLogger } from './logger.js';
import { checkCemServerOptions, throwIfProblems } from './options.js';
import { S2Session, type SessionOptions } from './session.js';

/**
 * Options of `createCemServer`. Every optional field also accepts `undefined`, meaning "not given"
 * (`token: process.env.S2_TOKEN` works under `exactOptionalPropertyTypes`).
 */
export interface CemServerOptions extends Omit<SessionOptions, 'role' | 'details' | 'sessionId'>, Omit<WsServerOptions, 'onConnection'> {
  /** The control types this CEM handles, with typed callbacks and instruct helpers. */
  readonly controlTypes?: CemControlTypes | undefined;
  /** Called for every new session, before its first frame is read. */
  readonly onSession?: ((session: S2Session, info: ConnectionInfo) => void) | undefined;
}

/**
 * Counters for monitoring (export them to Prometheus, StatsD …): sample `metrics()` periodically
 * and take differences for rates such as messages per second.
 */
export interface CemMetrics {
  /** Live sessions by state path (`connected.active.FRBC` …); states without a session are absent. */
  readonly sessionsByState: Readonly<Partial<Record<SessionStatePath, number>>>;
  readonly sessionsOpened: number;
  readonly sessionsClosed: number;
  readonly messagesReceived: number;
  readonly messagesSent: number;
  /** Received messages answered with something other than OK, by status. */
  readonly refusedByStatus: Readonly<Partial<Record<ReceptionStatusValues, number>>>;
  /** Sent messages whose ReceptionStatus did not come in time (R21). */
  readonly receptionTimeouts: number;
}

export interface CemServer {
  readonly url: string;
  readonly port: number;
  /** Live sessions. */
  readonly sessions: ReadonlySet<S2Session>;
  /** Counters of this server since it started. */
  metrics(): CemMetrics;
  /** Closes every session (default 1001 GOING_AWAY) and stops listening. */
  close(code?: number, reason?: string): Promise<void>;
}

/** Options of {@link createCemHost}: a CEM's sessions without a listener of its own. */
export type CemHostOptions = Omit<CemServerOptions, keyof WsServerOptions | 'onSession'> & {
  readonly onSession?: ((session: S2Session, info: ConnectionInfo | undefined) => void) | undefined;
};

/**
 * A CEM's sessions without a listener: it runs a CEM session on every transport handed to
 * `accept`. `createCemServer` is one over its own WebSocket server; S2 Connect hands it the
 * WebSockets it authenticated (`onConnection: (t, info) => cem.accept(t, { info, versions: [info.messageVersion] })`).
 */
export interface CemHost {
  /** Live sessions. */
  readonly sessions: ReadonlySet<S2Session>;
  /** Runs a CEM session on `transport`; `versions` narrows what this session accepts (an agreed S2 Connect version). */
  accept(
    transport: Transport,
    extra?: { readonly info?: ConnectionInfo | undefined; readonly versions?: readonly string[] | undefined },
  ): S2Session;
  /** Counters since the host started. */
  metrics(): CemMetrics;
  /** Closes every session (default 1001 GOING_AWAY). */
  close(code?: number, reason?: string): Promise<void>;
}

export function createCemHost(options: CemHostOptions): CemHost {
  throwIfProblems('createCemHost options', checkCemServerOptions(options));
  return cemHost(options);
}

function cemHost(options: CemHostOptions): CemHost {
  const sessions = new Set<S2Session>();
  const counts = { sessionsOpened: 0, sessionsClosed: 0, messagesReceived: 0, messagesSent: 0, receptionTimeouts: 0 };
  const refusedByStatus: Partial<Record<ReceptionStatusValues, number>> = {};
  const count = (session: S2Session) => {
    counts.sessionsOpened++;
    session.on('received', () => counts.messagesReceived++);
    session.on('sent', () => counts.messagesSent++);
    session.on('refused', ({ status }) => (refusedByStatus[status] = (refusedByStatus[status] ?? 0) + 1));
    session.on('report', ({ kind }) => kind === 'reception-status-timeout' && counts.receptionTimeouts++);
    void session.closed.then(() => counts.sessionsClosed++);
  };
  const { onSession, controlTypes, ...rest } = options;
  return {
    sessions,
    accept(transport, extra) {
      const versions = extra?.versions;
      const session = new S2Session(transport, { ...rest, ...(versions === undefined ? {} : { versions }), role: 'CEM' });
      sessions.add(session);
      count(session);
      void session.closed.then(() => sessions.delete(session));
      if (controlTypes) attachCemControlTypes(session, controlTypes);
      // Listeners attached here see everything, from the first Handshake on.
      onSession?.(session, extra?.info);
      session.start();
      return session;
    },
    metrics() {
      const sessionsByState: Partial<Record<SessionStatePath, number>> = {};
      for (const s of sessions) sessionsByState[s.state] = (sessionsByState[s.state] ?? 0) + 1;
      return { ...counts, sessionsByState, refusedByStatus: { ...refusedByStatus } };
    },
    async close(code = CloseCode.GOING_AWAY, reason = 'CEM shutting down') {
      for (const s of sessions) void s.close(code, reason);
      await Promise.all([...sessions].map((s) => s.closed));
    },
  };
}

/**
 * A CEM that accepts RMs over WebSocket (docs/rules.md#phases: the CEM is usually the server). Each
 * connection runs its own session actor; one session's failure never touches another. The
 * options are checked first: a mistake rejects with `S2Error('INVALID_OPTIONS')` listing every
 * problem, before anything listens.
 */
export async function createCemServer(options: CemServerOptions): Promise<CemServer> {
  throwIfProblems('createCemServer options', checkCemServerOptions(options));
  const logger = resolveLogger(options.logger);
  const { onSession, ...rest } = options;
  const host = cemHost({ ...rest, ...(onSession ? { onSession: (session, info) => onSession(session, info!) } : {}) });
  const server = await createWsServer({
    ...rest,
    // Errors of no session (a throwing onSession, the HTTP server) are not lost without onError.
    onError: rest.onError ?? ((err: unknown) => logger.error({ kind: 'server-error', err }, 'CEM server error')),
    onConnection: (transport, info) => void host.accept(transport, { info }),
  });
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    sessions: host.sessions,
    metrics: () => host.metrics(),
    async close(code = CloseCode.GOING_AWAY, reason = 'CEM shutting down') {
      await server.close(code, reason);
      await host.close(code, reason);
    },
  };
}
