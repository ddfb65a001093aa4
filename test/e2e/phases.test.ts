/**
 * Messages a phase does not allow, end to end (docs/rules.md#phases, Q6): each is answered
 * INVALID_CONTENT with its own id, and the receiving session's state does not change (R16).
 */
import { describe, expect, it } from 'vitest';
import type { S2Session } from '../../src/roles/session.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import {
  fixture,
  frbcActivationMessages,
  frbcInstruction,
  handshake,
  handshakeResponse,
  instructionStatusUpdate,
  powerMeasurement,
  rmDetails,
  rmDetailsInput,
  selectControlType,
  type Wire,
} from '../support/e2e-messages.js';
import { activeCem } from '../support/e2e-session.js';
import type { RawPeer } from '../support/raw-ws-peer.js';

const guard = e2eGuard();

/** What must not change when a message is refused (R16). */
function snapshot(session: S2Session) {
  return {
    state: session.state,
    controlType: session.controlType,
    version: session.version,
    details: session.rmDetails,
    pending: session.pendingCount,
  };
}

/** Sends each message and expects INVALID_CONTENT for it (with its own id) and an unchanged session. */
async function expectRefused(peer: RawPeer, session: S2Session, messages: Wire[]): Promise<void> {
  const before = snapshot(session);
  for (const m of messages) {
    const id = peer.send(m) as string;
    const status = await peer.statusFor(id);
    expect(status, String(m.message_type)).toMatchObject({ status: 'INVALID_CONTENT', subject_message_id: id });
    expect(snapshot(session), `after ${String(m.message_type)}`).toEqual(before);
  }
  // Exactly one answer each, even a moment later (R12).
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const m of messages) expect(peer.statusesFor(String(m.message_id))).toHaveLength(1);
}

describe('CEM server', () => {
  it('[R28, R16, Q6] FRBC.SystemDescription, PowerMeasurement, details and a SelectControlType during the handshake → INVALID_CONTENT, still in handshake', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    const session = await server.session();
    peer.ack(await peer.message('Handshake'));
    await waitFor(() => session.pendingCount === 0, 2_000, 'CEM Handshake answered');
    await expectRefused(peer, session, [
      frbcActivationMessages()[0],
      powerMeasurement(),
      rmDetails(),
      selectControlType('FILL_RATE_BASED_CONTROL'),
    ]);
    expect(session.state).toBe('handshake');
    expect(session.rmDetails).toBeUndefined();
    // The handshake still completes afterwards.
    peer.send(handshake('RM'));
    peer.ack(await peer.message('HandshakeResponse'));
    await waitFor(() => session.state === 'connected.awaitingDetails', 2_000, 'connected');
    await server.close();
  });

  it('[R30, R16] a second Handshake after the handshake → INVALID_CONTENT, no second HandshakeResponse', async () => {
    const { server, peer, session } = await activeCem(guard);
    await expectRefused(peer, session, [handshake('RM'), handshake('RM', ['9.9.9']), handshake('CEM')]);
    expect(peer.all('HandshakeResponse')).toHaveLength(1);
    expect(session.isClosed).toBe(false);
    await server.close();
  });

  it('[R16, R26, R34, Q6] messages only the CEM sends (HandshakeResponse, SelectControlType, FRBC.Instruction) from the RM → INVALID_CONTENT', async () => {
    const { server, peer, session } = await activeCem(guard);
    await expectRefused(peer, session, [handshakeResponse(), selectControlType('NO_SELECTION'), frbcInstruction()]);
    expect(session.state).toBe('connected.active.FRBC');
    await server.close();
  });

  it('[R37, R16, Q6] FRBC messages while OMBC is active → INVALID_CONTENT, OMBC stays active', async () => {
    const { server, peer, session } = await activeCem(guard, {}, ['OPERATION_MODE_BASED_CONTROL']);
    expect(session.controlType).toBe('OPERATION_MODE_BASED_CONTROL');
    await expectRefused(peer, session, [...frbcActivationMessages(), fixture('FRBC.UsageForecast')]);
    expect(session.state).toBe('connected.active.OMBC');
    // The session still accepts what it should.
    const ok = peer.send(powerMeasurement()) as string;
    expect(await peer.statusFor(ok)).toMatchObject({ status: 'OK' });
    await server.close();
  });

  it('[R37, R38, Q6] InstructionStatusUpdate and RevokeObject with no control type active → INVALID_CONTENT; measurements still OK', async () => {
    const { server, peer, session } = await activeCem(guard, {}, ['NOT_CONTROLABLE']);
    expect(session.controlType).toBe('NOT_CONTROLABLE');
    const revoke: Wire = {
      message_type: 'RevokeObject',
      message_id: crypto.randomUUID(),
      object_type: 'FRBC.Instruction',
      object_id: crypto.randomUUID(),
    };
    await expectRefused(peer, session, [instructionStatusUpdate(), revoke, frbcActivationMessages()[1]]);
    expect(session.state).toBe('connected.noControlType');
    const ok = peer.send(powerMeasurement()) as string;
    expect(await peer.statusFor(ok)).toMatchObject({ status: 'OK' });
    await server.close();
  });

  it('[R37, R16] InstructionStatusUpdate before any selection (policy keeps NO_SELECTION) → INVALID_CONTENT', async () => {
    const server = await guard.cemServer({ policy: () => undefined });
    const peer = await guard.peer(server.url);
    const session = await server.session();
    peer.ack(await peer.message('Handshake'));
    peer.send(handshake('RM'));
    peer.ack(await peer.message('HandshakeResponse'));
    const details = peer.send(rmDetails()) as string;
    await peer.statusFor(details);
    await waitFor(() => session.rmDetails !== undefined && session.pendingCount === 0, 2_000, 'details stored');
    expect(session.state).toBe('connected.awaitingDetails');
    await expectRefused(peer, session, [instructionStatusUpdate()]);
    expect(peer.all('SelectControlType')).toEqual([]);
    await server.close();
  });
});

describe('RM client', () => {
  async function connectedRm(offer?: Parameters<typeof rmDetailsInput>[0]) {
    const cem = await guard.rawServer();
    const rm = guard.rmClient({ url: cem.url, details: rmDetailsInput(offer), reconnect: false });
    const peer = await cem.accept();
    peer.ack(await peer.message('Handshake'));
    peer.send(handshake('CEM'));
    peer.send(handshakeResponse());
    peer.ack(await peer.message('ResourceManagerDetails'));
    await waitFor(() => rm.all[0]?.state === 'connected.awaitingSelection', 2_000, 'RM connected');
    const session = rm.all[0] as S2Session;
    await waitFor(() => session.pendingCount === 0, 2_000, 'RM messages answered');
    return { cem, rm, peer, session };
  }

  it('[R16, Q6] ResourceManagerDetails, PowerMeasurement and InstructionStatusUpdate sent by the CEM to the RM → INVALID_CONTENT, the RM keeps its own details', async () => {
    const { cem, rm, peer, session } = await connectedRm();
    const own = session.rmDetails;
    await expectRefused(peer, session, [rmDetails(['OPERATION_MODE_BASED_CONTROL']), powerMeasurement(), instructionStatusUpdate()]);
    expect(session.rmDetails).toBe(own);
    await rm.stop();
    await cem.close();
  });

  it('[R30, R16] a second Handshake after the handshake → INVALID_CONTENT', async () => {
    const { cem, rm, peer, session } = await connectedRm();
    await expectRefused(peer, session, [handshake('CEM'), handshakeResponse()]);
    expect(peer.all('ResourceManagerDetails')).toHaveLength(1);
    await rm.stop();
    await cem.close();
  });

  it('[R35, R16] SelectControlType of a type not offered → INVALID_CONTENT on the RM side, state unchanged; an offered one then works', async () => {
    const { cem, rm, peer, session } = await connectedRm(['FILL_RATE_BASED_CONTROL', 'NOT_CONTROLABLE']);
    await expectRefused(peer, session, [
      selectControlType('OPERATION_MODE_BASED_CONTROL'),
      selectControlType('DEMAND_DRIVEN_BASED_CONTROL'),
      frbcInstruction(), // FRBC is not active yet (R37)
    ]);
    expect(session.controlType).toBe('NO_SELECTION');
    const ok = peer.send(selectControlType('FILL_RATE_BASED_CONTROL')) as string;
    expect(await peer.statusFor(ok)).toMatchObject({ status: 'OK' });
    await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'RM active.FRBC');
    // Now not offered again while FRBC is active: refused, FRBC stays.
    await expectRefused(peer, session, [selectControlType('POWER_PROFILE_BASED_CONTROL')]);
    expect(session.state).toBe('connected.active.FRBC');
    // R39: once the RM described its flexibility, an instruction for it is accepted.
    peer.autoAck = 'OK';
    for (const m of frbcActivationMessages()) expect((await session.send(m as never)).status).toBe('OK');
    const instr = peer.send(frbcInstruction()) as string;
    expect(await peer.statusFor(instr)).toMatchObject({ status: 'OK' });
    await rm.stop();
    await cem.close();
  });
});
