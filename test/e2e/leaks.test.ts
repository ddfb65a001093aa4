/**
 * The leak check itself, and the shutdown paths it guards. Every e2e file runs under
 * `e2eGuard()`, which after each test requires: servers closed with `sessions.size === 0`, RM
 * clients stopped, every S2Session closed with its `closed` promise resolved, no session timer
 * pending, no raw peer connected, and (through the transport's `leakGuard`) no TCP/TLS socket,
 * server or transport timer left. These tests show the guard sees each kind of leftover, and
 * drive the ways a session can end so that none of them leaks.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { handshake, powerMeasurement, rmDetails, rmDetailsInput } from '../support/e2e-messages.js';
import { activeCem } from '../support/e2e-session.js';

const guard = e2eGuard();

describe('leak check', () => {
  it('sees a live server, session, session timer, client and raw peer, and nothing once they are shut down', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    const session = await server.session();
    const rm = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: false });
    await waitFor(() => rm.all[0]?.state === 'connected.active.FRBC', 2_000, 'RM active');
    const found = guard.problems().join('\n');
    expect(found).toMatch(/CEM server #0 was not closed/);
    expect(found).toMatch(/CEM server #0 still lists 2 session/);
    expect(found).toMatch(/RM client #0 was not stopped/);
    expect(found).toMatch(/session #0 \(CEM\) is not closed \(state handshake\)/);
    expect(found).toMatch(/pending session timer of 30000 ms/); // the raw peer's handshake timeout
    expect(found).toMatch(/raw peer #0 is still connected/);

    await rm.stop();
    await server.close();
    expect(await session.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    await peer.closed;
    await waitFor(() => guard.problems().length === 0, 2_000, 'nothing left');
    expect(server.sessions.size).toBe(0);
    expect(guard.clock.live.size).toBe(0);
  });
});

describe('every way a session ends leaves nothing behind', () => {
  it('server.close() with sessions in every phase: all closed 1001, sessions.size 0, timers cancelled', async () => {
    const server = await guard.cemServer({ receptionTimeoutMs: 60_000, handshakeTimeoutMs: 60_000 });
    const silent = await guard.peer(server.url); // never says anything: handshake timer running
    const halfway = await guard.peer(server.url); // handshake done, details unanswered selection pending
    halfway.send(handshake('RM'));
    halfway.send(rmDetails());
    await halfway.message('SelectControlType');
    const active = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: { initialMs: 10_000 } });
    await waitFor(() => active.all[0]?.state === 'connected.active.FRBC', 2_000, 'RM active');
    expect(server.sessions.size).toBe(3);
    expect(guard.clock.live.size).toBeGreaterThan(0);

    await active.stop();
    await server.close();
    expect(server.sessions.size).toBe(0);
    for (const s of server.all) expect((await s.closed).code).toBeOneOf([CloseCode.GOING_AWAY, CloseCode.NORMAL]);
    expect(await silent.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(await halfway.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(guard.clock.live.size).toBe(0);
  });

  it('peers that vanish (terminate) in every phase: each CEM session closes 1006 and is forgotten', async () => {
    const server = await guard.cemServer();
    for (let i = 0; i < 10; i++) {
      const peer = await guard.peer(server.url);
      if (i % 3 >= 1) peer.send(handshake('RM'));
      if (i % 3 === 2) {
        peer.send(rmDetails());
        await peer.message('SelectControlType'); // its ReceptionStatus timer is running
      }
      const session = await server.session(i);
      peer.terminate();
      expect(await session.closed).toMatchObject({ code: CloseCode.ABNORMAL });
      await waitFor(() => server.sessions.size === 0, 2_000, 'the session forgotten');
    }
    expect(guard.clock.live.size).toBe(0);
    await server.close();
  });

  it('sessions ended by the session itself (handler answered PERMANENT_ERROR 4002, handshake timeout 4000) are forgotten, their timers cancelled', async () => {
    const { server, peer, session } = await activeCem(guard, {
      handshakeTimeoutMs: 100,
      logger: false,
      onMessage: (m) => (m.message_type === 'PowerMeasurement' ? 'PERMANENT_ERROR' : undefined),
    });
    // The handler's PERMANENT_ERROR → 4002 (R18: the side that sends it closes).
    peer.send(powerMeasurement());
    expect(await session.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    // Handshake timeout → 4000.
    const idle = await guard.peer(server.url);
    expect(await idle.closed).toMatchObject({ code: CloseCode.HANDSHAKE_TIMEOUT });
    expect(await (await server.session(1)).closed).toMatchObject({ code: CloseCode.HANDSHAKE_TIMEOUT });
    await waitFor(() => server.sessions.size === 0, 2_000, 'sessions forgotten');
    expect(guard.clock.live.size).toBe(0);
    await server.close();
  });
});
