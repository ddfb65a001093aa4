/**
 * The two dialects of S2 Connect (digest §8): our client against a scripted peer per dialect (the OpenAPI files,
 * and the maintainers' Rust implementation), and our server against RS-style requests — nulls for absent fields,
 * the pre-rename `initiateConnection` path and field names — while its answers carry both spellings.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair, unpair } from '../../src/connect/client.js';
import { encodeBase64, hashToken, randomChallenge } from '../../src/connect/crypto.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import {
  CEM,
  Cleanup,
  RM,
  call,
  eventually,
  handshake,
  leafOf,
  openAttempt,
  resolve,
  startNode,
  upgradeStatus,
} from './connect-harness.js';
import { startScriptedPeer, type Dialect, type ScriptedPeer } from './scripted-connect-peer.js';

let lan: GeneratedCertificates;
let rmLan: GeneratedCertificates;
beforeAll(async () => {
  lan = await generateCertificates({ hostname: 'cem.local' });
  rmLan = await generateCertificates({ hostname: 'rm.local' });
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const TOKEN = Uint8Array.from(Buffer.from('102132435465768798a9bacb', 'hex'));

async function scripted(dialect: Dialect): Promise<ScriptedPeer> {
  const peer = await startScriptedPeer({
    dialect,
    certs: lan,
    hostname: 'cem.local',
    deployment: 'LAN',
    node: CEM,
    token: TOKEN,
    alias: 'A0',
  });
  cleanup.add(() => peer.close());
  return peer;
}

describe('S2 Connect client against a scripted peer of each dialect (digest §8)', () => {
  for (const dialect of ['oas', 'rs'] as const) {
    it(`[S2C §8 rows 1-4, 7] ${dialect.toUpperCase()} dialect: pairs, connects twice with rotation, runs the S2 handshake, unpairs`, async () => {
      const peer = await scripted(dialect);
      const store = new MemoryPairingStore();
      const record = await pair({
        code: `A0-${encodeBase64(TOKEN)}`,
        pairingUrl: peer.url,
        node: RM,
        endpoint: { deployment: 'LAN' },
        store,
        resolve,
      });
      // RS: initiateConnectionUrl read as initiateSessionUrl; nulls in the descriptions read as absent.
      expect(record).toMatchObject({
        communicationRole: 'client',
        initiateSessionUrl: peer.url,
        rootPin: lan.rootPin,
        remoteNode: { id: CEM.id, role: 'CEM' },
      });
      expect(record.remoteNode).not.toHaveProperty('logoUrl');
      expect(peer.paired?.accessToken).toBe((await store.get(RM.id, CEM.id))!.tokens.tokens[0]);

      for (let i = 0; i < 2; i++) {
        peer.calls.length = 0;
        const connection = await connectPaired({ store, resolve });
        await eventually(() => peer.transports.length === i + 1);
        const sessions = await handshake(connection.transport, 'RM', peer.transports[i]!, RM.id, connection.messageVersion);
        await sessions.client.close(1000, 'test done');
        expect((await store.get(RM.id, CEM.id))!.tokens.tokens).toEqual([peer.paired!.accessToken]);
        // OAS serves no version list (404 ⇒ v1 assumed) and initiateSession; RS serves the list and only initiateConnection.
        expect(peer.calls.map((c) => c.path)).toEqual(
          dialect === 'rs'
            ? ['/', '/v1/initiateSession', '/v1/initiateConnection', '/v1/confirmAccessToken']
            : ['/', '/v1/initiateSession', '/v1/confirmAccessToken'],
        );
      }
      expect((await unpair({ store, resolve })).confirmed).toBe(true);
      expect(peer.paired).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it(`[S2C §8 row 4] ${dialect.toUpperCase()} dialect: a pairing error is read with its OAS name`, async () => {
      const peer = await scripted(dialect);
      const store = new MemoryPairingStore();
      await expect(
        pair({ code: `B7-${encodeBase64(TOKEN)}`, pairingUrl: peer.url, node: RM, endpoint: { deployment: 'LAN' }, store, resolve }),
      ).rejects.toMatchObject({
        errorMessage: 'NodeNotFound',
        httpStatus: 400,
      });
      expect(await store.list()).toEqual([]);
    });
  }
});

describe('S2 Connect server against RS-style requests (digest §8)', () => {
  it('[S2C §3.0, §8 rows 1-3, 12] nulls are absent, initiateConnection is served, and the answers carry both spellings', async () => {
    const cem = await startNode({ node: CEM, alias: 'A0', deployment: 'LAN', certs: lan, hostname: 'cem.local' }, cleanup);
    cem.server.allowPairingRepeated(encodeBase64(TOKEN));
    expect((await call(cem.server.url, '', undefined, undefined, 'GET')).json).toEqual(['v1']);
    // An RS client: both id keys present (one null), nulls in the descriptions, no deployment announced.
    const attempt = await openAttempt(cem.server.url, RM, TOKEN, leafOf(lan.chainPem, 'LAN'), {
      clientNodeDescription: { ...RM, logoUrl: null, userDefinedName: null },
      clientEndpointDescription: { name: null, logoUrl: null, deployment: null },
      nodeId: null,
      nodeIdAlias: 'A0',
    });
    const details = await call(
      cem.server.url,
      'v1/requestConnectionDetails',
      { serverHmacChallengeResponse: attempt.response },
      attempt.attemptId,
    );
    expect(details.status).toBe(200);
    const connection = details.json as Record<string, unknown>;
    expect(connection.initiateConnectionUrl).toBe(cem.server.url);
    expect(connection.initiateSessionUrl).toBe(cem.server.url);
    expect(connection.certificateFingerprint).toEqual({ SHA256: lan.rootPin });
    expect((await call(cem.server.url, 'v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(204);
    const stored = (await cem.store.get(CEM.id, RM.id))!;
    expect(stored.record.remoteNode).toEqual(RM);
    expect(stored.record.remoteEndpoint).toEqual({});

    // Session initiation on the RS path, with nulls for the optional descriptions.
    const accessToken = connection.accessToken as string;
    const initiated = await call(
      cem.server.url,
      'v1/initiateConnection',
      {
        clientNodeId: RM.id,
        serverNodeId: CEM.id,
        supportedS2MessageVersions: ['0.0.2-beta'],
        supportedCommunicationProtocols: ['WebSocket'],
        clientNodeDescription: null,
        clientEndpointDescription: null,
      },
      accessToken,
    );
    expect(initiated.status).toBe(200);
    const fresh = (initiated.json as { accessToken: string }).accessToken;
    const confirmed = await call(cem.server.url, 'v1/confirmAccessToken', undefined, fresh);
    expect(confirmed.status).toBe(200);
    const body = confirmed.json as Record<string, string>;
    expect(body).toMatchObject({ communicationProtocol: 'WebSocket' });
    expect(body.websocket_token).toBe(body.websocketToken);
    expect(body.websocket_url).toBe(body.websocketUrl);
    // An RS client reads only the snake_case fields.
    const upgraded = await upgradeStatus(body.websocket_url!, body.websocket_token);
    expect(upgraded.status).toBe(101);
    upgraded.socket?.close();
    expect((await cem.store.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(fresh)]);
  });

  it('[S2C §3.5b, §8 row 2] an RS pairing client that posts initiateConnectionUrl (no initiateSessionUrl) is understood', async () => {
    const rmNode = await startNode({ node: RM, alias: 'RMA', deployment: 'LAN', certs: rmLan, hostname: 'rm.local' }, cleanup);
    rmNode.server.allowPairingRepeated(encodeBase64(TOKEN));
    const attempt = await openAttempt(rmNode.server.url, CEM, TOKEN, leafOf(rmLan.chainPem, 'LAN'), {
      nodeId: null,
      nodeIdAlias: null,
      clientEndpointDescription: { name: null, logoUrl: null, deployment: 'LAN' },
    });
    const accessToken = encodeBase64(randomChallenge(32));
    const posted = await call(
      rmNode.server.url,
      'v1/postConnectionDetails',
      {
        serverHmacChallengeResponse: attempt.response,
        connectionDetails: {
          initiateConnectionUrl: 'https://cem.local:8443/',
          accessToken,
          certificateFingerprint: { SHA256: lan.rootPin },
        },
      },
      attempt.attemptId,
    );
    expect(posted.status).toBe(204);
    expect((await call(rmNode.server.url, 'v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(204);
    const stored = (await rmNode.store.get(RM.id, CEM.id))!;
    expect(stored.record).toMatchObject({
      communicationRole: 'client',
      initiateSessionUrl: 'https://cem.local:8443/',
      rootPin: lan.rootPin,
    });
    expect(stored.tokens.tokens).toEqual([accessToken]);
  });

  it('[S2C §8 row 2] two different values for the two spellings of one field are refused (400)', async () => {
    const rmNode = await startNode({ node: RM, alias: 'RMA', deployment: 'LAN', certs: rmLan, hostname: 'rm.local' }, cleanup);
    rmNode.server.allowPairingRepeated(encodeBase64(TOKEN));
    const attempt = await openAttempt(rmNode.server.url, CEM, TOKEN, leafOf(rmLan.chainPem, 'LAN'));
    const posted = await call(
      rmNode.server.url,
      'v1/postConnectionDetails',
      {
        serverHmacChallengeResponse: attempt.response,
        connectionDetails: {
          initiateSessionUrl: 'https://cem.local:8443/',
          initiateConnectionUrl: 'https://evil.local:8443/',
          accessToken: encodeBase64(randomChallenge(32)),
          certificateFingerprint: { SHA256: lan.rootPin },
        },
      },
      attempt.attemptId,
    );
    expect(posted.status).toBe(400);
    expect(await rmNode.store.list()).toEqual([]);
  });
});
