/**
 * A flooding peer over real WebSockets on 127.0.0.1 (issue 15 item 5): it is closed with 4003
 * BUDGET_EXCEEDED once it has sent more than its receive budget, the close is logged like the
 * transport's other limit closes, and the other sessions of the same CEM keep working. The RM
 * protects itself from a flooding CEM the same way. The budgets' clock is frozen (`now: () => 0`):
 * nothing refills, so the outcome does not depend on how fast the machine sends.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { Logger } from '../../src/roles/logger.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../src/transport/transport.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { handshake, newId, powerMeasurement, rmDetailsInput, type Wire } from '../support/e2e-messages.js';
import { rawRmHandshake, type RawPeer } from '../support/raw-ws-peer.js';

const guard = e2eGuard();
const frozen = { now: () => 0 };

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { warnings: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (fields: Record<string, unknown>) => void warnings.push(fields),
    error: () => undefined,
  };
}

/** A frame of exactly `size` characters: a PowerMeasurement with a long string member. */
function bigFrame(size: number): string {
  const head = `{"message_type":"PowerMeasurement","message_id":"${newId()}","measurement_timestamp":"2025-01-01T00:00:00Z","values":[],"padding":"`;
  return `${head}${'p'.repeat(size - head.length - 2)}"}`;
}

/** A measurement answered OK: the peer's session still works. */
async function measures(peer: RawPeer): Promise<Wire> {
  return peer.statusFor(peer.send(powerMeasurement()) as string, 5_000);
}

describe('receive budgets against a flooding peer', () => {
  it('a peer sending maximum-size frames is closed with 4003 at the first frame beyond its byte budget; the other sessions go on', async () => {
    const logger = recordingLogger();
    const server = await guard.cemServer({ receiveBudget: frozen, logger });
    const good = await Promise.all([guard.peer(server.url), guard.peer(server.url), guard.peer(server.url)]);
    for (const peer of good) await rawRmHandshake(peer);
    const flooder = await guard.peer(server.url);
    await rawRmHandshake(flooder);
    const flooderSession = server.all[3];
    if (flooderSession === undefined) throw new Error('no session for the flooder');

    // A new connection has 1 MiB at once: a large frame (a big description) is fine …
    flooder.sendRaw(bigFrame(900 * 1024));
    expect(await flooder.next((m) => m.status === 'INVALID_MESSAGE', 'the big frame answered', 5_000)).toBeDefined(); // its size ceiling
    // … but the first maximum-size frame is beyond the budget: closed before it is parsed.
    const frame = bigFrame(DEFAULT_MAX_FRAME_BYTES);
    for (let i = 0; i < 3; i++) flooder.sendRaw(frame);
    const closed = await flooder.closed;
    expect(closed.code).toBe(CloseCode.BUDGET_EXCEEDED);
    expect(closed.reason).toMatch(/^byte budget exceeded: 4194304-byte frame, \d+ left \(1048576 B\/s, burst 5242880\)$/);
    expect(await flooderSession.closed).toEqual(closed);
    expect(flooder.all('ReceptionStatus').filter((m) => m.status === 'INVALID_MESSAGE')).toHaveLength(1);
    // Logged like the other limit closes: a transport error naming the peer and the numbers.
    const warning = logger.warnings.find((w) => w.kind === 'transport-error');
    expect(warning?.err).toMatchObject({ code: 'BUDGET_EXCEEDED', closeCode: 4003 });
    expect(String((warning?.err as Error).message)).toMatch(
      /a 4194304-byte frame with \d+ bytes left in the budget of 1048576 bytes per second/,
    );

    for (const peer of good) expect(await measures(peer)).toMatchObject({ status: 'OK' });
    expect(server.sessions.size).toBe(3);
    for (const peer of good) await peer.close();
    await server.close();
  });

  it('a peer sending more messages than the burst allows is closed with 4003 before the first one beyond it is handled', async () => {
    const server = await guard.cemServer({ receiveBudget: frozen, logger: recordingLogger() });
    const good = await guard.peer(server.url);
    await rawRmHandshake(good);
    const flooder = await guard.peer(server.url);
    await rawRmHandshake(flooder);
    const before = flooder.outbox.length; // the handshake's messages count against the burst of 1,000
    const ids: string[] = [];
    for (let i = 0; i < 1_100; i++) ids.push(flooder.send(powerMeasurement()) as string);
    const closed = await flooder.closed;
    expect(closed).toEqual({ code: CloseCode.BUDGET_EXCEEDED, reason: 'message budget exceeded: 200/s, burst 1000' });
    // Exactly the burst was handled: the measurements within it were answered, none after it.
    const answered = new Set(flooder.all('ReceptionStatus').map((m) => m.subject_message_id));
    expect(ids.filter((id) => answered.has(id))).toEqual(ids.slice(0, 1_000 - before));
    expect(await measures(good)).toMatchObject({ status: 'OK' });
    await good.close();
    await server.close();
  });

  it('the RM client protects itself from a flooding CEM the same way (4003), configured like maxFrameBytes', async () => {
    const cem = await guard.rawServer();
    const rm = guard.rmClient({
      url: cem.url,
      details: rmDetailsInput(),
      reconnect: false,
      receiveBudget: { ...frozen, burstMessages: 50 },
      logger: recordingLogger(),
    });
    const peer = await cem.accept();
    await peer.message('Handshake');
    for (let i = 0; i < 60; i++) peer.send(handshake('CEM'));
    expect(await peer.closed).toEqual({ code: CloseCode.BUDGET_EXCEEDED, reason: 'message budget exceeded: 200/s, burst 50' });
    await rm.stop();
    await cem.close();
  });

  it('without budgets (receiveBudget: false) the same message flood is handled in full', async () => {
    const server = await guard.cemServer({ receiveBudget: false });
    const flooder = await guard.peer(server.url);
    await rawRmHandshake(flooder);
    const ids: string[] = [];
    for (let i = 0; i < 1_100; i++) ids.push(flooder.send(powerMeasurement()) as string);
    await flooder.statusFor(ids[ids.length - 1] as string, 10_000);
    expect(flooder.isOpen).toBe(true);
    await flooder.close();
    await server.close();
  });
});

describe('size ceilings in a session', () => {
  it('[R12][R13] a 1 MiB FRBC.ActuatorStatus is refused INVALID_MESSAGE naming type, size and ceiling; the session goes on', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer);
    const id = newId();
    const head = `{"message_type":"FRBC.ActuatorStatus","message_id":"${id}","actuator_id":"${newId()}","active_operation_mode_id":"${newId()}","operation_mode_factor":0.5,"padding":"`;
    peer.sendRaw(`${head}${'a'.repeat(1024 * 1024 - head.length - 2)}"}`);
    const status = await peer.statusFor(id, 5_000);
    expect(status).toMatchObject({ status: 'INVALID_MESSAGE' });
    expect(status.diagnostic_label).toMatch(
      /^INVALID_MESSAGE: \$ FRBC\.ActuatorStatus frame of 1048576 characters is above the size ceiling of \d+/,
    );
    expect(peer.statusesFor(id)).toHaveLength(1);
    expect(await measures(peer)).toMatchObject({ status: 'OK' });
    expect(peer.isOpen).toBe(true);
    await peer.close();
    await server.close();
  });
});
