/**
 * The LAN client calls of S2 Connect (src/connect/lan/lan-client.ts; digest §2, §3.9, §8 rows 5, 6, 10) against a
 * scripted HTTPS server on 127.0.0.1 (`cem.local`): every status of getEndpoint, listNodes, preparePairing,
 * cancelPreparePairing, and the long poll — both answer forms, both description keys, the error item of a node
 * without a token, actions in order, back-off on the poller's injected clock (no sleeps), stop() aborting a held
 * poll, and a pairing started by `requestPairing` against a real S2 Connect server.
 */
import type http from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { encodeBase64, formatPairingCode, randomChallenge } from '../../src/connect/crypto.js';
import { S2ConnectError } from '../../src/connect/errors.js';
import { createConnectHttpServer, type ConnectHttpServer, type RouteAnswer } from '../../src/connect/http/https-server.js';
import {
  cancelPreparePairing,
  getEndpoint,
  listNodes,
  preparePairing,
  waitForPairing,
  type LongPollClient,
  type WaitForPairingOptions,
} from '../../src/connect/lan/lan-client.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import type { NodeDescription } from '../../src/connect/wire/index.js';
import { CEM, Cleanup, RM, RM2, resolve, startNode } from './connect-harness.js';

const RM3: NodeDescription = {
  id: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e06',
  brand: 's2-engine',
  type: 'pv',
  modelName: 'third RM',
  role: 'RM',
};
const ENDPOINT = { name: 'gateway', deployment: 'LAN' } as const;
const code = (): string => encodeBase64(randomChallenge(9));

let certs: GeneratedCertificates;
beforeAll(async () => {
  certs = await generateCertificates({ hostname: 'cem.local' });
});
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A request the scripted server holds until the test answers it. */
interface Held {
  readonly body: unknown;
  answer(a: RouteAnswer): void;
}

/** Resolves when the condition holds; polls real time only as a guard against a hang (protocol timers are simulated). */
async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not reached in time: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A scripted LAN server: fixed answers for the one-shot calls, held answers for the polls, records of everything. */
class Scripted {
  http!: ConnectHttpServer;
  url = '';
  readonly polls: Held[] = [];
  readonly bodies: Record<string, unknown[]> = {};
  answers: Record<string, RouteAnswer> = {};
  /** Poll requests whose connection closed before they were answered (an aborted poll). */
  closedUnanswered = 0;

  async start(): Promise<this> {
    const fixed = (path: string, method: 'GET' | 'POST') => ({
      method,
      path: `v1/${path}`,
      handle: ({ body }: { body: unknown }) => {
        (this.bodies[path] ??= []).push(body);
        return this.answers[path] ?? { status: 500 };
      },
    });
    this.http = await createConnectHttpServer({
      tls: { cert: certs.chainPem, key: certs.keyPem },
      routes: [
        fixed('endpoint', 'GET'),
        fixed('nodes', 'GET'),
        fixed('preparePairing', 'POST'),
        fixed('cancelPreparePairing', 'POST'),
        fixed('requestPairing', 'POST'),
        {
          method: 'POST',
          path: 'v1/waitForPairing',
          handle: ({ body }) =>
            new Promise<RouteAnswer>((answer) => {
              this.polls.push({ body, answer });
            }),
        },
      ],
    });
    this.http.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url?.endsWith('waitForPairing')) res.once('close', () => !res.writableFinished && this.closedUnanswered++);
    });
    this.url = `https://cem.local:${this.http.port}/`;
    cleanup.add(() => this.http.close());
    return this;
  }

  /** The `n`th poll (0-based), once it arrived. */
  async poll(n: number): Promise<Held> {
    await until(() => this.polls.length > n, `poll #${n}`);
    return this.polls[n]!;
  }
}

const scripted = (): Promise<Scripted> => new Scripted().start();

function poller(
  s: Scripted,
  extra: Partial<WaitForPairingOptions> & { log?: string[] } = {},
): { client: LongPollClient; log: string[]; errors: unknown[] } {
  const log = extra.log ?? [];
  const errors: unknown[] = [];
  const client = waitForPairing({
    store: new MemoryPairingStore(),
    resolve,
    longpollingUrl: s.url,
    endpoint: ENDPOINT,
    nodes: [{ node: RM }],
    onAction: (id, action) => log.push(`${action}(${id.slice(0, 4)})`),
    onError: (err) => errors.push(err),
    ...extra,
  });
  cleanup.add(() => client.stop());
  return { client, log, errors };
}

describe('S2 Connect LAN client: one-shot calls (§3.9)', () => {
  it('[S2C §3.9] getEndpoint: 200 ⇒ the description; 401 off-LAN, 404 not served (§8 row 10), bad body, no answer ⇒ typed errors', async () => {
    const s = await scripted();
    s.answers.endpoint = { status: 200, body: { name: 'home', deployment: 'LAN', extra: 1 } };
    expect(await getEndpoint(s.url, { resolve })).toEqual({ name: 'home', deployment: 'LAN' });
    s.answers.endpoint = { status: 401 };
    await expect(getEndpoint(s.url, { resolve })).rejects.toMatchObject({ errorMessage: 'Unauthorized', httpStatus: 401 });
    s.answers.endpoint = { status: 404 };
    await expect(getEndpoint(s.url, { resolve })).rejects.toMatchObject({ errorMessage: 'NotFound', httpStatus: 404 });
    s.answers.endpoint = { status: 200, body: { deployment: 'MOON' } };
    await expect(getEndpoint(s.url, { resolve })).rejects.toMatchObject({ errorMessage: 'UnexpectedResponse' });
    await s.http.close();
    await expect(getEndpoint(s.url, { resolve, timeoutMs: 2_000 })).rejects.toMatchObject({ errorMessage: 'TransportFailed' });
  });

  it('[S2C §3.9] listNodes: 200 ⇒ every node (ids lowercased); 401, 404, 503 ⇒ typed errors', async () => {
    const s = await scripted();
    s.answers.nodes = { status: 200, body: [{ ...CEM, id: CEM.id.toUpperCase() }, RM] };
    expect(await listNodes(s.url.slice(0, -1), { resolve })).toEqual([CEM, RM]);
    for (const [status, name] of [
      [401, 'Unauthorized'],
      [404, 'NotFound'],
      [503, 'Busy'],
    ] as const) {
      s.answers.nodes = { status };
      await expect(listNodes(s.url, { resolve })).rejects.toMatchObject({ errorMessage: name, httpStatus: status });
    }
    s.answers.nodes = { status: 200, body: { not: 'a list' } };
    await expect(listNodes(s.url, { resolve })).rejects.toBeInstanceOf(S2ConnectError);
  });

  it('[S2C §3.9] preparePairing: the OAS body with serverNodeId (§8 row 17); 204 ⇒ done; 400 names (OAS and RS) and 401/503 ⇒ errors', async () => {
    const s = await scripted();
    s.answers.preparePairing = { status: 204 };
    await preparePairing(s.url, { clientNode: RM, clientEndpoint: ENDPOINT, serverNodeId: CEM.id }, { resolve });
    expect(s.bodies.preparePairing).toEqual([{ clientNodeDescription: RM, clientEndpointDescription: ENDPOINT, serverNodeId: CEM.id }]);
    const cases: [RouteAnswer, Record<string, unknown>][] = [
      [
        { status: 400, body: { errorMessage: 'InvalidCombinationOfRoles' } },
        { errorMessage: 'InvalidCombinationOfRoles', httpStatus: 400 },
      ],
      [
        { status: 400, body: { errorMessage: 'S2NodeNotFound' } },
        { errorMessage: 'NodeNotFound', httpStatus: 400 },
      ],
      [{ status: 400, body: { errorMessage: 'ParsingError' } }, { errorMessage: 'ParsingError' }],
      [{ status: 400 }, { errorMessage: 'BadRequest' }],
      [{ status: 401 }, { errorMessage: 'Unauthorized' }],
      [{ status: 404 }, { errorMessage: 'NotFound' }],
      [{ status: 503 }, { errorMessage: 'Busy' }],
    ];
    for (const [answer, expected] of cases) {
      s.answers.preparePairing = answer;
      await expect(
        preparePairing(s.url, { clientNode: RM, clientEndpoint: ENDPOINT, serverNodeId: CEM.id }, { resolve }),
      ).rejects.toMatchObject(expected);
    }
    // An endpoint description without deployment is refused before sending (always send it, §8 row 22).
    await expect(
      preparePairing(s.url, { clientNode: RM, clientEndpoint: { name: 'x' }, serverNodeId: CEM.id }, { resolve }),
    ).rejects.toMatchObject({ errorMessage: 'InvalidOutgoingBody' });
  });

  it('[S2C §3.9] cancelPreparePairing: 204 ⇒ done (body has both ids); 400, 401, 404, no answer ⇒ errors', async () => {
    const s = await scripted();
    s.answers.cancelPreparePairing = { status: 204 };
    await cancelPreparePairing(s.url, { clientNodeId: RM.id, serverNodeId: CEM.id }, { resolve });
    expect(s.bodies.cancelPreparePairing).toEqual([{ clientNodeId: RM.id, serverNodeId: CEM.id }]);
    for (const status of [400, 401, 404]) {
      s.answers.cancelPreparePairing = { status };
      await expect(cancelPreparePairing(s.url, { clientNodeId: RM.id, serverNodeId: CEM.id }, { resolve })).rejects.toMatchObject({
        httpStatus: status,
      });
    }
    await s.http.close();
    await expect(cancelPreparePairing(s.url, { clientNodeId: RM.id, serverNodeId: CEM.id }, { resolve })).rejects.toMatchObject({
      errorMessage: 'TransportFailed',
    });
  });
});

describe('S2 Connect LAN client: the long poll waitForPairing (§3.9)', () => {
  it('[S2C §3.9] one poller for three nodes: no descriptions until asked; 204 ⇒ poll again at once', async () => {
    const s = await scripted();
    const { client } = poller(s, { nodes: [{ node: RM }, { node: RM2 }, { node: RM3 }] });
    const first = await s.poll(0);
    expect(first.body).toEqual([{ clientNodeId: RM.id }, { clientNodeId: RM2.id }, { clientNodeId: RM3.id }]);
    first.answer({ status: 204 });
    const second = await s.poll(1);
    expect(second.body).toEqual(first.body);
    expect(client.state().value).toBe('polling');
    expect(client.state().polls).toBe(2);
  });

  it('[S2C §3.9, §8 rows 5, 6] sendNodeDescription (OAS array, then RS single object) ⇒ the next poll carries the descriptions under both keys, once', async () => {
    const s = await scripted();
    const { log } = poller(s, { nodes: [{ node: RM }, { node: RM2 }] });
    (await s.poll(0)).answer({ status: 200, body: [{ clientNodeId: RM2.id, action: 'sendNodeDescription' }] });
    const described = await s.poll(1);
    expect(described.body).toEqual([
      { clientNodeId: RM.id },
      { clientNodeId: RM2.id, clientNodeDescription: RM2, clienNodeDescription: RM2, clientEndpointDescription: ENDPOINT },
    ]);
    // RS server form: one object, not an array.
    described.answer({ status: 200, body: { clientNodeId: RM.id, action: 'sendNodeDescription' } });
    const rsForm = await s.poll(2);
    expect(rsForm.body).toEqual([
      { clientNodeId: RM.id, clientNodeDescription: RM, clienNodeDescription: RM, clientEndpointDescription: ENDPOINT },
      { clientNodeId: RM2.id },
    ]);
    rsForm.answer({ status: 204 });
    expect((await s.poll(3)).body).toEqual([{ clientNodeId: RM.id }, { clientNodeId: RM2.id }]);
    expect(log).toEqual([`sendNodeDescription(${RM2.id.slice(0, 4)})`, `sendNodeDescription(${RM.id.slice(0, 4)})`]);
  });

  it('[S2C §3.9] the actions of one answer are handled in order; requestPairing for a node without a token ⇒ NoValidTokenOnPairingClient on the next poll', async () => {
    const s = await scripted();
    const { log, errors } = poller(s, { nodes: [{ node: RM }, { node: RM2 }, { node: RM3 }] });
    (await s.poll(0)).answer({
      status: 200,
      body: [
        { clientNodeId: RM.id, action: 'preparePairing' },
        { clientNodeId: RM2.id, action: 'sendNodeDescription' },
        { clientNodeId: RM3.id, action: 'requestPairing' },
        { clientNodeId: CEM.id, action: 'preparePairing' },
        { clientNodeId: RM.id, action: 'cancelPreparePairing' },
      ],
    });
    const next = await s.poll(1);
    expect(log).toEqual([
      `preparePairing(${RM.id.slice(0, 4)})`,
      `sendNodeDescription(${RM2.id.slice(0, 4)})`,
      `requestPairing(${RM3.id.slice(0, 4)})`,
      `cancelPreparePairing(${RM.id.slice(0, 4)})`,
    ]);
    expect(next.body).toEqual([
      { clientNodeId: RM.id },
      { clientNodeId: RM2.id, clientNodeDescription: RM2, clienNodeDescription: RM2, clientEndpointDescription: ENDPOINT },
      { clientNodeId: RM3.id, errorMessage: 'NoValidTokenOnPairingClient' },
    ]);
    // The action for a node that does not poll here is reported and ignored.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ errorMessage: 'UnexpectedResponse' });
    // No pairing was attempted.
    expect(s.bodies.requestPairing).toBeUndefined();
    next.answer({ status: 204 });
    expect((await s.poll(2)).body).toEqual([{ clientNodeId: RM.id }, { clientNodeId: RM2.id }, { clientNodeId: RM3.id }]);
  });

  it('[S2C §3.9] requestPairing for a node with a token ⇒ requestPairing naming no node (the printed alias is not sent); a refusal is reported and polling goes on', async () => {
    const s = await scripted();
    s.answers.requestPairing = { status: 400, body: { errorMessage: 'InvalidPairingToken' } };
    const { errors } = poller(s, { nodes: [{ node: RM, code: `RM7-${code()}` }] });
    (await s.poll(0)).answer({ status: 200, body: [{ clientNodeId: RM.id, action: 'requestPairing' }] });
    const after = await s.poll(1);
    expect(after.body).toEqual([{ clientNodeId: RM.id }]);
    expect(s.bodies.requestPairing).toHaveLength(1);
    const sent = s.bodies.requestPairing![0] as Record<string, unknown>;
    expect(sent.clientNodeDescription).toEqual(RM);
    expect(sent).not.toHaveProperty('nodeId');
    expect(sent).not.toHaveProperty('nodeIdAlias');
    expect(errors).toEqual([expect.objectContaining({ errorMessage: 'NoValidPairingTokenOnPairingServer', httpStatus: 400 })]);
  });

  it('[S2C §3.9] requestPairing pairs with the real server on pairingUrl; onPaired has the stored pairing; polling goes on while paired', async () => {
    const s = await scripted();
    const cem = await startNode({ node: CEM, deployment: 'LAN', certs, hostname: 'cem.local' }, cleanup);
    const store = new MemoryPairingStore();
    const paired: unknown[] = [];
    const { code: offered } = cem.server.allowPairingOnce();
    poller(s, { store, pairingUrl: cem.server.url, nodes: [{ node: RM, code: offered }], onPaired: (p) => paired.push(p) });
    (await s.poll(0)).answer({ status: 200, body: { clientNodeId: RM.id, action: 'requestPairing' } });
    await s.poll(1);
    expect(paired).toEqual([expect.objectContaining({ localNodeId: RM.id, remoteNodeId: CEM.id, communicationRole: 'client' })]);
    expect((await store.list()).map((p) => p.remoteNodeId)).toEqual([CEM.id]);
    expect(await cem.store.get(CEM.id, RM.id)).toBeDefined();
  });

  it('[S2C §3.9] 503 and failed polls back off on the injected clock (1 s, 2 s, 4 s … max), reset by a 204', async () => {
    const s = await scripted();
    const clock = new SimulatedClock();
    const { client, errors } = poller(s, { clock, backoff: { initialMs: 1_000, maxMs: 3_000 } });
    const state = () => client.state().value;
    (await s.poll(0)).answer({ status: 503 });
    await until(() => state() === 'backingOff', 'backing off');
    expect(errors).toEqual([expect.objectContaining({ errorMessage: 'Busy', httpStatus: 503 })]);
    clock.increment(999);
    await new Promise((r) => setImmediate(r));
    expect(s.polls).toHaveLength(1);
    clock.increment(1);
    // Unreadable 200 (no action list): counted as a failed poll.
    (await s.poll(1)).answer({ status: 200, body: { nothing: true } });
    await until(() => state() === 'backingOff', 'backing off again');
    expect(errors[1]).toMatchObject({ errorMessage: 'UnexpectedResponse' });
    expect(client.state().delayMs).toBe(2_000);
    clock.increment(1_999);
    await new Promise((r) => setImmediate(r));
    expect(s.polls).toHaveLength(2);
    clock.increment(1);
    (await s.poll(2)).answer({ status: 500 });
    await until(() => state() === 'backingOff', 'third back-off');
    expect(client.state().delayMs).toBe(3_000); // capped at maxMs
    clock.increment(3_000);
    (await s.poll(3)).answer({ status: 204 });
    await s.poll(4);
    expect(client.state().delayMs).toBe(1_000);
  });

  it('[S2C §3.9] no answer at all (connection refused) ⇒ TransportFailed reported, then the next poll after the back-off', async () => {
    const s = await scripted();
    const port = s.http.port;
    await s.http.close();
    const clock = new SimulatedClock();
    const { client, errors } = poller(s, { clock });
    await until(() => client.state().value === 'backingOff', 'backing off');
    expect(errors[0]).toMatchObject({ errorMessage: 'TransportFailed' });
    expect(client.state().delayMs).toBe(1_000);
    clock.increment(1_000);
    await until(() => errors.length === 2, 'second failed poll');
    expect(client.state().delayMs).toBe(2_000);
    expect(port).toBeGreaterThan(0);
  });

  it.each([
    [400, 'unavailable'],
    [401, 'off-lan'],
    [404, 'not-implemented'],
  ] as const)('[S2C §3.9, §8 row 10] %i ⇒ polling stops with outcome %s', async (status, reason) => {
    const s = await scripted();
    const { client } = poller(s);
    (await s.poll(0)).answer({ status });
    await expect(client.done).resolves.toEqual({ reason });
    expect(client.state().status).toBe('done');
    expect(s.polls).toHaveLength(1);
  });

  it('[S2C §3.9] stop() aborts the held poll (its connection closes) and resolves; done says stopped', async () => {
    const s = await scripted();
    const { client } = poller(s);
    const held = await s.poll(0);
    await client.stop();
    await expect(client.done).resolves.toEqual({ reason: 'stopped' });
    await until(() => s.closedUnanswered === 1, 'the held poll closed by the client');
    held.answer({ status: 204 }); // too late: nobody listens
    await new Promise((r) => setTimeout(r, 20));
    expect(s.polls).toHaveLength(1);
  });

  it('refuses a node given twice and a code that does not read, before polling', async () => {
    const s = await scripted();
    const base = { store: new MemoryPairingStore(), resolve, longpollingUrl: s.url, endpoint: ENDPOINT };
    expect(() => waitForPairing({ ...base, nodes: [{ node: RM }, { node: { ...RM, id: RM.id.toUpperCase() } }] })).toThrow(/twice/);
    expect(() => waitForPairing({ ...base, nodes: [{ node: RM, code: 'not a code!' }] })).toThrow(S2ConnectError);
    expect(() => waitForPairing({ ...base, nodes: [{ node: RM, code: formatPairingCode(undefined, randomChallenge(4)) }] })).toThrow(
      S2ConnectError,
    );
    expect(() => waitForPairing({ ...base, nodes: [] })).toThrow(RangeError);
    expect(s.polls).toHaveLength(0);
  });
});
