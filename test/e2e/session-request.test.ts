/**
 * SessionRequest end to end between a real CEM server and a real RM client (docs/rules.md#Q11):
 * RECONNECT makes the RM reconnect at once, TERMINATE makes it wait its back-off, and either way
 * the next connection is a brand-new session that starts with a handshake.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { S2Session } from '../../src/roles/session.js';
import type { Clock } from '../../src/transport/reconnect.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard, type TrackedCemServer, type TrackedRmClient } from '../support/e2e-guard.js';
import { rmDetailsInput, sessionRequest } from '../support/e2e-messages.js';
import { activeCem, recordTraffic } from '../support/e2e-session.js';

const guard = e2eGuard();

/** A reconnect clock whose timers only fire when the test says so. */
class ManualClock implements Clock {
  readonly timers: Array<{ fn: () => void; ms: number; cleared: boolean; fired: boolean }> = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { fn, ms, cleared: false, fired: false };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    (handle as { cleared: boolean }).cleared = true;
  }
  get pending() {
    return this.timers.filter((t) => !t.cleared && !t.fired);
  }
  fire(): void {
    const t = this.pending[0];
    if (!t) throw new Error('no pending reconnect timer');
    t.fired = true;
    t.fn();
  }
}

async function bothActive(server: TrackedCemServer, rm: TrackedRmClient, index: number): Promise<{ cem: S2Session; rmSession: S2Session }> {
  const cem = await server.session(index);
  await waitFor(() => rm.all.length > index, 3_000, `RM session #${index}`);
  const rmSession = rm.all[index] as S2Session;
  await waitFor(
    () => cem.state === 'connected.active.FRBC' && rmSession.state === 'connected.active.FRBC',
    3_000,
    `session #${index} active on both sides`,
  );
  return { cem, rmSession };
}

describe('SessionRequest from the CEM', () => {
  it('[Q11] RECONNECT: the RM acknowledges, closes, reconnects at once, and a new handshake makes a new session', async () => {
    const cemTraffic: Array<ReturnType<typeof recordTraffic>> = [];
    const server = await guard.cemServer({ onSession: (s) => void cemTraffic.push(recordTraffic(s)) });
    // A long back-off: only an immediate reconnect can be quick.
    const rm = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: { initialMs: 10_000, maxMs: 10_000, jitter: 0 } });
    const { cem: cemFirst, rmSession: first } = await bothActive(server, rm, 0);

    const next = rm.nextSession();
    const started = Date.now();
    cemFirst.request('RECONNECT', 'maintenance');
    const second = await next;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(second).not.toBe(first);
    expect(second.id).not.toBe(first.id);
    expect(first.peerRequest).toBe('RECONNECT');
    expect(await first.closed).toMatchObject({ code: CloseCode.NORMAL });
    expect(await cemFirst.closed).toMatchObject({ code: CloseCode.NORMAL });
    // The RM answered the SessionRequest before it closed (R11).
    const request = cemTraffic[0]?.sent.find((m) => m.message_type === 'SessionRequest');
    expect(request).toMatchObject({ request: 'RECONNECT' });
    const answer = cemTraffic[0]?.received.find(
      (m) => m?.message_type === 'ReceptionStatus' && m.subject_message_id === (request as { message_id: string }).message_id,
    );
    expect(answer).toMatchObject({ status: 'OK' });

    // The new session started from scratch with a handshake of its own.
    const { cem: cemSecond } = await bothActive(server, rm, 1);
    expect(cemSecond).not.toBe(cemFirst);
    expect(cemTraffic[1]?.received[0]).toMatchObject({ message_type: 'Handshake', role: 'RM' });
    expect(second.version).toBe('0.0.2-beta');
    expect(server.sessions.size).toBe(1);
    expect(rm.session).toBe(second);

    await rm.stop();
    await server.close();
  });

  it('[Q11] TERMINATE: the RM closes and waits its back-off before it reconnects (injected reconnect clock)', async () => {
    const server = await guard.cemServer();
    const clock = new ManualClock();
    const rm = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: { initialMs: 50 }, reconnectClock: clock });
    const { cem: cemFirst, rmSession: first } = await bothActive(server, rm, 0);

    cemFirst.request('TERMINATE');
    expect(await first.closed).toMatchObject({ code: CloseCode.NORMAL });
    expect(first.peerRequest).toBe('TERMINATE');
    await waitFor(() => clock.pending.length === 1, 2_000, 'a back-off timer');
    const backoff = clock.pending[0]?.ms ?? -1;
    expect(backoff).toBeGreaterThan(0);
    expect(backoff).toBeLessThanOrEqual(50);
    // It does not reconnect on its own: no new connection while the back-off timer has not fired.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.all).toHaveLength(1);
    expect(rm.session).toBeUndefined();
    expect(server.sessions.size).toBe(0);

    const next = rm.nextSession();
    clock.fire(); // the back-off has passed
    const second = await next;
    expect(second).not.toBe(first);
    await bothActive(server, rm, 1);

    await rm.stop();
    await server.close();
  });

  it('[Q11] TERMINATE with a real small back-off: no reconnect before it, a reconnect after it', async () => {
    const server = await guard.cemServer();
    const rm = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: { initialMs: 600, jitter: 0 } });
    const { cem, rmSession: first } = await bothActive(server, rm, 0);
    const next = rm.nextSession();
    let closedAt = 0;
    void first.closed.then(() => (closedAt = Date.now()));
    cem.request('TERMINATE');
    await first.closed;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.all).toHaveLength(1);
    const second = await next;
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(580);
    expect(second).not.toBe(first);
    await rm.stop();
    await server.close();
  });
});

describe('SessionRequest from the RM', () => {
  it('[Q11, R11] the CEM answers OK and ends the session with 1000', async () => {
    const { server, peer, session } = await activeCem(guard);
    const id = peer.send(sessionRequest('TERMINATE')) as string;
    expect(await peer.statusFor(id)).toMatchObject({ status: 'OK' });
    expect(await peer.closed).toMatchObject({ code: CloseCode.NORMAL });
    expect(await session.closed).toMatchObject({ code: CloseCode.NORMAL });
    expect(session.peerRequest).toBe('TERMINATE');
    expect(server.sessions.size).toBe(0);
    await server.close();
  });
});
