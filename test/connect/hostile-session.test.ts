/**
 * Digest §9, "session-initiation server (CS)" table: every hostile or faulty communication client behaviour as a
 * test over real HTTPS + WSS, sent by a scripted raw client. Each test asserts the exact status (and error name),
 * the stores afterwards, and that no refusal body and no server event carries an access or WebSocket token.
 * (Rotation-specific rows — replayed A_old, concurrent initiateSession, replayed confirm, late W — are in
 * rotation.test.ts.)
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { pair } from '../../src/connect/client.js';
import { encodeBase64, hashToken, randomChallenge } from '../../src/connect/crypto.js';
import { MemoryPairingStore, type PairingStore } from '../../src/connect/store/index.js';
import type { ThrottleOptions } from '../../src/connect/http/https-server.js';
import {
  CEM,
  Cleanup,
  RM,
  RM2,
  WallClock,
  call,
  eventually,
  expectNoSecret,
  rawRequest,
  resolve,
  snapshot,
  startNode,
  upgradeStatus,
  type TestNode,
} from './connect-harness.js';

let lan: GeneratedCertificates;
beforeAll(async () => {
  lan = await generateCertificates({ hostname: 'cem.local' });
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A store whose compare-and-swap of tokens can be made to fail (the 500 row). */
class FlakyStore extends MemoryPairingStore {
  failSwap = false;
  override swapTokens(localNodeId: string, remoteNodeId: string, expectedVersion: number, tokens: readonly string[]): Promise<boolean> {
    if (this.failSwap) return Promise.reject(new Error('disk full'));
    return super.swapTokens(localNodeId, remoteNodeId, expectedVersion, tokens);
  }
}

const initiateBody = (client: string, server: string, overrides: Record<string, unknown> = {}) => ({
  clientNodeId: client,
  serverNodeId: server,
  supportedS2MessageVersions: ['0.0.2-beta'],
  supportedCommunicationProtocols: ['WebSocket'],
  ...overrides,
});

interface SessionServer extends TestNode {
  readonly base: string;
  readonly clock: WallClock;
  /** The current access tokens of RM and RM2 (raw, as their stores hold them). */
  readonly tokens: Map<string, string>;
  readonly seen: unknown[];
  post(path: string, body?: unknown, bearer?: string): Promise<{ status: number; json: unknown }>;
  /** initiateSession + confirmAccessToken for RM with its current token: the WebSocket details (W, URL). */
  websocketDetails(): Promise<{ websocketToken: string; websocketUrl: string }>;
  expectNoLeak(): void;
}

async function sessionServer(options: { store?: PairingStore; throttle?: ThrottleOptions } = {}): Promise<SessionServer> {
  const clock = new WallClock();
  const node = await startNode(
    {
      node: CEM,
      alias: 'A0',
      deployment: 'LAN',
      certs: lan,
      hostname: 'cem.local',
      now: clock.now,
      ...(options.store ? { store: options.store } : {}),
      ...(options.throttle ? { throttle: options.throttle } : {}),
    },
    cleanup,
  );
  const base = node.server.url;
  const tokens = new Map<string, string>();
  for (const rm of [RM, RM2]) {
    const store = new MemoryPairingStore();
    clock.advance(1_000);
    await pair({ code: node.server.allowPairingOnce().code, pairingUrl: base, node: rm, endpoint: { deployment: 'LAN' }, store, resolve });
    tokens.set(rm.id, (await store.get(rm.id, CEM.id))!.tokens.tokens[0]!);
  }
  const seen: unknown[] = [];
  const secrets: string[] = [];
  const post = async (path: string, body?: unknown, bearer?: string) => {
    const answer = await call(base, path, body, bearer);
    if (answer.status >= 300) seen.push(answer.json);
    return answer;
  };
  return {
    ...node,
    base,
    clock,
    tokens,
    seen,
    post,
    websocketDetails: async () => {
      const initiated = await post('v1/initiateSession', initiateBody(RM.id, CEM.id), tokens.get(RM.id));
      expect(initiated.status).toBe(200);
      const fresh = (initiated.json as { accessToken: string }).accessToken;
      secrets.push(fresh);
      const confirmed = await post('v1/confirmAccessToken', undefined, fresh);
      expect(confirmed.status).toBe(200);
      tokens.set(RM.id, fresh);
      const details = confirmed.json as { websocketToken: string; websocketUrl: string };
      secrets.push(details.websocketToken);
      return details;
    },
    expectNoLeak: () => {
      expectNoSecret([...seen, ...node.events], [...tokens.values(), ...secrets]);
      expect(node.errors).toEqual([]);
    },
  };
}

describe('S2 Connect session-initiation server against hostile clients (digest §9)', () => {
  it('[S2C §9] missing or malformed Bearer on initiateSession, confirmAccessToken and unpair → 401', async () => {
    const s = await sessionServer();
    const before = await snapshot(s.store);
    const token = s.tokens.get(RM.id)!;
    const calls: Array<[string, unknown]> = [
      ['v1/initiateSession', initiateBody(RM.id, CEM.id)],
      ['v1/initiateConnection', initiateBody(RM.id, CEM.id)],
      ['v1/confirmAccessToken', undefined],
      ['v1/unpair', { clientNodeId: RM.id, serverNodeId: CEM.id }],
    ];
    for (const [path, body] of calls) {
      for (const authorization of [undefined, `Basic ${token}`, 'Bearer', `Bearer ${token} ${token}`, `${token}`, 'Bearer ""']) {
        const answer = await rawRequest(new URL(path, s.base).toString(), {
          headers: {
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...(authorization === undefined ? {} : { Authorization: authorization }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        expect([path, authorization, answer.status]).toEqual([path, authorization, 401]);
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
        s.seen.push(answer.text);
      }
    }
    expect(await snapshot(s.store)).toBe(before);
    s.expectNoLeak();
  });

  it('[S2C §9] unknown pair, swapped ids, or the token of another pairing → 401', async () => {
    const s = await sessionServer();
    const before = await snapshot(s.store);
    const mine = s.tokens.get(RM.id)!;
    const other = s.tokens.get(RM2.id)!;
    const cases: Array<[Record<string, unknown>, string]> = [
      [initiateBody('11111111-2222-4333-8444-555555555555', CEM.id), mine], // unknown client
      [initiateBody(RM.id, '11111111-2222-4333-8444-555555555555'), mine], // unknown server node
      [initiateBody(CEM.id, RM.id), mine], // swapped ids
      [initiateBody(RM.id, CEM.id), other], // RM2's token for RM's pairing
      [initiateBody(RM2.id, CEM.id), mine], // and the other way round
      [initiateBody(RM.id, CEM.id), encodeBase64(randomChallenge(32))], // a guess
    ];
    for (const [body, token] of cases) {
      const answer = await s.post('v1/initiateSession', body, token);
      expect(answer.status).toBe(401);
      expect(answer.json).toBeUndefined();
    }
    for (const [body, token] of cases) {
      expect((await s.post('v1/unpair', { clientNodeId: body.clientNodeId, serverNodeId: body.serverNodeId }, token)).status).toBe(401);
    }
    expect(await snapshot(s.store)).toBe(before);
    s.expectNoLeak();
  });

  it('[S2C §9, §4.3] a pairing deleted with a tombstone → 400 NoLongerPaired (initiateSession), 401 (unpair)', async () => {
    const s = await sessionServer();
    expect(await s.server.unpair(CEM.id, RM.id)).toBe(true);
    const before = await snapshot(s.store);
    // Whatever the token: the tombstone is no secret and is answered first, as RS does.
    for (const token of [s.tokens.get(RM.id)!, encodeBase64(randomChallenge(32))]) {
      const answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), token);
      expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NoLongerPaired' }]);
    }
    expect((await s.post('v1/unpair', { clientNodeId: RM.id, serverNodeId: CEM.id }, s.tokens.get(RM.id))).status).toBe(401);
    // The other pairing is untouched.
    expect((await s.post('v1/initiateSession', initiateBody(RM2.id, CEM.id), s.tokens.get(RM2.id))).status).toBe(200);
    expect(await snapshot(s.store)).toBe(before);
    s.expectNoLeak();
  });

  it('[S2C §9] token guessing: 401 until the per-source budget is spent, then 429 even for the right token, until the window passes', async () => {
    const s = await sessionServer({ throttle: { failures: 3, windowMs: 60_000 } });
    const before = await snapshot(s.store);
    for (let i = 0; i < 3; i++)
      expect((await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), encodeBase64(randomChallenge(32)))).status).toBe(401);
    const blocked = await rawRequest(new URL('v1/initiateSession', s.base).toString(), {
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.tokens.get(RM.id)}` },
      body: JSON.stringify(initiateBody(RM.id, CEM.id)),
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Confirm and unpair are throttled alike.
    expect((await s.post('v1/confirmAccessToken', undefined, encodeBase64(randomChallenge(32)))).status).toBe(429);
    expect((await s.post('v1/unpair', { clientNodeId: RM.id, serverNodeId: CEM.id }, s.tokens.get(RM.id))).status).toBe(429);
    expect(await snapshot(s.store)).toBe(before);
    s.clock.advance(60_001);
    expect((await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), s.tokens.get(RM.id))).status).toBe(200);
    s.expectNoLeak();
  });

  it('[S2C §9] no common protocol or version → 400 IncompatibleCommunicationProtocols / IncompatibleS2MessageVersions; client order decides', async () => {
    const s = await sessionServer();
    const before = await snapshot(s.store);
    const token = s.tokens.get(RM.id)!;
    let answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { supportedCommunicationProtocols: ['MQTT'] }), token);
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleCommunicationProtocols' }]);
    answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { supportedS2MessageVersions: ['0.0.2', 'v1'] }), token);
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleS2MessageVersions' }]);
    answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { supportedS2MessageVersions: 'x' }), token);
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'ParsingError' }]);
    expect(await snapshot(s.store)).toBe(before);
    answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { supportedS2MessageVersions: ['9.9', '0.0.2-beta'] }), token);
    expect([answer.status, (answer.json as { selectedS2MessageVersion: string }).selectedS2MessageVersion]).toEqual([200, '0.0.2-beta']);
    s.expectNoLeak();
  });

  it('[S2C §4.1] updated descriptions in initiateSession replace the stored ones; one that contradicts the pairing (other id, other role) → 400', async () => {
    const s = await sessionServer();
    const token = s.tokens.get(RM.id)!;
    const before = await snapshot(s.store);
    let answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { clientNodeDescription: { ...RM, id: RM2.id } }), token);
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'ParsingError' }]);
    answer = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id, { clientNodeDescription: { ...RM, role: 'CEM' } }), token);
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'Other' }]);
    expect(await snapshot(s.store)).toBe(before);
    // A genuine update is kept, and the token it authorised still rotates (the compare-and-swap sees the new version).
    answer = await s.post(
      'v1/initiateSession',
      initiateBody(RM.id, CEM.id, {
        clientNodeDescription: { ...RM, userDefinedName: 'garage battery' },
        clientEndpointDescription: { name: 'garage', deployment: 'LAN' },
      }),
      token,
    );
    expect(answer.status).toBe(200);
    const fresh = (answer.json as { accessToken: string }).accessToken;
    expect((await s.post('v1/confirmAccessToken', undefined, fresh)).status).toBe(200);
    const stored = (await s.store.get(CEM.id, RM.id))!;
    expect(stored.record.remoteNode).toEqual({ ...RM, userDefinedName: 'garage battery' });
    expect(stored.record.remoteEndpoint).toEqual({ name: 'garage', deployment: 'LAN' });
    expect(stored.tokens.tokens).toEqual([hashToken(fresh)]);
    s.tokens.set(RM.id, fresh);
    s.expectNoLeak();
  });

  it('[S2C §9] confirmAccessToken with the old token, an unknown one, a used one, or after 15 s → 401', async () => {
    const s = await sessionServer();
    const A_old = s.tokens.get(RM.id)!;
    const initiated = await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), A_old);
    const A_new = (initiated.json as { accessToken: string }).accessToken;
    const before = await snapshot(s.store);
    expect((await s.post('v1/confirmAccessToken', undefined, A_old)).status).toBe(401);
    expect((await s.post('v1/confirmAccessToken', undefined, encodeBase64(randomChallenge(32)))).status).toBe(401);
    expect(await snapshot(s.store)).toBe(before);
    // Refusals of other tokens did not use up the pending one.
    expect((await s.post('v1/confirmAccessToken', undefined, A_new)).status).toBe(200);
    expect((await s.post('v1/confirmAccessToken', undefined, A_new)).status).toBe(401); // used
    const A_next = (await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), A_new)).json as { accessToken: string };
    s.clock.advance(15_001);
    const stale = await snapshot(s.store);
    expect((await s.post('v1/confirmAccessToken', undefined, A_next.accessToken)).status).toBe(401); // too late
    expect(await snapshot(s.store)).toBe(stale);
    expect((await s.store.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(A_new)]);
    s.tokens.set(RM.id, A_new);
    expectNoSecret([...s.seen, ...s.events], [A_old, A_new, A_next.accessToken]);
  });

  it('[S2C §9, §4.2] the token store fails during confirm → 500, and the old token stays valid', async () => {
    const store = new FlakyStore();
    const s = await sessionServer({ store });
    const A_old = s.tokens.get(RM.id)!;
    const A_new = ((await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), A_old)).json as { accessToken: string }).accessToken;
    const before = await snapshot(store);
    store.failSwap = true;
    const answer = await s.post('v1/confirmAccessToken', undefined, A_new);
    expect(answer.status).toBe(500);
    store.failSwap = false;
    expect(await snapshot(store)).toBe(before);
    expect((await store.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(A_old)]);
    expect((await s.post('v1/initiateSession', initiateBody(RM.id, CEM.id), A_old)).status).toBe(200);
    expectNoSecret([...s.seen, ...s.events], [A_old, A_new]);
  });

  it('[S2C §9, §4.1] WebSocket upgrade without a token, with an access token instead of W, with a reused W, or on another path → refused before the upgrade', async () => {
    const s = await sessionServer();
    const { websocketToken, websocketUrl } = await s.websocketDetails();
    expect(websocketUrl).toMatch(/^wss:\/\/cem\.local:\d+\/v1\/websocket$/);
    expect((await upgradeStatus(websocketUrl)).status).toBe(401);
    expect((await upgradeStatus(websocketUrl, s.tokens.get(RM.id))).status).toBe(401);
    expect((await upgradeStatus(websocketUrl, encodeBase64(randomChallenge(32)))).status).toBe(401);
    expect((await upgradeStatus(`${websocketUrl}x`, websocketToken)).status).toBe(404);
    expect(s.transports).toHaveLength(0);
    // None of the refusals used W up.
    const ok = await upgradeStatus(websocketUrl, websocketToken);
    expect(ok.status).toBe(101);
    ok.socket?.close();
    expect((await upgradeStatus(websocketUrl, websocketToken)).status).toBe(401);
    await eventually(() => s.transports.length === 1);
    s.expectNoLeak();
  });

  it('[S2C §9] a plain GET (no upgrade) on the WebSocket path → 426 (digest: 400, 426 acceptable)', async () => {
    const s = await sessionServer();
    const { websocketToken, websocketUrl } = await s.websocketDetails();
    const url = websocketUrl.replace(/^wss:/, 'https:');
    const plain = await rawRequest(url, { method: 'GET' });
    expect([400, 426]).toContain(plain.status);
    const withToken = await rawRequest(url, { method: 'GET', headers: { Authorization: `Bearer ${websocketToken}` } });
    expect([400, 426]).toContain(withToken.status);
    // A plain GET does not use W up.
    const ok = await upgradeStatus(websocketUrl, websocketToken);
    expect(ok.status).toBe(101);
    ok.socket?.close();
  });

  it('[S2C §9, R1] a binary frame after the upgrade closes the socket (1003)', async () => {
    const s = await sessionServer();
    const { websocketToken, websocketUrl } = await s.websocketDetails();
    const { socket } = await upgradeStatus(websocketUrl, websocketToken);
    const closed = new Promise<number>((ok) => socket!.once('close', (code) => ok(code)));
    socket!.send(Buffer.from([0x7b, 0x7d]), { binary: true });
    expect(await closed).toBe(1003);
  });

  it('[S2C §9, §4.3] unpair with a wrong or old token, an unknown pair, or repeated → 401', async () => {
    const s = await sessionServer();
    const A_old = s.tokens.get(RM.id)!;
    await s.websocketDetails(); // rotates RM's token
    const before = await snapshot(s.store);
    const unpairBody = { clientNodeId: RM.id, serverNodeId: CEM.id };
    expect((await s.post('v1/unpair', unpairBody, A_old)).status).toBe(401);
    expect((await s.post('v1/unpair', unpairBody, encodeBase64(randomChallenge(32)))).status).toBe(401);
    expect((await s.post('v1/unpair', { clientNodeId: RM.id, serverNodeId: RM2.id }, s.tokens.get(RM.id))).status).toBe(401);
    expect((await s.post('v1/unpair', { clientNodeId: RM.id }, s.tokens.get(RM.id))).status).toBe(400);
    expect(await snapshot(s.store)).toBe(before);
    expect((await s.post('v1/unpair', unpairBody, s.tokens.get(RM.id))).status).toBe(204);
    expect((await s.post('v1/unpair', unpairBody, s.tokens.get(RM.id))).status).toBe(401);
    expect(await s.store.get(CEM.id, RM.id)).toBeUndefined();
    expect(await s.store.get(CEM.id, RM2.id)).toBeDefined();
    expectNoSecret([...s.seen, ...s.events], [A_old, ...s.tokens.values()]);
  });
});
