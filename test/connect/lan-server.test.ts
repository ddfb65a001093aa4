/**
 * The LAN-only extensions of the S2 Connect server (digest §2, §3.9, §8 rows 5, 6, 10, 17, §9) over real HTTPS on
 * 127.0.0.1: GET endpoint / nodes, preparePairing, cancelPreparePairing and the waitForPairing long poll (held
 * polls, hold timeout, dropped pollers, duplicate polls, both answer forms and both request key spellings), the
 * off-LAN 401 and WAN 404 rules, the default LAN address classifier, and the long-poll pairing flow in which the
 * user types the client's code here (`requestPairingFrom`) and the client's real `pair()` completes it. Hold and
 * silence timers run on an injected SimulatedClock: no test sleeps for a protocol timeout.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { pair } from '../../src/connect/client.js';
import { encodeBase64, randomChallenge } from '../../src/connect/crypto.js';
import { isLocalAddress, LAN_TIMEOUTS, type LanServerOptions } from '../../src/connect/lan/lan-server.js';
import type { S2ConnectNode, S2ConnectServerEvent } from '../../src/connect/server.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import type { Deployment, NodeDescription } from '../../src/connect/wire/index.js';
import { CEM, CEM2, Cleanup, RM, RM2, call, eventually, requestPairingBody, resolve, startNode, type TestNode } from './connect-harness.js';

const HOLD_MS = 25_000;

let certs: GeneratedCertificates;
beforeAll(async () => {
  certs = await generateCertificates({ hostname: 'cem.local' });
});
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface LanNode extends TestNode {
  readonly base: string;
  readonly sim: SimulatedClock;
  readonly port: number;
}

async function lanNode(
  options: { lan?: LanServerOptions; nodes?: readonly S2ConnectNode[]; deployment?: Deployment } = {},
): Promise<LanNode> {
  const sim = new SimulatedClock();
  const node = await startNode(
    {
      nodes: options.nodes ?? [{ description: CEM }],
      deployment: options.deployment ?? 'LAN',
      certs,
      hostname: 'cem.local',
      clock: sim,
      ...(options.lan ? { lan: options.lan } : {}),
    },
    cleanup,
  );
  return { ...node, base: node.server.url, sim, port: node.server.port };
}

interface Answer {
  readonly status: number;
  readonly json: unknown;
}

/** A poll (or any POST) whose socket the test can destroy while it is held. */
function openPoll(s: LanNode, body: unknown, path = 'v1/waitForPairing'): { readonly done: Promise<Answer>; destroy(): void } {
  const text = JSON.stringify(body);
  const req = https.request({
    host: '127.0.0.1',
    port: s.port,
    path: `/${path}`,
    method: 'POST',
    servername: 'cem.local',
    rejectUnauthorized: false,
    agent: false,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
  });
  const done = new Promise<Answer>((ok, fail) => {
    req.once('error', fail);
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.once('end', () => {
        const raw = Buffer.concat(parts).toString('utf8');
        ok({ status: res.statusCode ?? 0, json: raw === '' ? undefined : (JSON.parse(raw) as unknown) });
      });
    });
  });
  req.end(text);
  return { done, destroy: () => req.destroy() };
}

/** Resolves once the server holds a poll for every one of `ids`. */
const held = (s: LanNode, ...ids: string[]) =>
  eventually(() => ids.every((id) => s.server.waitingClients().find((c) => c.clientNodeId === id)?.polling === true));

const get = (s: LanNode, path: string) => call(s.base, path, undefined, undefined, 'GET');
const post = (s: LanNode, path: string, body: unknown) => call(s.base, path, body);
const ofType = <T extends S2ConnectServerEvent['type']>(events: readonly S2ConnectServerEvent[], type: T) =>
  events.filter((e): e is Extract<S2ConnectServerEvent, { type: T }> => e.type === type);

const LAN_ROUTES: readonly (readonly ['GET' | 'POST', string, unknown])[] = [
  ['GET', 'v1/endpoint', undefined],
  ['GET', 'v1/nodes', undefined],
  ['POST', 'v1/preparePairing', { clientNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' }, serverNodeId: CEM.id }],
  ['POST', 'v1/cancelPreparePairing', { clientNodeId: RM.id, serverNodeId: CEM.id }],
  ['POST', 'v1/waitForPairing', [{ clientNodeId: RM.id }]],
];

describe('LAN-only routes: who may call them (digest §3.9, §8 row 10, §9)', () => {
  it('[S2C §3.9, §9] a source off the LAN gets 401 on every LAN-only route, and nothing happens', async () => {
    const seen: string[] = [];
    const s = await lanNode({ lan: { isLocalAddress: (a) => (seen.push(a), false) } });
    for (const [method, path, body] of LAN_ROUTES) {
      const answer = await call(s.base, path, body, undefined, method);
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
    expect(seen.length).toBe(LAN_ROUTES.length);
    expect(seen.every((a) => a === '127.0.0.1' || a === '::ffff:127.0.0.1')).toBe(true);
    expect(s.server.waitingClients()).toEqual([]);
    expect(s.events.filter((e) => e.type !== 'refused')).toEqual([]);
    // The pairing API itself is not LAN-gated.
    expect((await post(s, 'v1/requestPairing', requestPairingBody(RM))).status).toBe(400);
  });

  it('[S2C §8 row 10] a WAN endpoint answers 404 on every LAN-only route (even from the LAN)', async () => {
    const s = await lanNode({ deployment: 'WAN' });
    for (const [method, path, body] of LAN_ROUTES) {
      const answer = await call(s.base, path, body, undefined, method);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    expect(s.server.waitingClients()).toEqual([]);
  });

  it('[S2C §3.9] the default classifier: loopback, RFC 1918, link-local, unique-local and IPv4-mapped forms are local', () => {
    const local = [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.178.20',
      '169.254.10.1',
      '::1',
      '0:0:0:0:0:0:0:1',
      'fe80::1',
      'fe80::1c2:3ff:fe44:5566%eth0',
      'febf::1',
      'fd12:3456:789a::1',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:192.168.1.10',
      '::FFFF:10.0.0.1',
      '::ffff:c0a8:10a',
    ];
    const notLocal = [
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '192.169.0.1',
      '100.64.0.1',
      '11.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '2001:db8::1',
      '2a00:1450:4001:82a::200e',
      'fec0::1',
      '::',
      '::2',
      '::ffff:8.8.8.8',
      '::ffff:100.64.0.1',
      '64:ff9b::c0a8:101',
      'unknown',
      '',
      '1.2.3',
      '256.1.1.1',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1::2',
    ];
    for (const a of local) expect(isLocalAddress(a), a).toBe(true);
    for (const a of notLocal) expect(isLocalAddress(a), a).toBe(false);
  });
});

describe('GET v1/endpoint, GET v1/nodes (digest §3.9)', () => {
  it('[S2C §3.9, §8 row 22] 200 with the endpoint (deployment included) and every node of the endpoint', async () => {
    const s = await lanNode({ nodes: [{ description: CEM }, { description: CEM2, alias: 'B1' }] });
    const endpoint = await get(s, 'v1/endpoint');
    expect([endpoint.status, endpoint.json]).toEqual([200, { name: 'test endpoint', deployment: 'LAN' }]);
    const nodes = await get(s, 'v1/nodes');
    expect([nodes.status, nodes.json]).toEqual([200, [CEM, CEM2]]);
  });
});

describe('POST v1/preparePairing, v1/cancelPreparePairing (digest §3.9, §8 row 17)', () => {
  const prepare = (serverNodeId: unknown, client: NodeDescription = RM) => ({
    clientNodeDescription: client,
    clientEndpointDescription: { deployment: 'LAN' },
    serverNodeId,
  });

  it('[S2C §3.9] 204 and a prepare-pairing event for a node of this endpoint; 204 without event for an unknown node', async () => {
    const s = await lanNode();
    expect((await post(s, 'v1/preparePairing', prepare(CEM.id))).status).toBe(204);
    expect(ofType(s.events, 'prepare-pairing')).toEqual([
      { type: 'prepare-pairing', clientNode: RM, clientEndpoint: { deployment: 'LAN' }, serverNodeId: CEM.id },
    ]);
    expect((await post(s, 'v1/preparePairing', prepare(CEM2.id))).status).toBe(204);
    expect(ofType(s.events, 'prepare-pairing').length).toBe(1);
  });

  it('[S2C §3.9, §8 rows 11, 17] 400 ParsingError for a body without serverNodeId; 400 InvalidCombinationOfRoles for a same-role client', async () => {
    const s = await lanNode();
    const missing = await post(s, 'v1/preparePairing', { clientNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' } });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ errorMessage: 'ParsingError' });
    const sameRole = await post(s, 'v1/preparePairing', prepare(CEM.id, CEM2));
    expect([sameRole.status, sameRole.json]).toEqual([400, { errorMessage: 'InvalidCombinationOfRoles' }]);
    expect(ofType(s.events, 'prepare-pairing')).toEqual([]);
  });

  it('[S2C §3.9] cancelPreparePairing: 204 and an event for any node pair, 400 only for an unreadable body', async () => {
    const s = await lanNode();
    expect((await post(s, 'v1/cancelPreparePairing', { clientNodeId: RM.id, serverNodeId: CEM.id })).status).toBe(204);
    expect((await post(s, 'v1/cancelPreparePairing', { clientNodeId: RM.id, serverNodeId: CEM2.id })).status).toBe(204);
    expect(ofType(s.events, 'cancel-prepare-pairing')).toEqual([
      { type: 'cancel-prepare-pairing', clientNodeId: RM.id, serverNodeId: CEM.id },
      { type: 'cancel-prepare-pairing', clientNodeId: RM.id, serverNodeId: CEM2.id },
    ]);
    expect((await post(s, 'v1/cancelPreparePairing', { clientNodeId: 'not-a-uuid', serverNodeId: CEM.id })).status).toBe(400);
  });

  it('[S2C §3.9] a polling client that posts preparePairing is prepared; its cancel cancels', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    await post(s, 'v1/preparePairing', prepare(CEM.id));
    expect(s.server.waitingClients()[0]?.state).toBe('prepared');
    await post(s, 'v1/cancelPreparePairing', { clientNodeId: RM.id, serverNodeId: CEM.id });
    expect(s.server.waitingClients()[0]?.state).toBe('cancelled');
    s.sim.increment(HOLD_MS);
    expect((await poll.done).status).toBe(204);
  });
});

describe('POST v1/waitForPairing, the long poll (digest §3.9, §8 rows 5, 6, §9)', () => {
  it('[S2C §3.9, §3.8] a poll is held, reported as client-waiting, and answered 204 after the hold time', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    const waiting = ofType(s.events, 'client-waiting');
    expect(waiting.length).toBe(1);
    expect(waiting[0]?.client).toMatchObject({ clientNodeId: RM.id, polling: true, state: 'idle' });
    expect(waiting[0]?.client.node).toBeUndefined();
    s.sim.increment(HOLD_MS - 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.server.waitingClients()[0]?.polling, '1 ms before the hold time').toBe(true);
    s.sim.increment(1);
    expect(await poll.done).toEqual({ status: 204, json: undefined });
    expect(s.server.waitingClients()[0]).toMatchObject({ clientNodeId: RM.id, polling: false });
  });

  it('[S2C §3.9] a short holdMs without injected clock works as well', async () => {
    const node = await startNode({ node: CEM, deployment: 'LAN', certs, hostname: 'cem.local', lan: { holdMs: 50 } }, cleanup);
    const started = Date.now();
    const answer = await call(node.server.url, 'v1/waitForPairing', [{ clientNodeId: RM.id }]);
    expect(answer.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('[S2C §3.9, §8 row 5] askClient answers the held poll at once; descriptions sent on the next poll are kept and reported', async () => {
    const s = await lanNode();
    const first = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    s.server.askClient(RM.id, 'sendNodeDescription');
    expect(await first.done).toEqual({ status: 200, json: [{ clientNodeId: RM.id, action: 'sendNodeDescription' }] });
    expect(s.server.waitingClients()[0]?.state).toBe('describing');
    // OAS spelling of the key: array answers.
    const second = openPoll(s, [{ clientNodeId: RM.id, clientNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' } }]);
    await held(s, RM.id);
    expect(s.server.waitingClients()).toEqual([
      expect.objectContaining({ clientNodeId: RM.id, node: RM, endpoint: { deployment: 'LAN' }, polling: true, state: 'idle' }),
    ]);
    const waiting = ofType(s.events, 'client-waiting');
    expect(waiting.length).toBe(2);
    expect(waiting[1]?.client.node).toEqual(RM);
    s.server.askClient(RM.id, 'preparePairing');
    expect(await second.done).toEqual({ status: 200, json: [{ clientNodeId: RM.id, action: 'preparePairing' }] });
    expect(s.server.waitingClients()[0]?.state).toBe('prepared');
    // The same descriptions again: no new client-waiting.
    const third = openPoll(s, [{ clientNodeId: RM.id, clientNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' } }]);
    await held(s, RM.id);
    expect(ofType(s.events, 'client-waiting').length).toBe(2);
    s.server.askClient(RM.id, 'cancelPreparePairing');
    expect(await third.done).toEqual({ status: 200, json: [{ clientNodeId: RM.id, action: 'cancelPreparePairing' }] });
    expect(s.server.waitingClients()[0]?.state).toBe('cancelled');
  });

  it('[S2C §8 rows 5, 6] the RS key clienNodeDescription is read, and then the answer is one object with one action', async () => {
    const s = await lanNode();
    const rs = openPoll(s, [
      { clientNodeId: RM.id, clienNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' }, errorMessage: null },
      { clientNodeId: RM2.id, clienNodeDescription: null, clientEndpointDescription: null, errorMessage: null },
    ]);
    await held(s, RM.id, RM2.id);
    expect(s.server.waitingClients().find((c) => c.clientNodeId === RM.id)?.node).toEqual(RM);
    // Queued for the second node while the poll is held, then for the first: one action per answer.
    s.server.askClient(RM2.id, 'preparePairing');
    expect(await rs.done).toEqual({ status: 200, json: { clientNodeId: RM2.id, action: 'preparePairing' } });
    s.server.askClient(RM.id, 'sendNodeDescription');
    s.server.askClient(RM2.id, 'cancelPreparePairing');
    const items = [
      { clientNodeId: RM.id, clienNodeDescription: null },
      { clientNodeId: RM2.id, clienNodeDescription: null },
    ];
    expect(await post(s, 'v1/waitForPairing', items)).toMatchObject({
      status: 200,
      json: { clientNodeId: RM.id, action: 'sendNodeDescription' },
    });
    expect(await post(s, 'v1/waitForPairing', items)).toMatchObject({
      status: 200,
      json: { clientNodeId: RM2.id, action: 'cancelPreparePairing' },
    });
    // The same queue in the OAS form: both nodes in one array, at most one item per node.
    s.server.askClient(RM.id, 'preparePairing');
    s.server.askClient(RM.id, 'cancelPreparePairing');
    s.server.askClient(RM2.id, 'sendNodeDescription');
    const oas = [{ clientNodeId: RM.id }, { clientNodeId: RM2.id }];
    expect(await post(s, 'v1/waitForPairing', oas)).toMatchObject({
      status: 200,
      json: [
        { clientNodeId: RM.id, action: 'preparePairing' },
        { clientNodeId: RM2.id, action: 'sendNodeDescription' },
      ],
    });
    expect(await post(s, 'v1/waitForPairing', oas)).toMatchObject({
      status: 200,
      json: [{ clientNodeId: RM.id, action: 'cancelPreparePairing' }],
    });
  });

  it('[S2C §3.9, §9] 400 for a second poll of a client node already held, duplicate ids in one request, an empty or unreadable body', async () => {
    const s = await lanNode();
    const first = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM2.id }, { clientNodeId: RM.id }])).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM2.id }, { clientNodeId: RM2.id }])).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [])).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: 'x' }])).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM2.id, errorMessage: 'Other' }])).status).toBe(400);
    expect(s.server.waitingClients().map((c) => c.clientNodeId)).toEqual([RM.id]);
    s.sim.increment(HOLD_MS);
    expect((await first.done).status).toBe(204);
  });

  it('[S2C §3.9] 503 when maxPollers polls are held', async () => {
    const s = await lanNode({ lan: { maxPollers: 1 } });
    const first = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    const busy = await post(s, 'v1/waitForPairing', [{ clientNodeId: RM2.id }]);
    expect(busy.status).toBe(503);
    s.sim.increment(HOLD_MS);
    expect((await first.done).status).toBe(204);
    const again = openPoll(s, [{ clientNodeId: RM2.id }]);
    await held(s, RM2.id);
    s.sim.increment(HOLD_MS);
    expect((await again.done).status).toBe(204);
  });

  it('[S2C §3.9] 503 when a poll would make more than LAN_TIMEOUTS.maxClients client nodes known; forgotten ones make room', async () => {
    const s = await lanNode();
    const many = Array.from({ length: LAN_TIMEOUTS.maxClients }, () => ({ clientNodeId: randomUUID() }));
    const first = openPoll(s, many);
    await held(s, many[0]!.clientNodeId);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).status).toBe(503);
    s.sim.increment(HOLD_MS);
    expect((await first.done).status).toBe(204);
    // Released, but still remembered until 2 × holdMs without a poll.
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).status).toBe(503);
    s.sim.increment(2 * HOLD_MS);
    expect(s.server.waitingClients()).toHaveLength(0);
    const later = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    s.sim.increment(HOLD_MS);
    expect((await later.done).status).toBe(204);
  });

  it('[S2C §3.9] 400 when long polling is off (option), and for held polls when it is switched off', async () => {
    const off = await lanNode({ lan: { longPolling: false } });
    expect((await post(off, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).status).toBe(400);
    expect((await get(off, 'v1/endpoint')).status).toBe(200);
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    s.server.setLongPolling(false);
    expect((await poll.done).status).toBe(400);
    expect((await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).status).toBe(400);
    s.server.setLongPolling(true);
    const back = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    s.server.askClient(RM.id, 'preparePairing');
    expect((await back.done).status).toBe(200);
  });

  it('[S2C §3.9, §9] a poller whose socket closes mid-hold is dropped; its next poll is accepted and gets what was queued', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    poll.destroy();
    await expect(poll.done).rejects.toThrow();
    await eventually(() => s.server.waitingClients()[0]?.polling === false);
    s.server.askClient(RM.id, 'sendNodeDescription');
    expect(await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).toMatchObject({
      status: 200,
      json: [{ clientNodeId: RM.id, action: 'sendNodeDescription' }],
    });
    expect(s.errors).toEqual([]);
  });

  it('[S2C §9] a client node that stops polling is gone after 2 × holdMs (client-gone); a poll restarts it', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    s.sim.increment(HOLD_MS);
    expect((await poll.done).status).toBe(204);
    s.sim.increment(2 * HOLD_MS - 1);
    expect(s.server.waitingClients().length).toBe(1);
    s.sim.increment(1);
    expect(s.server.waitingClients()).toEqual([]);
    expect(ofType(s.events, 'client-gone')).toEqual([{ type: 'client-gone', clientNodeId: RM.id }]);
    expect(() => s.server.askClient(RM.id, 'preparePairing')).toThrow(/NodeNotFound|no client node/);
    const again = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    expect(ofType(s.events, 'client-waiting').length).toBe(2);
    s.sim.increment(HOLD_MS);
    await again.done;
  });

  it('[S2C §3.9] a poll item with errorMessage: one client-error event, shown in waitingClients until a poll comes without it', async () => {
    const s = await lanNode();
    const item = { clientNodeId: RM.id, errorMessage: 'NoValidTokenOnPairingClient' };
    for (let i = 0; i < 2; i++) {
      const poll = openPoll(s, [item]);
      await held(s, RM.id);
      s.sim.increment(HOLD_MS);
      await poll.done;
    }
    expect(ofType(s.events, 'client-error')).toEqual([
      { type: 'client-error', clientNodeId: RM.id, errorMessage: 'NoValidTokenOnPairingClient' },
    ]);
    expect(s.server.waitingClients()[0]?.errorMessage).toBe('NoValidTokenOnPairingClient');
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    expect(s.server.waitingClients()[0]?.errorMessage).toBeUndefined();
    s.sim.increment(HOLD_MS);
    await poll.done;
  });
});

describe('requestPairingFrom: the user types the long-polling client its code (digest §1 (c), §3.9)', () => {
  const rmCode = () => encodeBase64(randomChallenge(12));

  it('[S2C §1, §3.3, §3.9] the client is told to call requestPairing; its pair() naming no node pairs with the chosen node of a multi-node endpoint', async () => {
    const s = await lanNode({ nodes: [{ description: CEM }, { description: CEM2 }] });
    const code = rmCode();
    const rmStore = new MemoryPairingStore();
    // Without the code typed here, a requestPairing naming no node on this endpoint is refused.
    expect((await post(s, 'v1/requestPairing', requestPairingBody(RM))).json).toEqual({ errorMessage: 'NoNodeIdProvided' });
    const poll = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    expect(() => s.server.requestPairingFrom(RM.id, code)).toThrow(/NoNodeIdProvided|name the node/);
    expect(() => s.server.requestPairingFrom(RM2.id, code, CEM2.id)).toThrow(/no client node/);
    const offer = s.server.requestPairingFrom(RM.id, code, CEM2.id);
    expect(offer.code).toBe(code);
    expect(offer.expiresAt).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(await poll.done).toEqual({ status: 200, json: [{ clientNodeId: RM.id, action: 'requestPairing' }] });
    expect(s.server.waitingClients()[0]?.state).toBe('requested');
    const record = await pair({ code, pairingUrl: s.base, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve });
    expect(record.remoteNodeId).toBe(CEM2.id);
    expect(record.communicationRole).toBe('client');
    await eventually(() => ofType(s.events, 'paired').length === 1);
    expect(ofType(s.events, 'paired')[0]?.pairing).toMatchObject({ localNodeId: CEM2.id, remoteNodeId: RM.id });
    expect(await s.store.get(CEM2.id, RM.id)).toBeDefined();
    expect(s.server.waitingClients()[0]?.state).toBe('paired');
    // The code was for one pairing: it does not work a second time.
    await expect(
      pair({
        code,
        pairingUrl: s.base,
        node: RM,
        endpoint: { deployment: 'LAN' },
        store: new MemoryPairingStore(),
        resolve,
        nodeId: CEM2.id,
      }),
    ).rejects.toMatchObject({ errorMessage: 'NoValidPairingTokenOnPairingServer' });
  });

  it('[S2C §3.4, §3.9] the client pairing with another code fails the requested pairing (state failed); the default node of a one-node endpoint', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: RM.id, clientNodeDescription: RM, clientEndpointDescription: { deployment: 'LAN' } }]);
    await held(s, RM.id);
    s.server.requestPairingFrom(RM.id, rmCode());
    expect((await poll.done).json).toEqual([{ clientNodeId: RM.id, action: 'requestPairing' }]);
    await expect(
      pair({ code: rmCode(), pairingUrl: s.base, node: RM, endpoint: { deployment: 'LAN' }, store: new MemoryPairingStore(), resolve }),
    ).rejects.toThrow();
    await eventually(() => s.server.waitingClients()[0]?.state === 'failed');
    expect(ofType(s.events, 'pairing-failed').length).toBe(1);
    expect(await s.store.list()).toEqual([]);
  });

  it('[S2C §3.3, §3.9] refused: a same-role client (InvalidCombinationOfRoles), a malformed code; a cancelled offer is not delivered', async () => {
    const s = await lanNode();
    const poll = openPoll(s, [{ clientNodeId: CEM2.id, clientNodeDescription: CEM2, clientEndpointDescription: { deployment: 'LAN' } }]);
    await held(s, CEM2.id);
    expect(() => s.server.requestPairingFrom(CEM2.id, rmCode())).toThrow(/CEM too/);
    s.sim.increment(HOLD_MS);
    await poll.done;
    const rm = openPoll(s, [{ clientNodeId: RM.id }]);
    await held(s, RM.id);
    expect(() => s.server.requestPairingFrom(RM.id, 'not-a-code-')).toThrow();
    s.sim.increment(HOLD_MS);
    expect((await rm.done).status).toBe(204);
    // Typed while no poll is held, cancelled before the next poll: the next poll gets only the cancel.
    s.server.requestPairingFrom(RM.id, rmCode());
    s.server.askClient(RM.id, 'cancelPreparePairing');
    expect(await post(s, 'v1/waitForPairing', [{ clientNodeId: RM.id }])).toMatchObject({
      status: 200,
      json: [{ clientNodeId: RM.id, action: 'cancelPreparePairing' }],
    });
    expect(s.server.waitingClients().find((c) => c.clientNodeId === RM.id)?.state).toBe('cancelled');
    const body = requestPairingBody(RM);
    expect((await post(s, 'v1/requestPairing', body)).json).toEqual({ errorMessage: 'NoValidPairingTokenOnPairingServer' });
  });
});
