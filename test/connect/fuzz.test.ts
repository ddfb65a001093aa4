/**
 * Fuzzing the S2 Connect HTTP endpoints of createS2ConnectServer with fast-check, over real HTTPS on 127.0.0.1:
 * random JSON-ish bodies, well-formed bodies with one field replaced (wrong types, huge strings, deep nesting,
 * random base64), raw bytes, odd content types and Authorization headers, on every route and some that do not
 * exist — and on the attempt calls with a live attempt id, so that the statechart behind them is reached.
 * Properties: never a 5xx (the tables allow 500 only for storage failures, which do not happen here), no handler
 * error, no secret in any answer or event, and the server still serves a valid pairing afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { generateCertificates } from '../../src/connect/certificates.js';
import { pair } from '../../src/connect/client.js';
import { encodeBase64 } from '../../src/connect/crypto.js';
import { MemoryPairingStore } from '../../src/connect/store/index.js';
import {
  CEM,
  Cleanup,
  RM,
  WallClock,
  expectNoSecret,
  leafOf,
  openAttempt,
  rawRequest,
  requestPairingBody,
  resolve,
  startNode,
  type TestNode,
} from './connect-harness.js';

const TOKEN = Uint8Array.from(Buffer.from('5566778899aabbccddeeff00', 'hex'));
const TOKEN_B64 = encodeBase64(TOKEN);

const cleanup = new Cleanup();
const clock = new WallClock();
/** The attempt machines' clock: a fuzzed requestPairing may leave an attempt open; 15 s on this clock end it. */
const sim = new SimulatedClock();
let cem: TestNode;
let leaf: Uint8Array;
/** A real access token of a real pairing (RM ↔ CEM), so that the session routes see valid credentials too. */
let accessToken: string;
const answers: string[] = [];

beforeAll(async () => {
  const lan = await generateCertificates({ hostname: 'cem.local' });
  leaf = leafOf(lan.chainPem, 'LAN')!;
  cem = await startNode(
    { node: CEM, alias: 'A0', deployment: 'LAN', certs: lan, hostname: 'cem.local', now: clock.now, clock: sim },
    cleanup,
  );
  const rmStore = new MemoryPairingStore();
  await pair({
    code: cem.server.allowPairingOnce().code,
    pairingUrl: cem.server.url,
    node: RM,
    endpoint: { deployment: 'LAN' },
    store: rmStore,
    resolve,
  });
  accessToken = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens[0]!;
  cem.server.allowPairingRepeated(TOKEN_B64);
});
afterAll(() => cleanup.run());

const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => encodeBase64(b));

const TEMPLATES: Readonly<Record<string, () => unknown>> = {
  'v1/requestPairing': () => requestPairingBody(RM, { nodeIdAlias: 'A0' }),
  'v1/requestConnectionDetails': () => ({ serverHmacChallengeResponse: encodeBase64(new Uint8Array(32)) }),
  'v1/postConnectionDetails': () => ({
    serverHmacChallengeResponse: encodeBase64(new Uint8Array(32)),
    connectionDetails: { initiateSessionUrl: 'https://rm.example.test/', accessToken: encodeBase64(new Uint8Array(32).fill(1)) },
  }),
  'v1/finalizePairing': () => ({ success: true }),
  'v1/initiateSession': () => ({
    clientNodeId: RM.id,
    serverNodeId: CEM.id,
    supportedS2MessageVersions: ['0.0.2-beta'],
    supportedCommunicationProtocols: ['WebSocket'],
  }),
  'v1/initiateConnection': () => ({
    clientNodeId: RM.id,
    serverNodeId: CEM.id,
    supportedS2MessageVersions: ['0.0.2-beta'],
    supportedCommunicationProtocols: ['WebSocket'],
  }),
  'v1/confirmAccessToken': () => ({}),
  'v1/unpair': () => ({ clientNodeId: CEM.id, serverNodeId: RM.id }), // swapped on purpose: never really unpairs
};
const ROUTES = Object.keys(TEMPLATES);

/** Values that do not belong where they are put. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1e308, '', '=', 'A0', RM.id, 'SHA256', 'WebSocket', 'https://x/', 'wss://x/', '__proto__'),
  b64(0)
    .chain(() => fc.integer({ min: 0, max: 96 }))
    .chain((n) => b64(n)),
  fc.integer({ min: 1, max: 3000 }).map((n) => 'x'.repeat(n * 30)),
  fc.integer({ min: 1, max: 3000 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'SHA256', 'SHA265', 'id', 'role'), fc.jsonValue({ maxDepth: 2 })),
);

/** A well-formed body with one field (possibly nested) replaced, deleted or added. */
function mutate(template: unknown, op: 'set' | 'delete' | 'add', index: number, value: unknown): unknown {
  if (typeof template !== 'object' || template === null) return value;
  const copy = structuredClone(template) as Record<string, unknown>;
  const keys = Object.keys(copy);
  const key = keys[index % Math.max(keys.length, 1)];
  if (op === 'add' || key === undefined) copy[`extra${index}`] = value;
  else if (op === 'delete') delete copy[key];
  else if (index % 3 === 0 && typeof copy[key] === 'object' && copy[key] !== null && !Array.isArray(copy[key]))
    copy[key] = mutate(copy[key], 'set', Math.floor(index / 3), value);
  else copy[key] = value;
  return copy;
}

const bodyFor = (route: string): fc.Arbitrary<string | Buffer | undefined> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom<'set' | 'delete' | 'add'>('set', 'set', 'delete', 'add'), fc.nat(50), weird)
        .map(([op, i, v]) => JSON.stringify(mutate(TEMPLATES[route]?.() ?? {}, op, i, v))),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 4000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 60, max: 90 })
        .map((k) => JSON.stringify({ ...(TEMPLATES[route]?.() as object), pad: 'y'.repeat(k * 1024) })),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  b64(32).map((t) => `Bearer ${t}`),
  printable.map((t) => `Bearer ${t}`),
  printable,
  fc.constantFrom('Bearer', 'Bearer ', 'bearer  abc  ', 'Basic dXNlcjpwYXNz', `Bearer ${'A'.repeat(5000)}`, 'Bearer a b', 'Bearer ==='),
  fc.constant('REAL_ACCESS_TOKEN'),
);
const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  '',
  'application/json;',
  'application/jsonx',
  'multipart/form-data',
);

/** Asserts an answer is one the tables allow: below 500, or 503 (busy: an attempt of that node lives) on requestPairing. */
function checkAnswer(status: number, text: string, path: string): void {
  expect(status).toBeGreaterThanOrEqual(200);
  if (!(status === 503 && path.startsWith('v1/requestPairing'))) expect(status).toBeLessThan(500);
  answers.push(text);
  if (status === 400 && text !== '') expect(typeof (JSON.parse(text) as { errorMessage?: unknown }).errorMessage).toBe('string');
}

describe('S2 Connect HTTP endpoints under fuzzing (fast-check)', () => {
  it('[S2C §9] random bodies, content types and Authorization headers on every route: no 5xx, no handler error, no secret out', async () => {
    const paths = fc.constantFrom(
      ...ROUTES,
      'v1/websocket',
      '',
      'v1/',
      'v1/nope',
      'v1/requestPairing/x',
      'v1//unpair',
      'V1/requestPairing',
      'v1/requestPairing?x=1',
    );
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'OPTIONS'),
        authorization,
        contentType,
        fc.nat(),
        async (path, method, auth, type, pick) => {
          const route = ROUTES[pick % ROUTES.length]!;
          const body = fc.sample(bodyFor(ROUTES.includes(path) ? path : route), { numRuns: 1, seed: pick })[0];
          const headers: Record<string, string> = {};
          if (auth !== undefined) headers.Authorization = auth === 'REAL_ACCESS_TOKEN' ? `Bearer ${accessToken}` : auth;
          if (type !== undefined) headers['Content-Type'] = type;
          clock.advance(1_000); // attempt spacing: let requestPairing reach its later checks
          const answer = await rawRequest(new URL(path, cem.server.url).toString(), {
            method,
            headers,
            ...(body === undefined || method === 'GET' ? {} : { body }),
          });
          checkAnswer(answer.status, answer.text, path);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('[S2C §9] random bodies on the attempt calls with a live attempt id: only the statuses of the table', async () => {
    sim.increment(15_000); // whatever attempt the previous property left open expires
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('v1/requestConnectionDetails', 'v1/postConnectionDetails', 'v1/finalizePairing'),
        fc.nat(),
        async (path, seed) => {
          clock.advance(1_000);
          const attempt = await openAttempt(cem.server.url, RM, TOKEN, leaf, { nodeIdAlias: 'A0' });
          const body = fc.sample(bodyFor(path), { numRuns: 1, seed })[0];
          const answer = await rawRequest(new URL(path, cem.server.url).toString(), {
            headers: { Authorization: `Bearer ${attempt.attemptId}`, 'Content-Type': 'application/json' },
            ...(body === undefined ? {} : { body }),
          });
          checkAnswer(answer.status, answer.text, path);
          expect([204, 400, 401, 403, 413]).toContain(answer.status);
          expect(answer.text).not.toContain(attempt.attemptId);
          // Whatever happened, the attempt can be ended and the node takes the next one.
          const end = await rawRequest(new URL('v1/finalizePairing', cem.server.url).toString(), {
            headers: { Authorization: `Bearer ${attempt.attemptId}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ success: false }),
          });
          expect([204, 401]).toContain(end.status);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('[S2C §9] afterwards: no handler error, no secret in answers or events, and a valid pairing still works', async () => {
    expect(cem.errors).toEqual([]);
    expectNoSecret([...answers, ...cem.events], [accessToken, TOKEN_B64]);
    clock.advance(1_000);
    const attempt = await openAttempt(cem.server.url, RM, TOKEN, leaf, { nodeIdAlias: 'A0' });
    const details = await rawRequest(new URL('v1/requestConnectionDetails', cem.server.url).toString(), {
      headers: { Authorization: `Bearer ${attempt.attemptId}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ serverHmacChallengeResponse: attempt.response }),
    });
    expect(details.status).toBe(200);
    const versions = await rawRequest(cem.server.url, { method: 'GET' });
    expect([versions.status, versions.text]).toEqual([200, '["v1"]']);
  });
});
