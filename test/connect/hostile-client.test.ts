/**
 * Digest §9, last paragraph: the client side surviving a hostile or faulty server. A scripted S2 Connect peer
 * (scripted-connect-peer.ts, OAS dialect) answers with a wrong R_c, an algorithm that was not offered, a short or
 * reflected challenge, a same-role node, a version that was not offered, a non-wss WebSocket URL, or swaps its
 * certificate chain (a man in the middle on the LAN). Each test asserts the typed rejection, what the client sent
 * (finalizePairing{false}, and never R_s or a token to the wrong party), that nothing was stored, and that the
 * error carries no secret.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair, unpair } from '../../src/connect/client.js';
import { encodeBase64, randomChallenge } from '../../src/connect/crypto.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import { CEM, Cleanup, RM, expectNoSecret, resolve } from './connect-harness.js';
import { startScriptedPeer, type ScriptedPeer, type ScriptedPeerOptions } from './scripted-connect-peer.js';

let lanA: GeneratedCertificates;
let lanB: GeneratedCertificates;
let lanRm: GeneratedCertificates;
beforeAll(async () => {
  lanA = await generateCertificates({ hostname: 'cem.local' });
  lanB = await generateCertificates({ hostname: 'cem.local' });
  lanRm = await generateCertificates({ hostname: 'rm.local' });
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const TOKEN = Uint8Array.from(Buffer.from('0f1e2d3c4b5a697887', 'hex'));
const CODE = `A0-${encodeBase64(TOKEN)}`;

async function peerWith(options: Partial<ScriptedPeerOptions> = {}): Promise<ScriptedPeer & { attemptIds: string[] }> {
  const attemptIds: string[] = [];
  const tamper = options.tamper?.requestPairing;
  const peer = await startScriptedPeer({
    dialect: 'oas',
    certs: lanA,
    hostname: 'cem.local',
    deployment: 'LAN',
    node: CEM,
    token: TOKEN,
    alias: 'A0',
    ...options,
    tamper: {
      ...options.tamper,
      requestPairing: (answer, context) => {
        attemptIds.push(answer.pairingAttemptId as string);
        return tamper ? tamper(answer, context) : answer;
      },
    },
  });
  cleanup.add(() => peer.close());
  return Object.assign(peer, { attemptIds });
}

const pairWith = (peer: ScriptedPeer, store: MemoryPairingStore) =>
  pair({ code: CODE, pairingUrl: peer.url, node: RM, endpoint: { deployment: 'LAN' }, store, resolve });
const pathsOf = (peer: ScriptedPeer): string[] => peer.calls.map((c) => c.path);

/** Runs `action`, expects a rejection and returns it (for further checks). */
async function rejection(
  action: Promise<unknown>,
): Promise<Error & { errorMessage?: string; httpStatus?: number; toJSON?: () => unknown }> {
  try {
    await action;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('S2 Connect client against a hostile pairing server (digest §9)', () => {
  it('[S2C §9, §3.3] a wrong R_c: finalizePairing{false}, HmacMismatch, R_s never sent, nothing stored', async () => {
    const peer = await peerWith({
      tamper: { requestPairing: (a) => ({ ...a, clientHmacChallengeResponse: encodeBase64(randomChallenge(32)) }) },
    });
    const store = new MemoryPairingStore();
    const err = await rejection(pairWith(peer, store));
    expect(err).toMatchObject({ errorMessage: 'HmacMismatch' });
    expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing', '/v1/finalizePairing']);
    expect(peer.calls[2]).toMatchObject({ body: { success: false }, bearer: peer.attemptIds[0] });
    expect(await store.list()).toEqual([]);
    expectNoSecret([err.message, err.toJSON?.()], [encodeBase64(TOKEN), CODE, peer.attemptIds[0]]);
  });

  it('[S2C §9, §3.3] an HMAC algorithm that was not offered: finalizePairing{false}, rejected, nothing stored', async () => {
    const peer = await peerWith({ tamper: { requestPairing: (a) => ({ ...a, selectedHmacHashingAlgorithm: 'SHA512' }) } });
    const store = new MemoryPairingStore();
    const err = await rejection(pairWith(peer, store));
    expect(err).toMatchObject({ errorMessage: 'UnsupportedSelection' });
    expect(err.message).toContain('algorithm-not-offered');
    expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing', '/v1/finalizePairing']);
    expect(peer.calls[2]!.body).toEqual({ success: false });
    expect(await store.list()).toEqual([]);
  });

  it('[S2C §9, §8 row 20] a server challenge shorter than 32 bytes: rejected before any answer to it, nothing stored', async () => {
    const peer = await peerWith({ tamper: { requestPairing: (a) => ({ ...a, serverHmacChallenge: encodeBase64(randomChallenge(16)) }) } });
    const store = new MemoryPairingStore();
    const err = await rejection(pairWith(peer, store));
    expect(err).toBeInstanceOf(Error);
    expect(['UnexpectedResponse', 'UnsupportedSelection']).toContain(err.errorMessage);
    expect(pathsOf(peer)).not.toContain('/v1/requestConnectionDetails');
    expect(await store.list()).toEqual([]);
  });

  it("[S2C §9, §8] the client's own challenge reflected (equal, or zero-padded to 64 bytes): finalizePairing{false}, no R_s sent", async () => {
    for (const pad of [0, 32]) {
      const peer = await peerWith({
        tamper: {
          requestPairing: (a, { clientChallenge }) => {
            const reflected = new Uint8Array(clientChallenge.length + pad);
            reflected.set(clientChallenge);
            return { ...a, serverHmacChallenge: encodeBase64(reflected) };
          },
        },
      });
      const store = new MemoryPairingStore();
      const err = await rejection(pairWith(peer, store));
      expect(err.message).toContain('reflected-challenge');
      expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing', '/v1/finalizePairing']);
      expect(peer.calls[2]!.body).toEqual({ success: false });
      expect(await store.list()).toEqual([]);
    }
  });

  it('[S2C §9, §1] a server node of the same role: finalizePairing{false}, rejected, nothing stored', async () => {
    const peer = await peerWith({ tamper: { requestPairing: (a) => ({ ...a, serverNodeDescription: { ...CEM, role: 'RM' } }) } });
    const store = new MemoryPairingStore();
    const err = await rejection(pairWith(peer, store));
    expect(err.message).toContain('same-role');
    expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing', '/v1/finalizePairing']);
    expect(await store.list()).toEqual([]);
  });

  it('[S2C §9, §3.4] a LAN chain that changes after requestPairing (man in the middle): refused by the pin, R_s never sent', async () => {
    const peer = await peerWith({ afterRequestPairing: (p) => p.useCertificates(lanB) });
    const store = new MemoryPairingStore();
    const err = await rejection(pairWith(peer, store));
    expect(err).toMatchObject({ errorMessage: 'TransportFailed' });
    // The TLS handshake failed before any request: neither R_s nor a finalize reached the other chain.
    expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing']);
    expect(await store.list()).toEqual([]);
    expectNoSecret([err.message, err.toJSON?.()], [encodeBase64(TOKEN), peer.attemptIds[0]]);
  });
});

describe('S2 Connect client as communication server: the order of persist and finalize (digest §3.6)', () => {
  /** A CEM pairing with a scripted RM pairing server: the CEM becomes CS and posts its details. */
  async function cemPairs(store: MemoryPairingStore, finalizeStatus?: number) {
    const peer = await peerWith({
      certs: lanRm,
      hostname: 'rm.local',
      node: RM,
      ...(finalizeStatus === undefined ? {} : { tamper: { finalizeStatus } }),
    });
    const own = {
      initiateSessionUrl: 'https://cem.local:8443/',
      accessToken: encodeBase64(randomChallenge(32)),
      certificateFingerprint: Uint8Array.from(Buffer.from(lanA.rootPin, 'base64')),
    };
    const result = pair({
      code: CODE,
      pairingUrl: peer.url,
      node: CEM,
      endpoint: { deployment: 'LAN' },
      store,
      resolve,
      ownConnectionDetails: own,
    });
    return { peer, own, result };
  }

  it('[S2C §3.6] PC is CS: stored before finalize{true}; the peer then holds the posted token', async () => {
    const store = new MemoryPairingStore();
    const { peer, own, result } = await cemPairs(store);
    expect(await result).toMatchObject({ communicationRole: 'server', localNodeId: CEM.id, remoteNodeId: RM.id });
    expect(pathsOf(peer)).toEqual(['/', '/v1/requestPairing', '/v1/postConnectionDetails', '/v1/finalizePairing']);
    expect(peer.paired?.accessToken).toBe(own.accessToken);
    expect((await store.get(CEM.id, RM.id))!.tokens.tokens).toHaveLength(1);
  });

  it('[S2C §3.6, §9] PC is CS and the peer answers finalize{true} with 500: the pairing stored here is removed again', async () => {
    const store = new MemoryPairingStore();
    const { peer, result } = await cemPairs(store, 500);
    const err = await rejection(result);
    expect(err).toMatchObject({ httpStatus: 500 });
    expect(pathsOf(peer)).toContain('/v1/finalizePairing');
    expect(await store.list()).toEqual([]);
  });

  it('[S2C §3.6] PC is CS and storing fails here: finalize{false} is sent, never finalize{true}', async () => {
    const store = new (class extends MemoryPairingStore {
      override put(): Promise<void> {
        return Promise.reject(new Error('disk full'));
      }
    })();
    const { peer, result } = await cemPairs(store);
    const err = await rejection(result);
    expect(err).toMatchObject({ errorMessage: 'StorageFailed' });
    expect(peer.calls.filter((c) => c.path === '/v1/finalizePairing').map((c) => c.body)).toEqual([{ success: false }]);
    expect(peer.paired).toBeUndefined();
  });
});

describe('S2 Connect client against an unreachable server', () => {
  it('[S2C §9, §4.3] pair() and connectPaired() reject with S2ConnectError TransportFailed; unpair() drops the pairing and says the other node did not confirm', async () => {
    const peer = await peerWith();
    const store = new MemoryPairingStore();
    await pairWith(peer, store);
    const url = peer.url;
    await peer.close();
    await expect(
      pair({
        code: CODE,
        pairingUrl: url,
        node: RM,
        endpoint: { deployment: 'LAN' },
        store: new MemoryPairingStore(),
        resolve,
        timeoutMs: 2_000,
      }),
    ).rejects.toMatchObject({ errorMessage: 'TransportFailed' });
    await expect(connectPaired({ store, resolve, timeoutMs: 2_000 })).rejects.toMatchObject({ errorMessage: 'TransportFailed' });
    expect(await store.list()).toHaveLength(1);
    // unpair() removes the pairing here whatever the server says — also when it says nothing — and reports why.
    const result = await unpair({ store, resolve, timeoutMs: 2_000 });
    expect(result).toMatchObject({ confirmed: false, reason: { errorMessage: 'TransportFailed' } });
    expect(await store.list()).toEqual([]);
  });
});

describe('S2 Connect client against a hostile communication server (digest §9)', () => {
  async function paired(options: Partial<ScriptedPeerOptions> = {}): Promise<{ peer: ScriptedPeer; store: MemoryPairingStore }> {
    const peer = await peerWith(options);
    const store = new MemoryPairingStore();
    const record = await pairWith(peer, store);
    expect(record).toMatchObject({ communicationRole: 'client', rootPin: lanA.rootPin, initiateSessionUrl: peer.url });
    peer.calls.length = 0;
    return { peer, store };
  }

  it('[S2C §9, §4.1] a selected S2 message version that was not offered: rejected before confirming, old token kept', async () => {
    const { peer, store } = await paired({ tamper: { initiate: (a) => ({ ...a, selectedS2MessageVersion: '9.9.9' }) } });
    const before = (await store.get(RM.id, CEM.id))!.tokens.tokens;
    const err = await rejection(connectPaired({ store, resolve }));
    expect(err.message).toContain('version-not-offered');
    expect(pathsOf(peer)).not.toContain('/v1/confirmAccessToken');
    expect((await store.get(RM.id, CEM.id))!.tokens.tokens).toEqual(before);
  });

  it('[S2C §9, §4.1] a non-wss WebSocket URL (ws:, https:) is refused: no WebSocket is opened, W never sent', async () => {
    for (const scheme of ['ws:', 'https:']) {
      const { peer, store } = await paired({
        tamper: { confirm: (a) => ({ ...a, websocketUrl: String(a.websocketUrl).replace(/^wss:/, scheme) }) },
      });
      const err = await rejection(connectPaired({ store, resolve }));
      expect(err).toMatchObject({ errorMessage: 'UnexpectedResponse' });
      expect(peer.transports).toHaveLength(0);
      expect(pathsOf(peer)).toEqual(['/', '/v1/initiateSession', '/v1/confirmAccessToken']);
      // Confirmed on the server, so both tokens stay stored: the next connect works with the second (digest §4.2).
      const tokens = (await store.get(RM.id, CEM.id))!.tokens.tokens;
      expect(tokens).toHaveLength(2);
      expect(tokens[1]).toBe(peer.paired?.accessToken);
    }
  });

  it('[S2C §9, §4.1] a LAN communication server whose root no longer matches the pin: refused before any request', async () => {
    const { peer, store } = await paired();
    const token = (await store.get(RM.id, CEM.id))!.tokens.tokens[0]!;
    peer.useCertificates(lanB);
    const err = await rejection(connectPaired({ store, resolve }));
    expect(err).toMatchObject({ errorMessage: 'InvalidCertificate' });
    // Not even the version probe reached the impostor; the stored pairing is kept.
    expect(peer.calls).toEqual([]);
    expect((await store.get(RM.id, CEM.id))!.tokens.tokens).toEqual([token]);
    expectNoSecret([err.message, err.toJSON?.()], [token]);
  });

  it('[S2C §9, §4.2] 401 on every stored token: NotPaired, and the pairing is kept for the user to decide', async () => {
    const { peer, store } = await paired();
    peer.paired!.accessToken = encodeBase64(randomChallenge(32)); // the server moved on (a thief, or a reset)
    const err = await rejection(connectPaired({ store, resolve }));
    expect(err).toMatchObject({ errorMessage: 'NotPaired', httpStatus: 401 });
    expect(await store.list()).toHaveLength(1);
  });
});
