/**
 * S2 Connect end to end over real HTTPS and WSS on 127.0.0.1 (host names resolved to it, `.local`
 * names given as SNI): pairing, session initiation with token rotation, the S2 session, unpairing.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectSession, type S2Session } from '../../src/index.js';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair, unpair } from '../../src/connect/client.js';
import { createS2ConnectServer, type S2ConnectServer } from '../../src/connect/server.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import { CEM, RM, resolve, rmDetails } from './connect-harness.js';

const details = rmDetails(RM.id);

let lan: GeneratedCertificates;
beforeAll(async () => {
  lan = await generateCertificates({ hostname: 'cem.local' });
});

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Wall clock of the server (token expiry, attempt spacing); tests move it forward. */
const clock = { t: Date.now(), now: () => clock.t };

async function cemServer(
  store = new MemoryPairingStore(),
): Promise<{ server: S2ConnectServer; store: MemoryPairingStore; sessions: S2Session[] }> {
  const sessions: S2Session[] = [];
  const server = await createS2ConnectServer({
    now: clock.now,
    nodes: [{ description: CEM, alias: 'A0' }],
    endpoint: { name: 'test CEM', deployment: 'LAN' },
    tls: { cert: lan.chainPem, key: lan.keyPem },
    hostname: 'cem.local',
    store,
    onConnection: (transport, info) => {
      sessions.push(connectSession(transport, { role: 'CEM', versions: [info.messageVersion], handshakeTimeoutMs: 5_000 }));
    },
  });
  cleanup.push(() => server.close());
  return { server, store, sessions };
}

describe('S2 Connect: RM pairs with a LAN CEM, then connects', () => {
  it('[S2C §3, §4] pairs with a one-time code, rotates the token on every connect, and runs the S2 handshake', async () => {
    const { server, store: cemStore, sessions } = await cemServer();
    const rmStore = new MemoryPairingStore();
    const { code } = server.allowPairingOnce();
    expect(code).toMatch(/^A0-[A-Za-z0-9+/]{12}$/);
    const record = await pair({ code, pairingUrl: server.url, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve });
    expect(record).toMatchObject({
      localNodeId: RM.id,
      remoteNodeId: CEM.id,
      communicationRole: 'client',
      initiateSessionUrl: server.url,
      rootPin: lan.rootPin,
    });
    const cemSide = await cemStore.get(CEM.id, RM.id);
    expect(cemSide?.record.communicationRole).toBe('server');

    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const before = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens;
      const { transport, messageVersion } = await connectPaired({ store: rmStore, resolve });
      // Versions default by role (DEFAULT_VERSIONS): the RM client offers 0.0.2-beta, the CEM speaks both.
      expect(messageVersion).toBe('0.0.2-beta');
      const rm = connectSession(transport, { role: 'RM', details, versions: [messageVersion], handshakeTimeoutMs: 5_000 });
      await new Promise<void>((ok) => rm.on('handshake', () => ok()));
      const after = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens;
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[before.length - 1]);
      seen.push(after[0]!);
      await rm.close(1000, 'test done');
    }
    expect(new Set(seen).size).toBe(3);
    expect(sessions).toHaveLength(3);
  });

  it('[S2C §4.3] unpair by the client: the server forgets the pairing and a later connect is refused', async () => {
    const { server, store: cemStore } = await cemServer();
    const rmStore = new MemoryPairingStore();
    await pair({
      code: server.allowPairingOnce().code,
      pairingUrl: server.url,
      node: RM,
      endpoint: { deployment: 'LAN' },
      store: rmStore,
      resolve,
    });
    const copy = new MemoryPairingStore();
    const saved = (await rmStore.get(RM.id, CEM.id))!;
    await copy.put(saved.record, saved.tokens.tokens);
    const result = await unpair({ store: rmStore, resolve });
    expect(result.confirmed).toBe(true);
    expect(await rmStore.list()).toEqual([]);
    expect(await cemStore.get(CEM.id, RM.id)).toBeUndefined();
    // A client that kept a copy now hears NoLongerPaired and drops it too.
    await expect(connectPaired({ store: copy, resolve })).rejects.toMatchObject({ errorMessage: 'NoLongerPaired' });
    expect(await copy.list()).toEqual([]);
  });

  it('[S2C §3.3, §9] a wrong pairing code fails the HMAC check and burns the one-time token', async () => {
    const { server } = await cemServer();
    const rmStore = new MemoryPairingStore();
    const { code } = server.allowPairingOnce();
    const wrong = `A0-${Buffer.alloc(9, 7).toString('base64')}`;
    expect(wrong).not.toBe(code);
    await expect(
      pair({ code: wrong, pairingUrl: server.url, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve }),
    ).rejects.toMatchObject({ errorMessage: 'HmacMismatch' });
    // At most one attempt per node per second.
    await expect(
      pair({ code, pairingUrl: server.url, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve }),
    ).rejects.toMatchObject({ httpStatus: 503 });
    clock.t += 1_000;
    await expect(
      pair({ code, pairingUrl: server.url, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve }),
    ).rejects.toMatchObject({ errorMessage: 'NoValidPairingTokenOnPairingServer' });
    expect(await rmStore.list()).toEqual([]);
  });
});
