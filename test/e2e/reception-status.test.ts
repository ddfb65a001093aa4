/**
 * ReceptionStatus end to end (docs/design.md decision table, docs/rules.md#reception-status): what a CEM server
 * answers to each kind of frame a raw RM sends over a real WebSocket, what happens to messages the
 * CEM sends that are answered late, never, or with PERMANENT_ERROR, and what a failing handler
 * does to the session (TEMPORARY_ERROR, the session goes on).
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { S2Session, SessionEvents } from '../../src/roles/session.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import {
  fixture,
  frbcActivationMessages,
  frbcInstruction,
  handshake,
  NIL,
  newId,
  powerMeasurement,
  rmDetails,
  rmDetailsInput,
  rs,
  type Wire,
} from '../support/e2e-messages.js';
import { activeCem, READABLE_ID, receptionProblems, recordTraffic } from '../support/e2e-session.js';

const guard = e2eGuard();

/** A typed FRBC.Instruction for `session.send`, for the actuator the RM described. */
function instruction() {
  const m = frbcInstruction();
  return {
    message_type: 'FRBC.Instruction' as const,
    id: String(m.id),
    actuator_id: String(m.actuator_id),
    operation_mode: String(m.operation_mode),
    operation_mode_factor: Number(m.operation_mode_factor),
    execution_time: '2025-01-01T00:00:00Z',
    abnormal_condition: false,
  };
}

function reports(session: S2Session): Array<SessionEvents['report']> {
  const out: Array<SessionEvents['report']> = [];
  session.on('report', (r) => out.push(r));
  return out;
}

/** A PowerMeasurement as a barrier: once its RS is back, every earlier frame has been answered. */
async function barrier(peer: Awaited<ReturnType<typeof activeCem>>['peer']): Promise<void> {
  const id = peer.send(powerMeasurement()) as string;
  expect(await peer.statusFor(id)).toMatchObject({ status: 'OK' });
}

describe('frames the CEM cannot accept', () => {
  it('[R20, R15, Q7] invalid JSON → INVALID_DATA with the nil subject id, state unchanged', async () => {
    const { server, peer, session } = await activeCem(guard);
    peer.sendRaw('{"message_type": "PowerMeasurement", "message_id": "d156a579-eeec-55d9-ac4c-ee52224b462c",');
    const status = await peer.next((m) => m.message_type === 'ReceptionStatus' && m.status === 'INVALID_DATA', 'INVALID_DATA');
    expect(status.subject_message_id).toBe(NIL);
    expect(status.subject_message_id).toBe('00000000-0000-0000-0000-000000000000');
    await barrier(peer);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });

  it('[R20, R15, Q7] JSON without a (readable) message_id → INVALID_DATA with the nil subject id', async () => {
    const { server, peer, session } = await activeCem(guard);
    const { message_id: _drop, ...noId } = powerMeasurement();
    peer.send(noId);
    peer.send({ ...powerMeasurement(), message_id: 42 });
    peer.send({ ...powerMeasurement(), message_id: '!' });
    await barrier(peer);
    const invalid = peer.all('ReceptionStatus').filter((m) => m.status === 'INVALID_DATA');
    expect(invalid).toHaveLength(3);
    for (const m of invalid) expect(m.subject_message_id).toBe(NIL);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });

  it('[R1, R15] unknown message_type with an id → INVALID_MESSAGE with that id', async () => {
    const { server, peer, session } = await activeCem(guard);
    const id = peer.send({ message_type: 'FRBC.TeleportInstruction', message_id: newId(), target: 'moon' }) as string;
    const status = await peer.statusFor(id);
    expect(status.status).toBe('INVALID_MESSAGE');
    expect(String(status.diagnostic_label)).toMatch(/message_type/);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });

  it('[R15, R5, R16] schema-invalid messages → INVALID_MESSAGE with their id, and no effect', async () => {
    const { server, peer, session } = await activeCem(guard);
    const { values: _v, ...noValues } = powerMeasurement();
    const missing = peer.send(noValues) as string;
    const extra = peer.send({ ...fixture('FRBC.StorageStatus'), colour: 'blue' }) as string;
    const wrongType = peer.send({ ...fixture('FRBC.StorageStatus'), present_fill_level: 'half' }) as string;
    // A valid, well-formed but not schema-conform ResourceManagerDetails must not change the CEM's knowledge.
    const before = session.rmDetails;
    const badDetails = peer.send({ ...fixture('ResourceManagerDetails'), available_control_types: [] }) as string;
    for (const id of [missing, extra, wrongType, badDetails]) {
      expect(await peer.statusFor(id)).toMatchObject({ status: 'INVALID_MESSAGE' });
    }
    await barrier(peer);
    expect(session.rmDetails).toBe(before);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });
});

describe('one ReceptionStatus per message', () => {
  it('[R11, R12, R13] exactly one per frame with a readable message_id, one nil INVALID_DATA per frame without, none for a ReceptionStatus', async () => {
    const { server, peer, session } = await activeCem(guard);
    const refused = reports(session);
    const [description, storage, actuator] = frbcActivationMessages();
    const frames: string[] = [
      JSON.stringify(description),
      JSON.stringify(storage),
      JSON.stringify(actuator),
      JSON.stringify(powerMeasurement()),
      'not json at all',
      '[1, 2, 3]',
      '"PowerMeasurement"',
      JSON.stringify({ message_type: 'PowerMeasurement' }),
      JSON.stringify({ message_type: 'Nope', message_id: newId() }),
      JSON.stringify({ ...fixture('FRBC.Instruction') }), // CEM-only message from the RM: INVALID_CONTENT
      JSON.stringify(handshake('RM')), // a second Handshake: INVALID_CONTENT
      JSON.stringify({ ...fixture('FRBC.StorageStatus'), present_fill_level: null }),
      // ReceptionStatuses are never answered, valid or not (R11):
      JSON.stringify(rs(newId(), 'OK')),
      JSON.stringify({ message_type: 'ReceptionStatus', subject_message_id: newId() }),
      JSON.stringify({ message_type: 'ReceptionStatus', message_id: newId(), subject_message_id: newId(), status: 'OK' }),
      JSON.stringify({ message_type: 'ReceptionStatus' }),
    ];
    const start = peer.inbox.length;
    for (const f of frames) peer.sendRaw(f);
    await barrier(peer);

    const statuses = peer.inbox.slice(start).filter((m) => m.message_type === 'ReceptionStatus');
    let withoutId = 0;
    const ids: string[] = [];
    for (const text of frames) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        withoutId++;
        continue;
      }
      const obj = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Wire) : undefined;
      if (obj?.message_type === 'ReceptionStatus') continue;
      const id = obj?.message_id;
      if (typeof id === 'string' && READABLE_ID.test(id)) ids.push(id);
      else withoutId++;
    }
    for (const id of ids)
      expect(
        statuses.filter((s) => s.subject_message_id === id),
        `RS for ${id}`,
      ).toHaveLength(1);
    const fromFrames = statuses.filter((s) => s.subject_message_id === NIL || ids.includes(String(s.subject_message_id)));
    expect(statuses.filter((s) => s.subject_message_id === NIL)).toHaveLength(withoutId);
    // Every RS is accounted for: the frames' and the barrier's.
    const barrierId = peer.outbox.at(-1)?.message_id;
    expect(statuses.length).toBe(fromFrames.length + 1);
    expect(statuses.filter((s) => s.subject_message_id === barrierId)).toHaveLength(1);
    // The ReceptionStatuses the RM sent for unknown ids were reported, not answered (R12).
    expect(refused.filter((r) => r.kind === 'unknown-reception-status')).toHaveLength(1);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });

  it('[R11, R12, R13] a real CEM and a real RM client: each side answers every message it received exactly once', async () => {
    const traffic = new Map<string, ReturnType<typeof recordTraffic>>();
    // onSession runs before a session reads its first frame: the recorders see everything.
    const server = await guard.cemServer({ onSession: (s) => void traffic.set('CEM', recordTraffic(s)) });
    const rm = guard.rmClient({
      url: server.url,
      details: rmDetailsInput(),
      reconnect: false,
      onSession: (s) => void traffic.set('RM', recordTraffic(s)),
    });
    const cem = await server.session();
    await waitFor(() => rm.all.length === 1, 2_000, 'RM session');
    const rmSession = rm.all[0] as S2Session;
    await waitFor(() => rmSession.state === 'connected.active.FRBC' && cem.state === 'connected.active.FRBC', 2_000, 'both active');
    for (const m of frbcActivationMessages()) expect((await rmSession.send(m as never)).status).toBe('OK');
    expect((await rmSession.send(powerMeasurement() as never)).status).toBe('OK');
    expect((await cem.send(instruction())).status).toBe('OK');
    await waitFor(() => cem.pendingCount === 0 && rmSession.pendingCount === 0, 2_000, 'nothing pending');

    for (const side of ['CEM', 'RM']) {
      const t = traffic.get(side);
      if (!t) throw new Error(`no ${side} traffic recorded`);
      expect(receptionProblems(t.sent, t.received), side).toEqual([]);
      // And the other way round: every message this side sent got exactly one answer.
      const own = t.sent.filter((m) => m.message_type !== 'ReceptionStatus');
      const answers = t.received.filter((m) => m?.message_type === 'ReceptionStatus');
      expect(answers, side).toHaveLength(own.length);
      expect(own.length, side).toBeGreaterThanOrEqual(3);
    }
    await rm.stop();
    await server.close();
    expect(server.sessions.size).toBe(0);
  });

  it('[R12] an unknown or repeated ReceptionStatus is reported, not fatal', async () => {
    const { server, peer, session } = await activeCem(guard);
    const seen = reports(session);
    const cemHandshake = peer.inbox.find((m) => m.message_type === 'Handshake') as Wire;
    peer.send(rs(newId(), 'OK')); // never sent by the CEM
    peer.ack(cemHandshake); // answered already during the handshake
    peer.ack(cemHandshake, 'PERMANENT_ERROR'); // a late PERMANENT_ERROR for a settled message is only reported too
    await waitFor(() => seen.length === 3, 2_000, 'three reports');
    expect(seen.map((r) => r.kind)).toEqual(['unknown-reception-status', 'unknown-reception-status', 'unknown-reception-status']);
    await barrier(peer);
    expect(session.state).toBe('connected.active.FRBC');
    expect(session.isClosed).toBe(false);
    // None of them was answered (R11).
    expect(peer.all('ReceptionStatus').filter((m) => m.subject_message_id === cemHandshake.message_id)).toEqual([]);
    await server.close();
  });
});

describe('messages the CEM sends', () => {
  it('[R21, Q5] a peer that never answers: send() resolves TIMEOUT, a report is emitted, and the session continues', async () => {
    const { server, peer, session } = await activeCem(guard, { receptionTimeoutMs: 100 });
    const seen = reports(session);
    const started = Date.now();
    const result = await session.send(instruction());
    expect(result.status).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(seen).toEqual([expect.objectContaining({ kind: 'reception-status-timeout' })]);
    expect(session.pendingCount).toBe(0);
    expect(session.state).toBe('connected.active.FRBC');
    // The session still works both ways …
    await barrier(peer);
    expect((await peer.message('FRBC.Instruction')).message_id).toBe(result.messageId);
    const answered = session.send(instruction());
    peer.ack(await peer.message('FRBC.Instruction'));
    expect((await answered).status).toBe('OK');
    // … and the late answer to the timed-out message is only reported (R12).
    peer.send(rs(result.messageId, 'OK'));
    await waitFor(() => seen.length === 2, 2_000, 'a second report');
    expect(seen[1]?.kind).toBe('unknown-reception-status');
    expect(session.isClosed).toBe(false);
    await server.close();
  });

  it('[R21, R41, Q5] a SelectControlType that timed out is dropped: new details select again, its late OK activates nothing', async () => {
    const server = await guard.cemServer({ receptionTimeoutMs: 100 });
    const peer = await guard.peer(server.url);
    const session = await server.session();
    const seen = reports(session);
    peer.ack(await peer.message('Handshake'));
    peer.send(handshake('RM'));
    peer.ack(await peer.message('HandshakeResponse'));
    peer.send(rmDetails());
    const first = await peer.message('SelectControlType');
    await waitFor(() => seen.some((r) => r.kind === 'reception-status-timeout'), 2_000, 'the selection to time out');
    expect(session.state).toBe('connected.awaitingDetails');
    expect(session.controlType).toBe('NO_SELECTION');
    // R41: unanswered means not active; the policy may select again on the next details.
    peer.send(rmDetails());
    const second = await peer.message('SelectControlType');
    expect(second.message_id).not.toBe(first.message_id);
    peer.ack(first); // too late: only reported (R12)
    await waitFor(() => seen.some((r) => r.kind === 'unknown-reception-status'), 2_000, 'the late answer to be reported');
    expect(session.state).toBe('connected.awaitingDetails');
    peer.ack(second);
    await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'active.FRBC after the second selection');
    await server.close();
  });

  it('[R18] PERMANENT_ERROR received → the session is closed with 4002', async () => {
    const { server, peer, session } = await activeCem(guard);
    const pending = session.send(instruction());
    const sent = await peer.message('FRBC.Instruction');
    peer.ack(sent, 'PERMANENT_ERROR');
    expect(await pending).toMatchObject({ status: 'PERMANENT_ERROR' });
    expect(await session.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    expect(await peer.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    expect(server.sessions.size).toBe(0);
    await server.close();
  });

  it('[R18] PERMANENT_ERROR received by the RM client for its details → the RM closes with 4002', async () => {
    const cem = await guard.rawServer();
    const rm = guard.rmClient({ url: cem.url, details: rmDetailsInput(), reconnect: false });
    const peer = await cem.accept();
    peer.ack(await peer.message('Handshake'));
    peer.send(handshake('CEM'));
    peer.send({ message_type: 'HandshakeResponse', message_id: newId(), selected_protocol_version: '0.0.2-beta' });
    const details = await peer.message('ResourceManagerDetails');
    peer.ack(details, 'PERMANENT_ERROR');
    expect(await peer.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    await waitFor(() => rm.session === undefined, 2_000, 'RM session gone');
    expect(await rm.all[0]?.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    await rm.stop();
    await cem.close();
  });
});

describe('application handlers', () => {
  it('[R15, R19] a handler that throws: TEMPORARY_ERROR answered (the fault is ours), the error raised locally, and the session goes on', async () => {
    let failing = true;
    const errors: Array<SessionEvents['error']> = [];
    const logged: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (_obj: object, msg?: string) => void logged.push(String(msg)) };
    const { server, peer, session } = await activeCem(guard, {
      logger,
      onSession: (s) => s.on('error', (e) => errors.push(e)),
      onMessage: (m) => {
        if (m.message_type === 'PowerMeasurement' && failing) throw new Error('meter exploded');
      },
    });
    const id = peer.send(powerMeasurement()) as string;
    const status = await peer.statusFor(id);
    expect(status.status).toBe('TEMPORARY_ERROR');
    // Our exception text stays on our side: the peer only learns that we could not process it.
    expect(String(status.diagnostic_label)).not.toContain('meter exploded');
    expect(errors).toEqual([
      { source: 'handler for PowerMeasurement', error: expect.objectContaining({ message: 'meter exploded' }) as unknown },
    ]);
    expect(logged).toEqual(['handler for PowerMeasurement failed']);
    failing = false;
    const again = peer.send(powerMeasurement()) as string; // R19: the RM may send again (new message_id, Q5)
    expect(await peer.statusFor(again)).toMatchObject({ status: 'OK' });
    expect(session.state).toBe('connected.active.FRBC');
    expect(session.isClosed).toBe(false);
    expect(peer.statusesFor(id)).toHaveLength(1);
    await server.close();
  });

  it('[R15, R19] an async handler that rejects: TEMPORARY_ERROR answered and the session goes on', async () => {
    const errors: Array<SessionEvents['error']> = [];
    const { server, peer, session } = await activeCem(guard, {
      logger: false,
      onSession: (s) => s.on('error', (e) => errors.push(e)),
      onMessage: async (m) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (m.message_type === 'PowerMeasurement') throw new Error('meter unreadable');
        return 'OK' as const;
      },
    });
    const id = peer.send(powerMeasurement()) as string;
    expect(await peer.statusFor(id)).toMatchObject({ status: 'TEMPORARY_ERROR' });
    expect(errors.map((e) => e.error.message)).toEqual(['meter unreadable']);
    expect(session.state).toBe('connected.active.FRBC');
    expect(peer.statusesFor(id)).toHaveLength(1);
    await server.close();
  });

  it('[R15, R18] a handler returning PERMANENT_ERROR: that status is answered, then the CEM closes with 4002', async () => {
    const { server, peer, session } = await activeCem(guard, {
      logger: false,
      onMessage: (m) => (m.message_type === 'PowerMeasurement' ? 'PERMANENT_ERROR' : undefined),
    });
    const id = peer.send(powerMeasurement()) as string;
    expect(await peer.statusFor(id)).toMatchObject({ status: 'PERMANENT_ERROR' });
    expect(await session.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    expect(await peer.closed).toMatchObject({ code: CloseCode.PERMANENT_ERROR });
    expect(peer.statusesFor(id)).toHaveLength(1);
    await server.close();
  });

  it('[R15, R19] a handler returning TEMPORARY_ERROR: that status is answered and the session goes on', async () => {
    let first = true;
    const { server, peer, session } = await activeCem(guard, {
      onMessage: (m) => {
        if (m.message_type !== 'PowerMeasurement') return 'OK';
        const status = first ? 'TEMPORARY_ERROR' : 'OK';
        first = false;
        return status;
      },
    });
    const a = peer.send(powerMeasurement()) as string;
    expect(await peer.statusFor(a)).toMatchObject({ status: 'TEMPORARY_ERROR' });
    const b = peer.send(powerMeasurement()) as string; // resent with a new message_id (Q5)
    expect(await peer.statusFor(b)).toMatchObject({ status: 'OK' });
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });
});
