/**
 * Digest §4.2, token rotation failure cases, one test per row, over real HTTPS + WSS: the lost answers and the
 * crash are made by calling the session API by hand (httpCall) and dropping what an answer carried, or by writing
 * the client store the way the client machine does before it died. Each test asserts the status and both stores.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair } from '../../src/connect/client.js';
import { hashToken } from '../../src/connect/crypto.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import {
  CEM,
  Cleanup,
  RM,
  WallClock,
  call,
  eventually,
  expectNoSecret,
  resolve,
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

const INITIATE = {
  clientNodeId: RM.id,
  serverNodeId: CEM.id,
  supportedS2MessageVersions: ['0.0.2-beta'],
  supportedCommunicationProtocols: ['WebSocket'],
};

let clock: WallClock;
let cem: TestNode;
let rmStore: MemoryPairingStore;
/** The token the client holds after pairing. */
let A_old: string;

beforeEach(async () => {
  clock = new WallClock();
  cem = await startNode({ node: CEM, alias: 'A0', deployment: 'LAN', certs: lan, hostname: 'cem.local', now: clock.now }, cleanup);
  rmStore = new MemoryPairingStore();
  await pair({
    code: cem.server.allowPairingOnce().code,
    pairingUrl: cem.server.url,
    node: RM,
    endpoint: { deployment: 'LAN' },
    store: rmStore,
    resolve,
  });
  A_old = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens[0]!;
});

const initiate = (token: string) => call(cem.server.url, 'v1/initiateSession', INITIATE, token);
const confirm = (token: string) => call(cem.server.url, 'v1/confirmAccessToken', undefined, token);
const accessTokenOf = (answer: { json: unknown }): string => (answer.json as { accessToken: string }).accessToken;
const serverTokens = async (): Promise<readonly string[] | undefined> => (await cem.store.get(CEM.id, RM.id))?.tokens.tokens;
const clientTokens = async (): Promise<readonly string[] | undefined> => (await rmStore.get(RM.id, CEM.id))?.tokens.tokens;
/** What the client machine writes before confirming: [the token that worked, A_new]. */
async function storeBoth(worked: string, fresh: string): Promise<void> {
  const { version } = (await rmStore.get(RM.id, CEM.id))!.tokens;
  expect(await rmStore.swapTokens(RM.id, CEM.id, version, [worked, fresh])).toBe(true);
}
async function connectAndCheck(): Promise<string> {
  const connection = await connectPaired({ store: rmStore, resolve });
  connection.transport.close(1000, 'test done');
  const tokens = (await clientTokens())!;
  expect(tokens).toHaveLength(1);
  expect(await serverTokens()).toEqual([hashToken(tokens[0]!)]);
  return tokens[0]!;
}

describe('S2 Connect token rotation failure cases (digest §4.2)', () => {
  it('[S2C §4.2] initiateSession answer lost: the server keeps A_old, the pending A_new dies, A_old still works', async () => {
    const lost = await initiate(A_old);
    expect(lost.status).toBe(200);
    const A_lost = accessTokenOf(lost);
    expect(await serverTokens()).toEqual([hashToken(A_old)]);
    expect(await clientTokens()).toEqual([A_old]);
    const A_next = await connectAndCheck();
    expect([A_old, A_lost]).not.toContain(A_next);
    // The lost pending token was replaced by the newer initiateSession, so it can never be confirmed.
    expect((await confirm(A_lost)).status).toBe(401);
    expect(await serverTokens()).toEqual([hashToken(A_next)]);
  });

  it('[S2C §4.2, §3.8] a pending token not confirmed within 15 s is refused and changes nothing', async () => {
    const pending = accessTokenOf(await initiate(A_old));
    clock.advance(15_001);
    expect((await confirm(pending)).status).toBe(401);
    expect(await serverTokens()).toEqual([hashToken(A_old)]);
    await connectAndCheck();
  });

  it('[S2C §4.2] client dies after storing [A_old, A_new] before confirm: the next connect works with A_old (tried first)', async () => {
    const A_new = accessTokenOf(await initiate(A_old));
    await storeBoth(A_old, A_new);
    // "Restart": a fresh connectPaired reads [A_old, A_new] from the store.
    const before = cem.events.filter((e) => e.type === 'refused').length;
    const A_next = await connectAndCheck();
    expect([A_old, A_new]).not.toContain(A_next);
    // A_old was accepted at once: no refused call on the way.
    expect(cem.events.filter((e) => e.type === 'refused').length).toBe(before);
    expect((await confirm(A_new)).status).toBe(401);
  });

  it('[S2C §4.2] confirm processed but its answer lost: A_old → 401, A_new works, connectPaired succeeds', async () => {
    const A_new = accessTokenOf(await initiate(A_old));
    await storeBoth(A_old, A_new);
    const lost = await confirm(A_new);
    expect(lost.status).toBe(200);
    expect(await serverTokens()).toEqual([hashToken(A_new)]);
    expect(await clientTokens()).toEqual([A_old, A_new]);
    const A_next = await connectAndCheck();
    expect([A_old, A_new]).not.toContain(A_next);
    // The client tried A_old first and was refused once before A_new worked.
    expect(cem.events.filter((e) => e.type === 'refused' && e.path === 'v1/initiateSession' && e.status === 401)).toHaveLength(1);
  });

  it('[S2C §4.2, §9] replay of A_old after a rotation is refused (401) and changes nothing', async () => {
    const A_next = await connectAndCheck();
    const replay = await initiate(A_old);
    expect(replay.status).toBe(401);
    expect(replay.json).toBeUndefined();
    expect(await serverTokens()).toEqual([hashToken(A_next)]);
    expect(await clientTokens()).toEqual([A_next]);
  });

  it('[S2C §4.2, §9] replay of confirmAccessToken with A_new is refused (401): the pending entry was used up', async () => {
    const A_new = accessTokenOf(await initiate(A_old));
    expect((await confirm(A_new)).status).toBe(200);
    const replay = await confirm(A_new);
    expect(replay.status).toBe(401);
    expect(await serverTokens()).toEqual([hashToken(A_new)]);
    // Nor does the confirmed A_new work as a pending token again, and A_old is gone.
    expect((await initiate(A_old)).status).toBe(401);
    expect((await initiate(A_new)).status).toBe(200);
  });

  it('[S2C §4.2, §4.1] replay of the WebSocket token: the first upgrade works, the second gets 401 before any upgrade', async () => {
    const A_new = accessTokenOf(await initiate(A_old));
    const details = (await confirm(A_new)).json as { websocketToken: string; websocketUrl: string; websocket_token: string };
    expect(details.websocket_token).toBe(details.websocketToken);
    const first = await upgradeStatus(details.websocketUrl, details.websocketToken);
    expect(first.status).toBe(101);
    first.socket?.close();
    expect((await upgradeStatus(details.websocketUrl, details.websocketToken)).status).toBe(401);
    await eventually(() => cem.transports.length === 1);
  });

  it('[S2C §4.2, §3.8] late use of the WebSocket token (more than 15 s after it was issued) gets 401, no upgrade', async () => {
    const A_new = accessTokenOf(await initiate(A_old));
    const details = (await confirm(A_new)).json as { websocketToken: string; websocketUrl: string };
    clock.advance(15_001);
    expect((await upgradeStatus(details.websocketUrl, details.websocketToken)).status).toBe(401);
    expect(cem.transports).toHaveLength(0);
  });

  it('[S2C §4.2, §9] two initiateSession with one token: only the newest pending token is confirmable', async () => {
    const A1 = accessTokenOf(await initiate(A_old));
    const A2 = accessTokenOf(await initiate(A_old));
    expect((await confirm(A1)).status).toBe(401);
    expect(await serverTokens()).toEqual([hashToken(A_old)]);
    expect((await confirm(A2)).status).toBe(200);
    expect(await serverTokens()).toEqual([hashToken(A2)]);
  });

  it('[S2C §4.2, §9] two concurrent initiateSession and confirms with one token: exactly one new token wins', async () => {
    const [a, b] = await Promise.all([initiate(A_old), initiate(A_old)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [ca, cb] = await Promise.all([confirm(accessTokenOf(a)), confirm(accessTokenOf(b))]);
    expect([ca.status, cb.status].sort()).toEqual([200, 401]);
    const winner = ca.status === 200 ? accessTokenOf(a) : accessTokenOf(b);
    expect(await serverTokens()).toEqual([hashToken(winner)]);
  });

  it('[S2C §4.2, §9] A_old stolen and used first: the legitimate client gets NotPaired and keeps its pairing', async () => {
    const A_thief = accessTokenOf(await initiate(A_old));
    expect((await confirm(A_thief)).status).toBe(200);
    await expect(connectPaired({ store: rmStore, resolve })).rejects.toMatchObject({ errorMessage: 'NotPaired', httpStatus: 401 });
    // Surfaced, not silently deleted: the pairing and its token are still there.
    expect(await clientTokens()).toEqual([A_old]);
    expect(await serverTokens()).toEqual([hashToken(A_thief)]);
    expectNoSecret(cem.events, [A_old, A_thief]);
  });
});
