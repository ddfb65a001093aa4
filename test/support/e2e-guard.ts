/**
 * Leak checking for the end-to-end tests. On top of the transport's {@link leakGuard} (sockets,
 * servers, transport and `ws` timers) it checks, after every test, that everything the test
 * created through it was shut down by the test itself:
 *
 * - every CEM server was closed and has no sessions left (`server.sessions.size === 0`);
 * - every RM client was stopped;
 * - every S2Session is closed and its `closed` promise resolved (so its actor is stopped);
 * - no session timer is pending: sessions get a {@link TrackingClock}, which sees every XState
 *   timer (handshake timeout, ReceptionStatus timeouts, close grace);
 * - every raw peer and raw server is closed.
 *
 * Whatever a failing test leaves behind is cleaned up afterwards so it cannot cascade.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { createCemServer, type CemServer, type CemServerOptions } from '../../src/roles/cem-server.js';
import { createRmClient, type RmClient, type RmClientOptions } from '../../src/roles/rm-client.js';
import type { S2Session } from '../../src/roles/session.js';
import { leakGuard, waitFor } from '../transport/helpers.js';
import { createRawServer, RawPeer, type RawPeerOptions, type RawServer } from './raw-ws-peer.js';

/** An XState clock over the real timers that knows which of its timers are still pending. */
export class TrackingClock {
  readonly live = new Map<unknown, string>();

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const handle: NodeJS.Timeout = setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.set(handle, `session timer of ${ms} ms`);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle);
    clearTimeout(handle as NodeJS.Timeout);
  }
}

export interface TrackedCemServer extends CemServer {
  /** Every session the server started, in order. */
  readonly all: S2Session[];
  /** Resolves with session number `index` (0-based) once the server has started it. */
  session(index?: number): Promise<S2Session>;
  readonly isClosed: boolean;
}

export interface TrackedRmClient extends RmClient {
  readonly all: S2Session[];
  readonly isStopped: boolean;
}

interface Tracked {
  servers: TrackedCemServer[];
  clients: TrackedRmClient[];
  sessions: S2Session[];
  peers: RawPeer[];
  rawServers: RawServer[];
}

export interface E2eGuard {
  /** The clock every session created through this guard runs on. */
  readonly clock: TrackingClock;
  cemServer(options?: Partial<CemServerOptions>): Promise<TrackedCemServer>;
  rmClient(options: RmClientOptions): TrackedRmClient;
  peer(url: string, options?: RawPeerOptions & { token?: string; ca?: string }): Promise<RawPeer>;
  rawServer(options?: RawPeerOptions): Promise<RawServer>;
  /** Adds a session created some other way (e.g. `connectSession`) to the checks. */
  track(session: S2Session): S2Session;
  /** A clean-up that runs after the checks (for things this guard does not know). */
  defer(cleanup: () => unknown): void;
  /** What is alive right now that must be gone by the end of the test (empty = nothing). */
  problems(): string[];
}

function emptyTracked(): Tracked {
  return { servers: [], clients: [], sessions: [], peers: [], rawServers: [] };
}

export function e2eGuard(): E2eGuard {
  const sockets = leakGuard();
  const clock = new TrackingClock();
  let t = emptyTracked();
  // Settled `closed` promises, recorded from their own resolution (not from `isClosed`).
  let settled = new WeakSet<S2Session>();

  const track = (session: S2Session): S2Session => {
    if (!t.sessions.includes(session)) {
      t.sessions.push(session);
      const mine = settled;
      void session.closed.then(() => mine.add(session));
    }
    return session;
  };

  const problems = (): string[] => {
    const out: string[] = [];
    t.servers.forEach((s, i) => {
      if (!s.isClosed) out.push(`CEM server #${i} was not closed`);
      if (s.sessions.size !== 0) out.push(`CEM server #${i} still lists ${s.sessions.size} session(s)`);
    });
    t.clients.forEach((c, i) => {
      if (!c.isStopped) out.push(`RM client #${i} was not stopped`);
      if (c.session !== undefined) out.push(`RM client #${i} still has a current session`);
    });
    t.sessions.forEach((s, i) => {
      if (!s.isClosed) out.push(`session #${i} (${s.role}) is not closed (state ${s.state})`);
      else if (!settled.has(s)) out.push(`session #${i} (${s.role}): closed promise not resolved`);
    });
    for (const what of clock.live.values()) out.push(`pending ${what}`);
    t.peers.forEach((p, i) => {
      if (p.closeInfo === undefined) out.push(`raw peer #${i} is still connected`);
    });
    t.rawServers.forEach((s, i) => {
      if (!s.isClosed) out.push(`raw server #${i} was not closed`);
    });
    return out;
  };

  beforeEach(() => {
    t = emptyTracked();
    settled = new WeakSet();
    clock.live.clear();
  });

  // Registered after leakGuard's hooks, so (vitest runs after-hooks in reverse) this runs first.
  afterEach(async () => {
    const deadline = Date.now() + 2_000;
    let found = problems();
    while (found.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      found = problems();
    }
    const leftovers = t;
    if (found.length > 0) {
      // Clean up so the next test starts from nothing; the failure below still reports the leak.
      for (const c of leftovers.clients) await c.stop().catch(() => undefined);
      for (const s of leftovers.servers) await s.close().catch(() => undefined);
      for (const s of leftovers.sessions) if (!s.isClosed) await s.close().catch(() => undefined);
      for (const p of leftovers.peers) p.terminate();
      for (const s of leftovers.rawServers) await s.close();
      for (const [handle] of clock.live) clearTimeout(handle as NodeJS.Timeout);
      clock.live.clear();
    }
    expect(found, 'left alive after the test').toEqual([]);
  });

  return {
    clock,
    track,
    defer: sockets.defer,
    problems,

    async cemServer(options = {}) {
      const all: S2Session[] = [];
      let isClosed = false;
      const { onSession, ...rest } = options;
      const server = await createCemServer({
        clock,
        ...rest,
        onSession: (session, info) => {
          all.push(track(session));
          onSession?.(session, info);
        },
      });
      const tracked: TrackedCemServer = {
        get url() {
          return server.url;
        },
        get port() {
          return server.port;
        },
        sessions: server.sessions,
        metrics: () => server.metrics(),
        all,
        get isClosed() {
          return isClosed;
        },
        async session(index = 0) {
          await waitFor(() => all.length > index, 3_000, `CEM session #${index}`);
          return all[index] as S2Session;
        },
        async close(code?: number, reason?: string) {
          await server.close(code, reason);
          isClosed = true;
        },
      };
      t.servers.push(tracked);
      return tracked;
    },

    rmClient(options) {
      const all: S2Session[] = [];
      let isStopped = false;
      const { onSession } = options;
      const client = createRmClient({
        clock,
        ...options,
        onSession: (session) => {
          all.push(track(session));
          onSession?.(session);
        },
      });
      const tracked: TrackedRmClient = {
        get session() {
          return client.session;
        },
        all,
        get isStopped() {
          return isStopped;
        },
        nextSession: () => client.nextSession(),
        async stop() {
          await client.stop();
          isStopped = true;
        },
      };
      t.clients.push(tracked);
      return tracked;
    },

    async peer(url, options = {}) {
      const peer = await RawPeer.connect(url, options);
      t.peers.push(peer);
      return peer;
    },

    async rawServer(options = {}) {
      const server = await createRawServer(options);
      t.rawServers.push(server);
      // Connections it accepts are peers like any other: they must be gone after the test.
      const origAccept = server.accept.bind(server);
      return {
        get url() {
          return server.url;
        },
        get peers() {
          return server.peers;
        },
        get isClosed() {
          return server.isClosed;
        },
        accept: async (timeoutMs?: number) => {
          const p = await origAccept(timeoutMs);
          t.peers.push(p);
          return p;
        },
        close: () => server.close(),
      };
    },
  };
}
