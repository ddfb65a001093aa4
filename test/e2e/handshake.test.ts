/**
 * End-to-end handshakes over real WebSockets on 127.0.0.1: the CEM server and the RM client
 * against a raw peer that is scripted frame by frame, so the order in which the two Handshakes
 * cross is the test's choice (docs/rules.md#R23).
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { S2Session } from '../../src/roles/session.js';
import { S2_VERSIONS } from '../../src/typebox/versions.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import {
  handshake,
  handshakeResponse,
  rmDetails,
  rmDetailsInput,
  S2_VERSION,
  selectControlType,
  type Wire,
} from '../support/e2e-messages.js';

const guard = e2eGuard();

/** Every ReceptionStatus in `inbox` answering `id`. */
const statuses = (inbox: Wire[], id: string) => inbox.filter((m) => m.message_type === 'ReceptionStatus' && m.subject_message_id === id);

describe('CEM server against a scripted RM', () => {
  it('[R22, R23, R26] CEM Handshake first: the RM answers it, then sends its own; one HandshakeResponse follows', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    // R22/R23: the CEM sends its Handshake on open, without waiting for the RM's.
    const cemHandshake = await peer.message('Handshake');
    expect(peer.inbox[0]).toBe(cemHandshake);
    // A CEM speaks both S2 JSON versions, newest first; the RM below offers 0.0.2-beta only and gets it.
    expect(cemHandshake).toMatchObject({ role: 'CEM', supported_protocol_versions: [...S2_VERSIONS] });
    peer.ack(cemHandshake);
    const session = await server.session();
    expect(session.state).toBe('handshake');
    // R26: nothing but the CEM's Handshake until the RM's Handshake arrived.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(peer.all('HandshakeResponse')).toEqual([]);

    const rmHandshakeId = peer.send(handshake('RM')) as string;
    expect(await peer.statusFor(rmHandshakeId)).toMatchObject({ status: 'OK' });
    const response = await peer.message('HandshakeResponse');
    expect(response.selected_protocol_version).toBe(S2_VERSION);
    peer.ack(response);
    const detailsId = peer.send(rmDetails()) as string;
    expect(await peer.statusFor(detailsId)).toMatchObject({ status: 'OK' });
    const select = await peer.message('SelectControlType');
    expect(select.control_type).toBe('FILL_RATE_BASED_CONTROL');
    peer.ack(select);
    await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'CEM active.FRBC');
    expect(session.version).toBe(S2_VERSION);
    expect(peer.all('HandshakeResponse')).toHaveLength(1);
    expect(peer.all('Handshake')).toHaveLength(1);

    await server.close();
    expect(await peer.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(await session.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
  });

  it('[R22, R23, R26] RM Handshake first: sent before the RM read anything and before it acknowledged the CEM Handshake', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    // Sent straight after open, like the Python RM: the two Handshakes cross on the wire.
    const rmHandshakeId = peer.send(handshake('RM')) as string;
    const session = await server.session();
    expect(await peer.statusFor(rmHandshakeId)).toMatchObject({ status: 'OK' });
    const response = await peer.message('HandshakeResponse');
    // The CEM did not wait for the RS of its own Handshake (R23) and still sent its Handshake first (R22).
    expect(peer.inbox[0]?.message_type).toBe('Handshake');
    expect(response.selected_protocol_version).toBe(S2_VERSION);
    await waitFor(() => session.state === 'connected.awaitingDetails', 2_000, 'CEM connected');
    // Only now the RM acknowledges the CEM's Handshake and the HandshakeResponse.
    peer.ack(peer.all('Handshake')[0] as Wire);
    peer.ack(response);
    const detailsId = peer.send(rmDetails()) as string;
    await peer.statusFor(detailsId);
    peer.ack(await peer.message('SelectControlType'));
    await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'CEM active.FRBC');
    expect(peer.all('HandshakeResponse')).toHaveLength(1);
    await waitFor(() => session.pendingCount === 0, 2_000, 'all CEM messages answered');

    await session.close();
    expect(await peer.closed).toMatchObject({ code: CloseCode.NORMAL });
    await server.close();
  });

  it('[R27, R29, Q3] an RM offering only "9.9.9": INVALID_CONTENT for its Handshake, SessionRequest TERMINATE, close 4001', async () => {
    const server = await guard.cemServer({ closeGraceMs: 100 });
    const peer = await guard.peer(server.url);
    const id = peer.send(handshake('RM', ['9.9.9'])) as string;
    const status = await peer.statusFor(id);
    expect(status).toMatchObject({ status: 'INVALID_CONTENT' });
    expect(String(status.diagnostic_label)).toContain('9.9.9');
    const request = await peer.message('SessionRequest');
    expect(request.request).toBe('TERMINATE');
    peer.ack(request);
    // The RM does not close: the CEM closes after its grace period, with 4001.
    expect(await peer.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
    const session = await server.session();
    expect(await session.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
    expect(peer.all('HandshakeResponse')).toEqual([]);
    expect(statuses(peer.inbox, id)).toHaveLength(1);
    await server.close();
  });

  it('[R27, R29, Q3] an RM that closes itself after the TERMINATE: the session still ends with 4001', async () => {
    const server = await guard.cemServer({ closeGraceMs: 5_000 });
    const peer = await guard.peer(server.url);
    peer.send(handshake('RM', ['9.9.9', '1.0']));
    const request = await peer.message('SessionRequest');
    peer.ack(request);
    await peer.close(CloseCode.NORMAL, 'bye');
    const session = await server.session();
    expect(await session.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
    await server.close();
  });
});

describe('RM client against a scripted CEM', () => {
  async function setup() {
    const cem = await guard.rawServer();
    const rm = guard.rmClient({ url: cem.url, details: rmDetailsInput(), reconnect: false });
    const peer = await cem.accept();
    const session = await waitForSession(rm.all);
    return { cem, rm, peer, session };
  }

  async function waitForSession(all: S2Session[]): Promise<S2Session> {
    await waitFor(() => all.length > 0, 2_000, 'RM session');
    return all[0] as S2Session;
  }

  it('[R22, R23] CEM Handshake first: the RM answers it and announces its details after the HandshakeResponse', async () => {
    const { cem, rm, peer, session } = await setup();
    const cemHandshakeId = peer.send(handshake('CEM')) as string;
    // R22: the RM's first message is its own Handshake (sent on open, R23).
    const rmHandshake = await peer.message('Handshake');
    expect(peer.inbox[0]).toBe(rmHandshake);
    expect(rmHandshake).toMatchObject({ role: 'RM', supported_protocol_versions: [S2_VERSION] });
    expect(await peer.statusFor(cemHandshakeId)).toMatchObject({ status: 'OK' });
    peer.ack(rmHandshake);
    // R28: no details before the HandshakeResponse.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(peer.all('ResourceManagerDetails')).toEqual([]);
    const responseId = peer.send(handshakeResponse()) as string;
    expect(await peer.statusFor(responseId)).toMatchObject({ status: 'OK' });
    const details = await peer.message('ResourceManagerDetails');
    peer.ack(details);
    const selectId = peer.send(selectControlType('FILL_RATE_BASED_CONTROL')) as string;
    expect(await peer.statusFor(selectId)).toMatchObject({ status: 'OK' });
    await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'RM active.FRBC');
    expect(session.version).toBe(S2_VERSION);

    await rm.stop();
    expect(await peer.closed).toMatchObject({ code: CloseCode.NORMAL });
    await cem.close();
  });

  it('[R22, R23, R26] RM Handshake first: the CEM sends its Handshake only after it has the RM one', async () => {
    const { cem, rm, peer, session } = await setup();
    const rmHandshake = await peer.message('Handshake');
    peer.ack(rmHandshake);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(session.state).toBe('handshake');
    const cemHandshakeId = peer.send(handshake('CEM')) as string;
    const responseId = peer.send(handshakeResponse()) as string;
    expect(await peer.statusFor(cemHandshakeId)).toMatchObject({ status: 'OK' });
    expect(await peer.statusFor(responseId)).toMatchObject({ status: 'OK' });
    peer.ack(await peer.message('ResourceManagerDetails'));
    await waitFor(() => session.state === 'connected.awaitingSelection', 2_000, 'RM connected');
    await waitFor(() => session.pendingCount === 0, 2_000, 'RM messages answered');

    await rm.stop();
    await cem.close();
  });

  it('[R27, Q3] a HandshakeResponse naming a version the RM never offered: INVALID_CONTENT and close 4001', async () => {
    const { cem, rm, peer, session } = await setup();
    peer.ack(await peer.message('Handshake'));
    peer.send(handshake('CEM'));
    const responseId = peer.send(handshakeResponse('9.9.9')) as string;
    expect(await peer.statusFor(responseId)).toMatchObject({ status: 'INVALID_CONTENT' });
    expect(await peer.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
    expect(await session.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
    expect(peer.all('ResourceManagerDetails')).toEqual([]);
    expect(rm.session).toBeUndefined();
    await rm.stop();
    await cem.close();
  });
});
