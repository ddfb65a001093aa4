/**
 * S2 JSON 0.0.2-beta and 1.0.0-beta side by side, over real WebSockets on 127.0.0.1: the CEM offers
 * both and selects by its own preference among the versions the RM offers (R25, R27); each session
 * then speaks the version it selected. Version strings are compared exactly: "0.0.2", "v1" or a
 * semver range name no version, so they end the session with 4001 (R29, Q3), never a crash.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import { createCemServer } from '../../src/roles/cem-server.js';
import { createRmClient } from '../../src/roles/rm-client.js';
import type { S2Session } from '../../src/roles/session.js';
import { createCemPolicy, createHeatBuffer, type PolicyEvent } from '../../src/sim/index.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { S2Message } from '../../src/typebox/registry.js';
import { S2_VERSIONS, type S2Version } from '../../src/typebox/versions.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { handshake, handshakeResponse, rmDetailsInput } from '../support/e2e-messages.js';
import { PyLikeRm } from '../support/py-like-rm.js';
import { rawRmHandshake } from '../support/raw-ws-peer.js';

const guard = e2eGuard();

/** Everything a session received that decoded, and every refusal either way. */
function watch(session: S2Session) {
  const received: S2Message[] = [];
  const refused: string[] = [];
  session.on('received', ({ message }) => void (message && received.push(message)));
  session.on('refused', ({ message, status, reason }) => refused.push(`${message?.message_type ?? '?'}: ${status} ${reason}`));
  session.on('received', ({ message }) => {
    if (message?.message_type === 'ReceptionStatus' && message.status !== 'OK')
      refused.push(`peer answered ${message.status}: ${message.diagnostic_label ?? ''}`);
  });
  return { received, refused };
}

describe('one CEM, RMs of either version', () => {
  it('[R25, R27, R112] an RM offering only 0.0.2-beta, one only 1.0.0-beta and one both: each session gets its version and runs DDBC to SUCCEEDED', async () => {
    const events: PolicyEvent[] = [];
    const policy = createCemPolicy({ onEvent: (e) => events.push(e) });
    const watched = new Map<S2Session, ReturnType<typeof watch>>();
    const server = await guard.cemServer({ controlTypes: policy.handlers, onSession: (s) => watched.set(s, watch(s)) });
    const offers: ReadonlyArray<readonly S2Version[]> = [['0.0.2-beta'], ['1.0.0-beta'], ['1.0.0-beta', '0.0.2-beta']];
    const clients = offers.map((versions) => {
      const device = createHeatBuffer({ tickMs: 20, speed: 1000 });
      return guard.rmClient({
        url: server.url,
        details: device.details,
        controlTypes: { DDBC: device.handler },
        versions,
        reconnect: false,
        logger: false,
      });
    });
    const rms = await Promise.all(clients.map((c) => c.nextSession()));
    // The CEM prefers the newest version it shares with each RM.
    expect(rms.map((s) => s.version)).toEqual(['0.0.2-beta', '1.0.0-beta', '1.0.0-beta']);
    await waitFor(() => server.all.length === 3 && server.all.every((s) => s.version !== undefined), 2_000, 'three CEM sessions');
    const byRm = (rm: S2Session) => server.all.find((s) => s.rmDetails?.resource_id === rm.rmDetails?.resource_id)!;
    await waitFor(() => rms.every((rm) => byRm(rm)?.state === 'connected.active.DDBC'), 3_000, 'DDBC active in every CEM session');
    await waitFor(
      () => events.filter((e) => e.kind === 'final' && e.status === 'SUCCEEDED').length >= 3,
      5_000,
      'three instructions SUCCEEDED',
    );

    for (const [i, rm] of rms.entries()) {
      const cem = byRm(rm);
      expect(cem.version, `RM #${i}`).toBe(rm.version);
      const { received, refused } = watched.get(cem)!;
      const description = received.find((m) => m.message_type === 'DDBC.SystemDescription')!;
      const demandStatuses = received.filter((m) => m.message_type === 'DDBC.PresentDemandStatus');
      if (rm.version === '1.0.0-beta') {
        expect('present_demand_rate' in description, `RM #${i}`).toBe(false);
        expect(demandStatuses, `RM #${i}`).toHaveLength(1);
      } else {
        expect('present_demand_rate' in description, `RM #${i}`).toBe(true);
        expect(demandStatuses, `RM #${i}`).toEqual([]);
      }
      expect(refused, `RM #${i}`).toEqual([]);
    }
    for (const c of clients) await c.stop();
    await server.close();
  });

  it("[R27] the CEM's preference order decides, not the RM's: a CEM preferring 0.0.2-beta selects it from an RM offering both", async () => {
    const server = await guard.cemServer({ versions: ['0.0.2-beta', '1.0.0-beta'] });
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer, { versions: ['1.0.0-beta', '0.0.2-beta'] });
    expect(peer.all('Handshake')[0]?.supported_protocol_versions).toEqual(['0.0.2-beta', '1.0.0-beta']);
    expect(peer.all('HandshakeResponse')[0]?.selected_protocol_version).toBe('0.0.2-beta');
    expect((await server.session()).version).toBe('0.0.2-beta');
    await server.close();
    await peer.closed;
  });

  it('[R27] a default CEM offers both, newest first, and picks 1.0.0-beta even when the RM lists 0.0.2-beta first', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer, { versions: ['0.0.2-beta', '1.0.0-beta'] });
    expect(peer.all('Handshake')[0]?.supported_protocol_versions).toEqual([...S2_VERSIONS]);
    expect(peer.all('HandshakeResponse')[0]?.selected_protocol_version).toBe('1.0.0-beta');
    expect((await server.session()).version).toBe('1.0.0-beta');
    await server.close();
    await peer.closed;
  });

  it('[R25, R27, Q2] the Python-like RM (0.0.2-beta only) still gets 0.0.2-beta from a CEM that prefers 1.0.0-beta', async () => {
    const server = await guard.cemServer();
    const py = await PyLikeRm.connect({ url: server.url });
    guard.defer(() => py.close());
    const cem = await server.session();
    await waitFor(() => py.activated !== undefined || py.timedOut !== undefined || py.failure !== undefined, 8_000, 'PY activation');
    expect(py.failure).toBeUndefined();
    expect(py.timedOut).toBeUndefined();
    expect(py.log.find((e) => e.message.message_type === 'HandshakeResponse')?.message.selected_protocol_version).toBe('0.0.2-beta');
    expect(cem.version).toBe('0.0.2-beta');
    await waitFor(() => cem.state === 'connected.active.FRBC', 2_000, 'CEM active.FRBC');
    await server.close();
  });
});

describe('versions that do not match', () => {
  it.each([[['0.0.2']], [['v1']], [['>=0.0.2-beta']], [['1.0.0']], [['0.0.2-BETA']]])(
    '[R27, R29, Q3] an RM offering %j: INVALID_CONTENT, SessionRequest TERMINATE, close 4001; the CEM serves the next RM',
    async (offer) => {
      // A short grace: the raw peer does not close after the TERMINATE, so the CEM does (4001).
      const server = await guard.cemServer({ logger: false, closeGraceMs: 50 });
      const peer = await guard.peer(server.url);
      peer.ack(await peer.message('Handshake'));
      const id = peer.send(handshake('RM', offer)) as string;
      const status = await peer.statusFor(id);
      expect(status.status).toBe('INVALID_CONTENT');
      expect(String(status.diagnostic_label)).toMatch(/no common protocol version.*\(R27, R29\)/);
      expect((await peer.message('SessionRequest')).request).toBe('TERMINATE');
      expect(peer.all('HandshakeResponse')).toEqual([]);
      expect((await peer.closed).code).toBe(CloseCode.NO_COMMON_VERSION);
      const first = await server.session();
      expect(await first.closed).toMatchObject({ code: CloseCode.NO_COMMON_VERSION });
      expect(first.version).toBeUndefined();
      // Never a crash: the same server completes a handshake with the next RM.
      const next = await guard.peer(server.url);
      await rawRmHandshake(next, { versions: ['1.0.0-beta'] });
      expect((await server.session(1)).version).toBe('1.0.0-beta');
      await server.close();
      await next.closed;
    },
  );

  it.each([
    ['1.0.0-beta', '0.0.2-beta'],
    ['0.0.2-beta', '1.0.0-beta'],
    ['1.0.0-beta', 'v1'],
  ] as const)(
    '[R27, Q3] an RM offering only %s refuses a HandshakeResponse selecting %s (INVALID_CONTENT, close 4001)',
    async (offered, selected) => {
      const raw = await guard.rawServer();
      const client = guard.rmClient({ url: raw.url, details: rmDetailsInput(), versions: [offered], reconnect: false, logger: false });
      const cem = await raw.accept();
      const rmHandshake = await cem.message('Handshake');
      expect(rmHandshake.supported_protocol_versions).toEqual([offered]);
      cem.ack(rmHandshake);
      cem.send(handshake('CEM', [...S2_VERSIONS]));
      const id = cem.send(handshakeResponse(selected)) as string;
      const status = await cem.statusFor(id);
      expect(status.status).toBe('INVALID_CONTENT');
      expect(String(status.diagnostic_label)).toMatch(new RegExp(`selected_protocol_version ${selected} was not offered.*\\(R27\\)`));
      expect((await cem.closed).code).toBe(CloseCode.NO_COMMON_VERSION);
      await expect(client.nextSession()).rejects.toMatchObject({ code: 'INVALID_STATE' });
      expect(cem.all('ResourceManagerDetails')).toEqual([]);
      await client.stop();
      await raw.close();
    },
  );

  it('[R27] versions s2-engine does not speak are an options error that lists the ones it does', async () => {
    const error = (f: () => unknown): S2Error => {
      try {
        f();
      } catch (e) {
        return e as S2Error;
      }
      throw new Error('no error');
    };
    const e = error(() =>
      createRmClient({ url: 'ws://127.0.0.1:1', details: rmDetailsInput(), versions: ['0.0.2', '1.0.0-beta', '1.0.0-beta'] }),
    );
    expect(e).toBeInstanceOf(S2Error);
    expect(e.code).toBe('INVALID_OPTIONS');
    expect(e.problems?.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'versions[0]: must be one of the versions s2-engine speaks: 1.0.0-beta, 0.0.2-beta',
      'versions[2]: is listed twice',
    ]);
    await expect(createCemServer({ versions: ['v1'] })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(createCemServer({ versions: [] })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
