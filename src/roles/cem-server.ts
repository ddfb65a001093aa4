import { CloseCode } from '../machines/close-codes.js';
import { createWsServer, type ConnectionInfo, type WsServerOptions } from '../transport/ws-server.js';
import { attachCemControlTypes, type CemControlTypes } from './cem-control.js';
import { S2Session, type SessionOptions } from './session.js';

export interface CemServerOptions
  extends Omit<SessionOptions, 'role' | 'details' | 'sessionId'>,
    Omit<WsServerOptions, 'onConnection'> {
  /** The control types this CEM handles, with typed callbacks and instruct helpers. */
  readonly controlTypes?: CemControlTypes;
  /** Called for every new session, before its first frame is read. */
  readonly onSession?: (session: S2Session, info: ConnectionInfo) => void;
}

/**
 * Counters for monitoring (export them to Prometheus, StatsD …): sample `metrics()` periodically
 * and take differences for rates such as messages per second.
 */
export interface CemMetrics {
  /** Live sessions by state path (`connected.active.FRBC` …). */
  readonly sessionsByState: Readonly<Record<string, number>>;
  readonly sessionsOpened: number;
  readonly sessionsClosed: number;
  readonly messagesReceived: number;
  readonly messagesSent: number;
  /** Received messages answered with something other than OK, by status. */
  readonly refusedByStatus: Readonly<Record<string, number>>;
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

/**
 * A CEM that accepts RMs over WebSocket (S2-RULES.md §2.1: the CEM is usually the server). Each
 * connection runs its own session actor; one session's failure never touches another.
 */
export async function createCemServer(options: CemServerOptions): Promise<CemServer> {
  const sessions = new Set<S2Session>();
  const counts = { sessionsOpened: 0, sessionsClosed: 0, messagesReceived: 0, messagesSent: 0, receptionTimeouts: 0 };
  const refusedByStatus: Record<string, number> = {};
  const count = (session: S2Session) => {
    counts.sessionsOpened++;
    session.on('received', () => counts.messagesReceived++);
    session.on('sent', () => counts.messagesSent++);
    session.on('refused', ({ status }) => (refusedByStatus[status] = (refusedByStatus[status] ?? 0) + 1));
    session.on('report', ({ kind }) => kind === 'reception-status-timeout' && counts.receptionTimeouts++);
    void session.closed.then(() => counts.sessionsClosed++);
  };
  const { onSession, controlTypes, ...rest } = options;
  const server = await createWsServer({
    ...rest,
    onConnection: (transport, info) => {
      const session = new S2Session(transport, { ...rest, role: 'CEM' });
      sessions.add(session);
      count(session);
      void session.closed.then(() => sessions.delete(session));
      if (controlTypes) attachCemControlTypes(session, controlTypes);
      // Listeners attached here see everything, from the first Handshake on.
      onSession?.(session, info);
      session.start();
    },
  });
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    sessions,
    metrics() {
      const sessionsByState: Record<string, number> = {};
      for (const s of sessions) sessionsByState[s.state] = (sessionsByState[s.state] ?? 0) + 1;
      return { ...counts, sessionsByState, refusedByStatus: { ...refusedByStatus } };
    },
    async close(code = CloseCode.GOING_AWAY, reason = 'CEM shutting down') {
      await server.close(code, reason);
      await Promise.all([...sessions].map((s) => s.closed));
    },
  };
}
