/**
 * Digest §9, "pairing server" table: every hostile or faulty pairing client behaviour as a test over real HTTPS,
 * sent by a scripted raw client. Each test asserts the exact status (and error name), that nothing was persisted,
 * and that neither the answers nor the server's events carry the pairing token, an attempt id or an access token.
 */
import { once } from 'node:events';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { encodeBase64, hmacResponse, randomChallenge, sha256 } from '../../src/connect/crypto.js';
import type * as CryptoModule from '../../src/connect/crypto.js';
import { MemoryPairingStore, type PairingStore } from '../../src/connect/store/index.js';
import type { PairingRecord } from '../../src/connect/store/index.js';
import type { NodeDescription } from '../../src/connect/wire/index.js';
import type { S2ConnectNode } from '../../src/connect/server.js';
import type { ThrottleOptions } from '../../src/connect/http/https-server.js';
import {
  CEM,
  CEM2,
  Cleanup,
  RM,
  WallClock,
  call,
  eventually,
  expectNoSecret,
  leafOf,
  openAttempt,
  rawRequest,
  requestPairingBody,
  snapshot,
  startNode,
  type TestNode,
} from './connect-harness.js';

// The server's challenge comes from randomChallenge(64); the reflection tests need one that ends in zero bytes, whose
// zero-stripped forms are HMAC-equivalent (digest §8). Everything else gets real randomness.
const forced = vi.hoisted(() => ({ serverChallenge: undefined as Uint8Array | undefined }));
vi.mock('../../src/connect/crypto.js', async (importOriginal) => {
  const original = await importOriginal<typeof CryptoModule>();
  return {
    ...original,
    randomChallenge: (bytes: number): Uint8Array => {
      const next = forced.serverChallenge;
      if (bytes === original.SERVER_CHALLENGE_BYTES && next !== undefined) {
        forced.serverChallenge = undefined;
        return next;
      }
      return original.randomChallenge(bytes);
    },
  };
});

/** A long-lived pairing token (12 bytes) the tests know. */
const TOKEN = Uint8Array.from(Buffer.from('a0a1a2a3a4a5a6a7a8a9aaab', 'hex'));
const TOKEN_B64 = encodeBase64(TOKEN);

let lan: GeneratedCertificates;
let leaf: Uint8Array;
beforeAll(async () => {
  lan = await generateCertificates({ hostname: 'cem.local' });
  leaf = leafOf(lan.chainPem, 'LAN')!;
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A store whose writes of pairings fail (the 500 row). */
class FailingPutStore extends MemoryPairingStore {
  override put(_record: PairingRecord, _tokens: readonly string[]): Promise<void> {
    return Promise.reject(new Error('disk full'));
  }
}

/** A store whose pairing writes wait until the test opens the gate (a slow disk). */
class GatedStore extends MemoryPairingStore {
  #open: () => void = () => undefined;
  readonly gate = new Promise<void>((ok) => (this.#open = ok));
  writing = false;
  release(): void {
    this.#open();
  }
  override async put(record: PairingRecord, tokens: readonly string[]): Promise<void> {
    this.writing = true;
    await this.gate;
    return super.put(record, tokens);
  }
}

interface PairingServer extends TestNode {
  readonly base: string;
  readonly clock: WallClock;
  readonly sim: SimulatedClock;
  /** Every refusal body seen (status ≥ 300), for the leak check; 200 answers legitimately carry ids and tokens. */
  readonly seen: unknown[];
  /** Secrets seen (attempt ids, access tokens), for the leak check. */
  readonly secrets: string[];
  post(path: string, body?: unknown, bearer?: string): Promise<{ status: number; json: unknown }>;
  /** requestPairing after moving the clock past the 1 s spacing. */
  request(overrides?: Record<string, unknown>, client?: NodeDescription): Promise<{ status: number; json: unknown }>;
  /** Opens an attempt (200 expected) and remembers its id as a secret. */
  open(
    overrides?: Record<string, unknown>,
    client?: NodeDescription,
  ): Promise<{ attemptId: string; response: string; serverChallenge: Uint8Array }>;
  expectClean(before: string): Promise<void>;
}

async function pairingServer(
  options: { nodes?: readonly S2ConnectNode[]; store?: PairingStore; repeated?: boolean; throttle?: ThrottleOptions } = {},
): Promise<PairingServer> {
  const clock = new WallClock();
  const sim = new SimulatedClock();
  const nodes = options.nodes ?? [{ description: CEM, alias: 'A0' }];
  const node = await startNode(
    {
      nodes,
      deployment: 'LAN',
      certs: lan,
      hostname: 'cem.local',
      now: clock.now,
      clock: sim,
      ...(options.store ? { store: options.store } : {}),
      ...(options.throttle ? { throttle: options.throttle } : {}),
    },
    cleanup,
  );
  if (options.repeated !== false) for (const n of nodes) node.server.allowPairingRepeated(TOKEN_B64, n.description.id);
  const base = node.server.url;
  const seen: unknown[] = [];
  const secrets: string[] = [TOKEN_B64];
  const post = async (path: string, body?: unknown, bearer?: string) => {
    const answer = await call(base, path, body, bearer);
    if (answer.status >= 300) seen.push(answer.json);
    return answer;
  };
  const server: PairingServer = {
    ...node,
    base,
    clock,
    sim,
    seen,
    secrets,
    post,
    request: (overrides = {}, client = RM) => {
      clock.advance(1_000);
      return post('v1/requestPairing', requestPairingBody(client, overrides));
    },
    open: async (overrides = {}, client = RM) => {
      clock.advance(1_000);
      const attempt = await openAttempt(base, client, TOKEN, leaf, overrides);
      secrets.push(attempt.attemptId);
      return attempt;
    },
    expectClean: async (before) => {
      expect(await snapshot(node.store)).toBe(before);
      expectNoSecret([...seen, ...node.events], secrets);
      expect(node.errors).toEqual([]);
    },
  };
  return server;
}

const parsingError = { errorMessage: 'ParsingError' };

describe('S2 Connect pairing server against hostile clients: requestPairing (digest §9)', () => {
  it('[S2C §9, §8 row 11] non-JSON, wrong content type, missing field, bad base64 and a short challenge → 400 ParsingError', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const url = new URL('v1/requestPairing', s.base).toString();
    const valid = JSON.stringify(requestPairingBody(RM));
    const notJson = await rawRequest(url, { headers: { 'Content-Type': 'application/json' }, body: '{"clientNodeDescription": ' });
    expect([notJson.status, JSON.parse(notJson.text)]).toEqual([400, parsingError]);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data; boundary=x']) {
      const wrongType = await rawRequest(url, { headers: { 'Content-Type': type }, body: valid });
      expect([type, wrongType.status, JSON.parse(wrongType.text)]).toEqual([type, 400, parsingError]);
    }
    const noType = await rawRequest(url, { body: valid });
    expect(noType.status).toBe(400);
    const { clientHmacChallenge: _dropped, ...missing } = requestPairingBody(RM);
    for (const body of [
      missing,
      requestPairingBody(RM, { clientHmacChallenge: '!!!not base64!!!' }),
      requestPairingBody(RM, { clientHmacChallenge: `${encodeBase64(randomChallenge(32)).slice(0, -1)}` }), // padding cut off
      requestPairingBody(RM, { clientHmacChallenge: encodeBase64(randomChallenge(32)).replace(/=$/, '').replace(/.$/, 'B=') }), // non-canonical trailing bits
      requestPairingBody(RM, { clientHmacChallenge: encodeBase64(randomChallenge(32)).replace(/\+|\//g, '-') + 'AAAA' }), // URL-safe alphabet
      requestPairingBody(RM, { clientHmacChallenge: encodeBase64(randomChallenge(31)) }), // < 32 bytes
      requestPairingBody(RM, { clientHmacChallenge: encodeBase64(randomChallenge(16)) }),
      requestPairingBody(RM, { supportedHmacHashingAlgorithms: 'SHA256' }),
      requestPairingBody(RM, { clientNodeDescription: { ...RM, role: 'GATEWAY' } }),
      requestPairingBody(RM, { clientNodeDescription: { ...RM, id: 'not-a-uuid' } }),
      requestPairingBody(RM, { forcePairing: 'yes' }),
      [requestPairingBody(RM)],
      'requestPairing',
    ]) {
      s.clock.advance(1_000);
      const answer = await s.post('v1/requestPairing', body);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject(parsingError);
    }
    await s.expectClean(before);
  });

  it('[S2C §9] a body over 64 KiB → 413, declared or streamed, and the server answers normally afterwards', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const url = new URL('v1/requestPairing', s.base).toString();
    const huge = JSON.stringify(requestPairingBody(RM, { padding: 'x'.repeat(70 * 1024) }));
    const declared = await rawRequest(url, {
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(huge) },
      body: huge,
    });
    expect(declared.status).toBe(413);
    const chunked = await rawRequest(url, { headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: huge });
    expect(chunked.status).toBe(413);
    // Just under the cap is read normally (and refused for its content, not its size).
    const under = JSON.stringify(requestPairingBody(RM, { padding: 'x'.repeat(60 * 1024) }));
    s.clock.advance(1_000);
    expect((await rawRequest(url, { headers: { 'Content-Type': 'application/json' }, body: under })).status).toBe(200);
    await s.expectClean(before);
  });

  it('[S2C §9] a client that disconnects in the middle of its body: no handler error, nothing stored, the server goes on', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const socket = tls.connect({ host: '127.0.0.1', port: s.server.port, servername: 'cem.local', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    socket.write(
      'POST /v1/requestPairing HTTP/1.1\r\nHost: cem.local\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"clientNodeDescription":',
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(s.errors).toEqual([]);
    expect((await s.request()).status).toBe(200);
    await s.expectClean(before);
  });

  it('[S2C §9] no SHA256 offered → 400 IncompatibleHmacHashingAlgorithms', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    for (const algorithms of [[], ['SHA512'], ['sha256'], ['HMAC-SHA256']]) {
      const answer = await s.request({ supportedHmacHashingAlgorithms: algorithms });
      expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleHmacHashingAlgorithms' }]);
    }
    await s.expectClean(before);
  });

  it('[S2C §9] unknown nodeId or alias → 400 NodeNotFound; an alias off the pattern → 400 ParsingError; both ids → 400 ParsingError', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    for (const overrides of [{ nodeId: CEM2.id }, { nodeIdAlias: 'B1' }, { nodeIdAlias: 'a0' }]) {
      const answer = await s.request(overrides);
      expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NodeNotFound' }]);
    }
    for (const overrides of [
      { nodeIdAlias: 'A-0' },
      { nodeIdAlias: 'A_0' },
      { nodeIdAlias: '' },
      { nodeIdAlias: 'Ä0' },
      { nodeId: CEM.id, nodeIdAlias: 'A0' },
    ]) {
      const answer = await s.request(overrides);
      expect([answer.status, answer.json]).toMatchObject([400, parsingError]);
    }
    // null means absent (RS writes both keys, one null): these are fine.
    expect((await s.request({ nodeId: null, nodeIdAlias: 'A0' })).status).toBe(200);
    await s.expectClean(before);
  });

  it('[S2C §9] neither nodeId nor alias on a multi-node endpoint → 400 NoNodeIdProvided', async () => {
    const s = await pairingServer({
      nodes: [
        { description: CEM, alias: 'A0' },
        { description: CEM2, alias: 'B1' },
      ],
    });
    const before = await snapshot(s.store);
    const answer = await s.request();
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NoNodeIdProvided' }]);
    await s.expectClean(before);
  });

  it('[S2C §9, §8 row 13] node without an active or unexpired token → 400 NoValidPairingTokenOnPairingServer', async () => {
    const s = await pairingServer({ repeated: false });
    const before = await snapshot(s.store);
    let answer = await s.request();
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NoValidPairingTokenOnPairingServer' }]);
    // A one-time token older than 15 min.
    const { code } = s.server.allowPairingOnce();
    s.secrets.push(code.split('-')[1]!);
    s.clock.advance(15 * 60_000);
    answer = await s.request();
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NoValidPairingTokenOnPairingServer' }]);
    // A long-lived token that was withdrawn.
    s.server.allowPairingRepeated(TOKEN_B64);
    s.server.disallowPairing();
    answer = await s.request();
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'NoValidPairingTokenOnPairingServer' }]);
    await s.expectClean(before);
  });

  it('[S2C §9] same role as the target → 400 InvalidCombinationOfRoles', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const answer = await s.request({}, { ...CEM2 });
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'InvalidCombinationOfRoles' }]);
    await s.expectClean(before);
  });

  it('[S2C §9] no common protocol or message version → 400 IncompatibleCommunicationProtocols / IncompatibleS2MessageVersions', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    let answer = await s.request({ supportedCommunicationProtocols: ['MQTT'] });
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleCommunicationProtocols' }]);
    answer = await s.request({ supportedS2MessageVersions: ['9.9.9'] });
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleS2MessageVersions' }]);
    answer = await s.request({ supportedS2MessageVersions: [] });
    expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'IncompatibleS2MessageVersions' }]);
    await s.expectClean(before);
  });

  it('[S2C §9] forcePairing with incompatible versions → 200, pairing proceeds, and initiateSession later → 400 IncompatibleS2MessageVersions', async () => {
    const s = await pairingServer();
    const attempt = await s.open({ supportedS2MessageVersions: ['9.9.9'], forcePairing: true });
    const details = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId);
    expect(details.status).toBe(200);
    const accessToken = (details.json as { accessToken: string }).accessToken;
    s.secrets.push(accessToken);
    expect((await s.post('v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(204);
    expect((await s.store.get(CEM.id, RM.id))?.record.remoteMessageVersions).toEqual(['9.9.9']);
    const initiate = await s.post(
      'v1/initiateSession',
      { clientNodeId: RM.id, serverNodeId: CEM.id, supportedS2MessageVersions: ['9.9.9'], supportedCommunicationProtocols: ['WebSocket'] },
      accessToken,
    );
    expect([initiate.status, initiate.json]).toMatchObject([400, { errorMessage: 'IncompatibleS2MessageVersions' }]);
    expectNoSecret([...s.seen.slice(1), ...s.events], [TOKEN_B64, attempt.attemptId]);
  });

  it('[S2C §9, §8 row 21] a second requestPairing while an attempt lives → 503; more than one attempt per second → 503', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const attempt = await s.open();
    const busy = await s.request();
    expect(busy.status).toBe(503);
    expect(busy.json).toBeUndefined();
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(204);
    // The attempt is gone, but the node had one less than a second ago.
    expect((await s.post('v1/requestPairing', requestPairingBody(RM))).status).toBe(503);
    s.clock.advance(1_000);
    expect((await s.post('v1/requestPairing', requestPairingBody(RM))).status).toBe(200);
    await s.expectClean(before);
  });

  it('[S2C §9, §8] reflection: a client challenge equal or HMAC-equivalent to an outstanding server challenge → 400 Other', async () => {
    // Two nodes sharing a long-lived token: one live attempt per node does not stop a reflection across nodes.
    const s = await pairingServer({
      nodes: [
        { description: CEM, alias: 'A0' },
        { description: CEM2, alias: 'B1' },
      ],
    });
    const before = await snapshot(s.store);
    const challenge = new Uint8Array(64);
    challenge.set(randomChallenge(48));
    challenge[47] = 0xff; // exactly 16 trailing zero bytes
    forced.serverChallenge = challenge;
    const attempt = await s.open({ nodeIdAlias: 'A0' });
    expect(attempt.serverChallenge).toEqual(challenge);
    const stripped = challenge.slice(0, 48);
    const padded = new Uint8Array(56);
    padded.set(stripped);
    // What makes these dangerous: B would answer exactly the R_s that attempt A waits for.
    for (const c of [stripped, padded]) expect(hmacResponse(c, TOKEN, leaf)).toEqual(hmacResponse(challenge, TOKEN, leaf));
    for (const c of [challenge, stripped, padded]) {
      const answer = await s.request({ nodeIdAlias: 'B1', clientHmacChallenge: encodeBase64(c) });
      expect([answer.status, answer.json]).toMatchObject([400, { errorMessage: 'Other' }]);
    }
    // A challenge that merely shares a prefix is no reflection.
    const other = challenge.slice();
    other[0] = other[0]! ^ 1;
    const fine = await s.request({ nodeIdAlias: 'B1', clientHmacChallenge: encodeBase64(other) });
    expect(fine.status).toBe(200);
    s.secrets.push((fine.json as { pairingAttemptId: string }).pairingAttemptId);
    // Attempt A was not disturbed: it completes honestly.
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId)).status).toBe(
      200,
    );
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(204);
    await s.expectClean(before);
  });

  it('[S2C §9] retry after a one-time token was burnt by a failed attempt → 400 NoValidPairingTokenOnPairingServer', async () => {
    const s = await pairingServer({ repeated: false });
    const before = await snapshot(s.store);
    const { code } = s.server.allowPairingOnce();
    const token = Uint8Array.from(Buffer.from(code.split('-')[1]!, 'base64'));
    s.secrets.push(code.split('-')[1]!);
    s.clock.advance(1_000);
    const attempt = await openAttempt(s.base, RM, token, leaf);
    s.secrets.push(attempt.attemptId);
    const wrong = encodeBase64(hmacResponse(attempt.serverChallenge, Uint8Array.from(Buffer.alloc(9, 1)), leaf));
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: wrong }, attempt.attemptId)).status).toBe(403);
    const retry = await s.request();
    expect([retry.status, retry.json]).toMatchObject([400, { errorMessage: 'NoValidPairingTokenOnPairingServer' }]);
    await s.expectClean(before);
  });
});

describe('S2 Connect pairing server against hostile clients: the attempt calls (digest §9)', () => {
  it('[S2C §9] missing, non-Bearer or malformed Authorization on the three attempt calls → 401', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const attempt = await s.open();
    const bodies: Record<string, unknown> = {
      'v1/requestConnectionDetails': { serverHmacChallengeResponse: attempt.response },
      'v1/postConnectionDetails': {
        serverHmacChallengeResponse: attempt.response,
        connectionDetails: { initiateSessionUrl: 'https://rm.example.test/', accessToken: encodeBase64(randomChallenge(32)) },
      },
      'v1/finalizePairing': { success: true },
    };
    for (const [path, body] of Object.entries(bodies)) {
      for (const authorization of [
        undefined,
        `Basic ${attempt.attemptId}`,
        'Bearer',
        'Bearer ',
        `Bearer ${attempt.attemptId} extra`,
        `Token ${attempt.attemptId}`,
        `Bearer\t`,
      ]) {
        const answer = await rawRequest(new URL(path, s.base).toString(), {
          headers: { 'Content-Type': 'application/json', ...(authorization === undefined ? {} : { Authorization: authorization }) },
          body: JSON.stringify(body),
        });
        expect([path, authorization, answer.status]).toEqual([path, authorization, 401]);
        s.seen.push(answer.text);
      }
    }
    // None of that touched the attempt: it still completes.
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId)).status).toBe(
      200,
    );
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(204);
    await s.expectClean(before);
  });

  it('[S2C §9] unknown or already finalized pairingAttemptId → 401', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const unknown = encodeBase64(randomChallenge(32));
    for (const path of ['v1/requestConnectionDetails', 'v1/finalizePairing']) {
      expect(
        (
          await s.post(
            path,
            path.endsWith('Pairing') ? { success: true } : { serverHmacChallengeResponse: encodeBase64(randomChallenge(32)) },
            unknown,
          )
        ).status,
      ).toBe(401);
    }
    const attempt = await s.open();
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(204);
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(401);
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId)).status).toBe(
      401,
    );
    await s.expectClean(before);
  });

  it('[S2C §9] guessing attempt ids or responses: 401/403 count against the source, then 429 even for a live attempt', async () => {
    const s = await pairingServer({ throttle: { failures: 3, windowMs: 60_000 } });
    const before = await snapshot(s.store);
    const attempt = await s.open();
    const guess = { serverHmacChallengeResponse: encodeBase64(randomChallenge(32)) };
    expect((await s.post('v1/requestConnectionDetails', guess, encodeBase64(randomChallenge(32)))).status).toBe(401);
    expect((await s.post('v1/finalizePairing', { success: true }, encodeBase64(randomChallenge(32)))).status).toBe(401);
    expect((await s.request()).status).toBe(503); // the node is busy; not a failed credential
    expect((await s.post('v1/finalizePairing', { success: false }, attempt.attemptId)).status).toBe(204);
    const second = await s.open();
    expect((await s.post('v1/requestConnectionDetails', guess, second.attemptId)).status).toBe(403);
    const third = await s.open();
    const blocked = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: third.response }, third.attemptId);
    expect(blocked.status).toBe(429);
    await s.expectClean(before);
  });

  it('[S2C §9, §3.8] an attempt older than 15 s → 401, destroyed; a client that never finalizes leaves nothing stored', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const early = await s.open();
    s.sim.increment(14_999);
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: early.response }, early.attemptId)).status).toBe(
      200,
    );
    s.sim.increment(1);
    // Details were fetched but finalize comes too late.
    expect((await s.post('v1/finalizePairing', { success: true }, early.attemptId)).status).toBe(401);
    await eventually(() => s.events.some((e) => e.type === 'pairing-failed' && e.outcome === 'expired'));
    const late = await s.open();
    s.sim.increment(15_000);
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: late.response }, late.attemptId)).status).toBe(401);
    // The access token handed out to the expired attempt never became valid.
    await s.expectClean(before);
  });

  it('[S2C §9, §3.4] a wrong serverHmacChallengeResponse → 403 and the attempt is destroyed (wrong token, WAN formula, swapped key, wrong length)', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const { createHmac } = await import('node:crypto');
    const wrongs: Array<(c: Uint8Array) => Uint8Array> = [
      (c) => hmacResponse(c, Uint8Array.from(Buffer.alloc(12, 7)), leaf), // wrong token
      (c) => hmacResponse(c, TOKEN), // WAN formula against a LAN server
      (c) => Uint8Array.from(createHmac('sha256', TOKEN).update(c).update(leaf).digest()), // key and message swapped
      (c) => hmacResponse(c, TOKEN, sha256('another leaf')), // another leaf (a man in the middle)
      (c) => hmacResponse(c, TOKEN, leaf).slice(0, 16), // truncated
    ];
    for (const wrong of wrongs) {
      const attempt = await s.open();
      const answer = await s.post(
        'v1/requestConnectionDetails',
        { serverHmacChallengeResponse: encodeBase64(wrong(attempt.serverChallenge)) },
        attempt.attemptId,
      );
      expect(answer.status).toBe(403);
      expect(answer.json).toBeUndefined();
      // Destroyed: even the right response is now an unknown attempt.
      expect(
        (await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId)).status,
      ).toBe(401);
    }
    await s.expectClean(before);
  });

  it('[S2C §9] requestConnectionDetails twice, or after postConnectionDetails → 401 and the attempt is destroyed', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const attempt = await s.open();
    const first = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId);
    expect(first.status).toBe(200);
    s.secrets.push((first.json as { accessToken: string }).accessToken);
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: attempt.response }, attempt.attemptId)).status).toBe(
      401,
    );
    expect((await s.post('v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(401);
    await s.expectClean(before);

    // The reverse direction: an RM pairing server, a CEM client that posts, then also requests.
    const r = await pairingServer({ nodes: [{ description: RM, alias: 'RMA' }] });
    const rBefore = await snapshot(r.store);
    const posted = await r.open({}, CEM);
    const details = {
      initiateSessionUrl: 'https://cem.local:8443/',
      accessToken: encodeBase64(randomChallenge(32)),
      certificateFingerprint: { SHA256: lan.rootPin },
    };
    r.secrets.push(details.accessToken);
    expect(
      (
        await r.post(
          'v1/postConnectionDetails',
          { serverHmacChallengeResponse: posted.response, connectionDetails: details },
          posted.attemptId,
        )
      ).status,
    ).toBe(204);
    expect((await r.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: posted.response }, posted.attemptId)).status).toBe(
      401,
    );
    expect((await r.post('v1/finalizePairing', { success: true }, posted.attemptId)).status).toBe(401);
    await r.expectClean(rBefore);
  });

  it('[S2C §9, §8 row 14] the wrong one of request/postConnectionDetails for role × deployment → 400', async () => {
    // RM (LAN) → CEM (LAN): the CEM serves, so the client must request; posting is refused.
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const attempt = await s.open();
    const details = { initiateSessionUrl: 'https://rm.example.test/', accessToken: encodeBase64(randomChallenge(32)) };
    s.secrets.push(details.accessToken);
    expect(
      (
        await s.post(
          'v1/postConnectionDetails',
          { serverHmacChallengeResponse: attempt.response, connectionDetails: details },
          attempt.attemptId,
        )
      ).status,
    ).toBe(400);
    expect((await s.post('v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(401);
    // RM (WAN) → CEM (LAN): the WAN client serves, so requesting is refused.
    const wan = await s.open({ clientEndpointDescription: { deployment: 'WAN' } });
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: wan.response }, wan.attemptId)).status).toBe(400);
    await s.expectClean(before);
  });

  it('[S2C §9, §8 row 9] postConnectionDetails without certificateFingerprint for a .local initiate URL → 400', async () => {
    const r = await pairingServer({ nodes: [{ description: RM, alias: 'RMA' }] });
    const before = await snapshot(r.store);
    const attempt = await r.open({}, CEM);
    const details = { initiateSessionUrl: 'https://cem.local:8443/', accessToken: encodeBase64(randomChallenge(32)) };
    r.secrets.push(details.accessToken);
    const answer = await r.post(
      'v1/postConnectionDetails',
      { serverHmacChallengeResponse: attempt.response, connectionDetails: details },
      attempt.attemptId,
    );
    expect([answer.status, answer.json]).toMatchObject([400, parsingError]);
    // A plain http:// initiate URL is refused the same way.
    const insecure = await r.post(
      'v1/postConnectionDetails',
      { serverHmacChallengeResponse: attempt.response, connectionDetails: { ...details, initiateSessionUrl: 'http://cem.example.test/' } },
      attempt.attemptId,
    );
    expect(insecure.status).toBe(400);
    expect((await r.post('v1/finalizePairing', { success: true }, attempt.attemptId)).status).toBe(400);
    await r.expectClean(before);
  });

  it('[S2C §9, §3.6, §8 row 18] finalizePairing{true} before the details → 400; without `success` → 400', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const a = await s.open();
    expect((await s.post('v1/finalizePairing', {}, a.attemptId)).status).toBe(400);
    expect((await s.post('v1/finalizePairing', { success: 'true' }, a.attemptId)).status).toBe(400);
    expect((await s.post('v1/finalizePairing', undefined, a.attemptId)).status).toBe(400);
    expect((await s.post('v1/finalizePairing', { success: true }, a.attemptId)).status).toBe(400);
    // refused is final: the attempt is gone.
    expect((await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: a.response }, a.attemptId)).status).toBe(401);
    await s.expectClean(before);
  });

  it('[S2C §9, §3.6] finalizePairing{false} → 204 and nothing persisted, before and after the details', async () => {
    const s = await pairingServer();
    const before = await snapshot(s.store);
    const a = await s.open();
    expect((await s.post('v1/finalizePairing', { success: false }, a.attemptId)).status).toBe(204);
    const b = await s.open();
    const details = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: b.response }, b.attemptId);
    const accessToken = (details.json as { accessToken: string }).accessToken;
    s.secrets.push(accessToken);
    expect((await s.post('v1/finalizePairing', { success: false }, b.attemptId)).status).toBe(204);
    // The handed-out access token is worthless.
    expect(
      (
        await s.post(
          'v1/initiateSession',
          {
            clientNodeId: RM.id,
            serverNodeId: CEM.id,
            supportedS2MessageVersions: ['0.0.2-beta'],
            supportedCommunicationProtocols: ['WebSocket'],
          },
          accessToken,
        )
      ).status,
    ).toBe(401);
    expect(s.events.filter((e) => e.type === 'pairing-failed').map((e) => (e as { outcome: string }).outcome)).toEqual([
      'cancelled',
      'cancelled',
    ]);
    await s.expectClean(before);
  });

  it('[S2C §9, §3.6] a second finalizePairing while the first is being stored → 401 (already finalized); the first gets 204', async () => {
    const store = new GatedStore();
    const s = await pairingServer({ store });
    const a = await s.open();
    const details = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: a.response }, a.attemptId);
    s.secrets.push((details.json as { accessToken: string }).accessToken);
    const first = s.post('v1/finalizePairing', { success: true }, a.attemptId);
    await eventually(() => store.writing);
    const second = await s.post('v1/finalizePairing', { success: true }, a.attemptId);
    const cancel = await s.post('v1/finalizePairing', { success: false }, a.attemptId);
    store.release();
    expect((await first).status).toBe(204);
    expect(second.status).toBe(401);
    expect(cancel.status).toBe(401);
    expect((await s.store.get(CEM.id, RM.id))?.record.communicationRole).toBe('server');
    expectNoSecret([...s.seen, ...s.events], s.secrets);
  });

  it('[S2C §9, §3.6] finalizePairing{true} when storing fails → 500, nothing stored', async () => {
    const s = await pairingServer({ store: new FailingPutStore() });
    const before = await snapshot(s.store);
    const a = await s.open();
    const details = await s.post('v1/requestConnectionDetails', { serverHmacChallengeResponse: a.response }, a.attemptId);
    s.secrets.push((details.json as { accessToken: string }).accessToken);
    const answer = await s.post('v1/finalizePairing', { success: true }, a.attemptId);
    expect(answer.status).toBe(500);
    expect(s.events).toContainEqual({ type: 'pairing-failed', nodeId: CEM.id, outcome: 'persistFailed' });
    expect((await s.post('v1/finalizePairing', { success: true }, a.attemptId)).status).toBe(401);
    await s.expectClean(before);
  });
});
