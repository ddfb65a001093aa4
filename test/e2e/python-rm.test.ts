/**
 * Interoperability with the reference Python RM (s2-python), reproduced frame for frame by
 * {@link PyLikeRm}: it sends its Handshake at once, blocks until that is acknowledged, and
 * blocks its inbound queue whenever it awaits a ReceptionStatus (5 s, then it gives up for good).
 * The CEM server must complete a session with it without ever making it wait.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { SessionEvents } from '../../src/roles/session.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { frbcInstruction } from '../support/e2e-messages.js';
import { recordTraffic } from '../support/e2e-session.js';
import { PyLikeRm } from '../support/py-like-rm.js';

const guard = e2eGuard();

describe('the CEM server and a Python-like RM', () => {
  it('[R14, R23, Q2, Q4] complete a session: CEM in active.FRBC, one OK ReceptionStatus per RM message, no RM timeout', async () => {
    const reports: Array<SessionEvents['report']> = [];
    const traffic: Array<ReturnType<typeof recordTraffic>> = [];
    const server = await guard.cemServer({
      onSession: (s) => {
        traffic.push(recordTraffic(s));
        s.on('report', (r) => reports.push(r));
      },
    });
    const py = await PyLikeRm.connect({ url: server.url });
    guard.defer(() => py.close());
    const cem = await server.session();

    await waitFor(
      () => py.activated === 'FILL_RATE_BASED_CONTROL' || py.timedOut !== undefined || py.failure !== undefined,
      8_000,
      'PY activation',
    );
    expect(py.timedOut).toBeUndefined();
    expect(py.failure).toBeUndefined();
    await waitFor(() => cem.state === 'connected.active.FRBC', 2_000, 'CEM active.FRBC');

    // Every message PY sent got exactly one ReceptionStatus, and it was OK (Q4: the Handshake too).
    const sent = py.sentMessages;
    expect(sent.map((m) => m.message_type)).toEqual([
      'Handshake',
      'ResourceManagerDetails',
      'FRBC.SystemDescription',
      'FRBC.StorageStatus',
      'FRBC.ActuatorStatus',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // room for a (wrong) second answer
    for (const m of sent) {
      const statuses = py.statusesFor(String(m.message_id));
      expect(statuses, String(m.message_type)).toHaveLength(1);
      expect(statuses[0], String(m.message_type)).toMatchObject({ status: 'OK' });
    }
    // PY sent nothing but its Handshake before the CEM acknowledged it (Q2, step 1).
    const handshakeId = sent[0]?.message_id;
    const handshakeAt = py.log.findIndex((e) => e.dir === 'out' && e.message.message_id === handshakeId);
    const ackAt = py.log.findIndex((e) => e.dir === 'in' && e.message.subject_message_id === handshakeId);
    const nextOut = py.log.findIndex((e, i) => i > handshakeAt && e.dir === 'out');
    expect(ackAt).toBeGreaterThan(handshakeAt);
    expect(nextOut).toBeGreaterThan(ackAt);
    // The CEM sent its own Handshake without waiting for PY's (R23), and PY answered everything it sent.
    expect(traffic[0]?.sent[0]).toMatchObject({ message_type: 'Handshake', role: 'CEM' });
    expect(py.unhandled).toEqual([]);
    await waitFor(() => cem.pendingCount === 0, 2_000, 'every CEM message answered by PY');
    expect(reports).toEqual([]);
    expect(cem.controlType).toBe('FILL_RATE_BASED_CONTROL');

    await server.close();
    expect(await py.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(py.timedOut).toBeUndefined();
  });

  it('[R11, R21, Q5] a CEM message PY has no handler for gets no answer: send() times out and the session goes on', async () => {
    const server = await guard.cemServer({ receptionTimeoutMs: 150 });
    const py = await PyLikeRm.connect({ url: server.url });
    guard.defer(() => py.close());
    const cem = await server.session();
    await waitFor(() => py.activated === 'FILL_RATE_BASED_CONTROL', 5_000, 'PY activation');
    await waitFor(() => cem.state === 'connected.active.FRBC' && cem.pendingCount === 0, 2_000, 'CEM active.FRBC');

    // s2-python registers no handler for a plain FRBC.Instruction in this RM: dropped, no RS.
    const result = await cem.send(frbcInstruction() as never);
    expect(result.status).toBe('TIMEOUT');
    expect(py.unhandled.map((m) => m.message_type)).toEqual(['FRBC.Instruction']);
    expect(cem.state).toBe('connected.active.FRBC');
    expect(cem.isClosed).toBe(false);
    expect(py.timedOut).toBeUndefined();

    await server.close();
    await py.closed;
  });
});
