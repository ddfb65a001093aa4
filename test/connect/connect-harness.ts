/**
 * Shared pieces of the S2 Connect end-to-end tests: node descriptions, a host resolver that maps every test name
 * to 127.0.0.1, a movable wall clock, a raw HTTPS client for requests the real client never sends, store
 * snapshots ("nothing persisted") and the secret-leak check. Everything runs over real HTTPS/WSS on 127.0.0.1.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { connectSession, type S2Session } from '../../src/index.js';
import { certificateFingerprint, encodeBase64, hmacResponse, randomChallenge } from '../../src/connect/crypto.js';
import { httpCall, type HttpAnswer } from '../../src/connect/http/https-client.js';
import { lookupWith } from '../../src/connect/http/tls-trust.js';
import {
  createS2ConnectServer,
  type S2ConnectServer,
  type S2ConnectServerEvent,
  type S2ConnectServerOptions,
} from '../../src/connect/server.js';
import { MemoryPairingStore, type PairingStore } from '../../src/connect/store/index.js';
import type { Transport } from '../../src/transport/transport.js';
import type { Deployment, NodeDescription } from '../../src/connect/wire/index.js';

export const CEM: NodeDescription = {
  id: '0b7f3c1e-4a2d-4d8e-9a51-3f6c2b1d0e01',
  brand: 's2-engine',
  type: 'CEM',
  modelName: 'test CEM',
  role: 'CEM',
};
export const RM: NodeDescription = {
  id: '7d2e9f40-1c3b-4a6d-8e5f-2a9b0c1d3e02',
  brand: 's2-engine',
  type: 'battery',
  modelName: 'test RM',
  role: 'RM',
};
export const CEM2: NodeDescription = {
  id: '5a1d2c3b-6e7f-4a8b-9c0d-1e2f3a4b5c03',
  brand: 's2-engine',
  type: 'CEM',
  modelName: 'second CEM',
  role: 'CEM',
};
export const RM2: NodeDescription = {
  id: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c04',
  brand: 's2-engine',
  type: 'heat pump',
  modelName: 'second RM',
  role: 'RM',
};

/** Every test host name is 127.0.0.1; nothing else is ever contacted. */
export const resolve = (host: string): string | undefined => (host.endsWith('.local') || host.endsWith('.test') ? '127.0.0.1' : undefined);
const lookup = lookupWith(resolve);

/** RM details for the S2 handshake that follows a connect. */
export const rmDetails = (id: string) => ({
  resource_id: id,
  roles: [{ role: 'ENERGY_STORAGE' as const, commodity: 'ELECTRICITY' as const }],
  instruction_processing_delay: 100,
  available_control_types: ['NOT_CONTROLABLE' as const],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1' as const],
});

/** A wall clock the tests move (token expiry, attempt spacing). */
export class WallClock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Clean-ups run after each test, last registered first. */
export class Cleanup {
  readonly #tasks: Array<() => unknown> = [];
  /** `task` may return a promise; it is awaited. */
  add(task: () => unknown): void {
    this.#tasks.push(task);
  }
  async run(): Promise<void> {
    for (const task of this.#tasks.splice(0).reverse()) {
      try {
        await task();
      } catch {
        // a clean-up of something a test already closed
      }
    }
  }
}

export interface TestNode {
  readonly server: S2ConnectServer;
  readonly store: PairingStore;
  readonly events: S2ConnectServerEvent[];
  readonly transports: Transport[];
  readonly errors: unknown[];
}

export type NodeServerOptions = Omit<S2ConnectServerOptions, 'onConnection' | 'store' | 'nodes' | 'endpoint' | 'tls'> &
  Partial<Pick<S2ConnectServerOptions, 'onConnection' | 'store' | 'nodes'>> & {
    readonly node?: NodeDescription | undefined;
    readonly alias?: string | undefined;
    readonly deployment: Deployment;
    readonly certs: { readonly chainPem: string; readonly keyPem: string };
  };

/**
 * An S2 Connect server for one node, recording its events, errors and WebSocket transports. The throttle budget is
 * large unless a test sets it: most tests make more refused calls from 127.0.0.1 than the default allows.
 */
export async function startNode(options: NodeServerOptions, cleanup: Cleanup): Promise<TestNode> {
  const events: S2ConnectServerEvent[] = [];
  const transports: Transport[] = [];
  const errors: unknown[] = [];
  const { node, alias, deployment, certs, store = new MemoryPairingStore(), nodes, onConnection, ...rest } = options;
  const server = await createS2ConnectServer({
    throttle: { failures: 10_000, windowMs: 60_000 },
    ...rest,
    nodes: nodes ?? [{ description: node ?? CEM, ...(alias === undefined ? {} : { alias }) }],
    endpoint: { name: 'test endpoint', deployment },
    tls: { cert: certs.chainPem, key: certs.keyPem },
    store,
    onEvent: (e) => events.push(e),
    onError: (err) => errors.push(err),
    onConnection:
      onConnection ??
      // Not started: a test that runs an S2 session on it starts it (frames are buffered until then).
      ((transport) => {
        transports.push(transport);
      }),
  });
  cleanup.add(() => server.close());
  return { server, store, events, transports, errors };
}

/** Runs the S2 handshake on both ends of a fresh connection; resolves with the agreed version. */
export async function handshake(
  client: Transport,
  clientRole: 'CEM' | 'RM',
  server: Transport,
  rmId: string,
  version: string,
): Promise<{ client: S2Session; server: S2Session }> {
  const sessionOf = (t: Transport, role: 'CEM' | 'RM'): S2Session =>
    connectSession(
      t,
      role === 'RM'
        ? { role, details: rmDetails(rmId), versions: [version], handshakeTimeoutMs: 5_000, logger: false }
        : { role, versions: [version], handshakeTimeoutMs: 5_000, logger: false },
    );
  const c = sessionOf(client, clientRole);
  const s = sessionOf(server, clientRole === 'RM' ? 'CEM' : 'RM');
  await Promise.all(
    [c, s].map(
      (session) =>
        new Promise<void>((ok, fail) => {
          session.on('handshake', () => ok());
          session.on('close', ({ code, reason }) => fail(new Error(`session closed before the handshake: ${code} ${reason}`)));
        }),
    ),
  );
  return { client: c, server: s };
}

/** Waits until `check` holds (polling every few ms), for effects that happen after an answer was sent. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- raw calls ----------------------------------------------------------------------------------------------

/** One JSON call the way a scripted (possibly hostile) peer makes it: TLS trusted on first use. */
export function call(base: string, path: string, body?: unknown, bearer?: string, method: 'GET' | 'POST' = 'POST'): Promise<HttpAnswer> {
  return httpCall({ url: new URL(path, base), method, body, bearer, trust: { kind: 'first-use' }, resolve });
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** A request with everything under the caller's control (content type, raw bytes, odd headers, any method). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  const target = new URL(url);
  return new Promise((ok, fail) => {
    const req = https.request({
      host: target.hostname,
      port: Number(target.port),
      path: `${target.pathname}${target.search}`,
      method: options.method ?? 'POST',
      headers: options.headers ?? {},
      servername: target.hostname,
      rejectUnauthorized: false,
      agent: false,
      ...(lookup ? { lookup } : {}),
    });
    req.once('error', fail);
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.once('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.once('error', fail);
    });
    req.end(options.body);
  });
}

/** A WebSocket upgrade attempt with `Authorization: Bearer <token>` (or none); resolves with the HTTP status or 101. */
export function upgradeStatus(url: string, token?: string): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((ok, fail) => {
    const target = new URL(url);
    const ws = new WebSocket(url, {
      ...(token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
      rejectUnauthorized: false,
      servername: target.hostname,
      ...(lookup ? { lookup } : {}),
    } as WebSocket.ClientOptions);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      ok({ status: res.statusCode ?? 0 });
    });
    ws.once('open', () => ok({ status: 101, socket: ws }));
    ws.once('error', (err) => fail(err));
  });
}

// ---- pairing by hand ----------------------------------------------------------------------------------------

export interface RequestPairingOverrides {
  readonly [key: string]: unknown;
}

/** A well-formed requestPairing body of `client` (OAS dialect), with a fresh 32-byte challenge unless overridden. */
export function requestPairingBody(client: NodeDescription, overrides: RequestPairingOverrides = {}): Record<string, unknown> {
  return {
    clientNodeDescription: client,
    clientEndpointDescription: { deployment: 'LAN' },
    supportedCommunicationProtocols: ['WebSocket'],
    supportedS2MessageVersions: ['0.0.2-beta'],
    supportedHmacHashingAlgorithms: ['SHA256'],
    clientHmacChallenge: encodeBase64(randomChallenge(32)),
    forcePairing: false,
    ...overrides,
  };
}

/** F of a LAN server (SHA-256 of its leaf), undefined on WAN. */
export function leafOf(chainPem: string, deployment: Deployment): Uint8Array | undefined {
  return deployment === 'LAN' ? certificateFingerprint(chainPem) : undefined;
}

export interface OpenedAttempt {
  readonly attemptId: string;
  readonly serverChallenge: Uint8Array;
  /** R_s for this attempt, computed the way an honest client does. */
  readonly response: string;
  readonly answer: HttpAnswer;
}

/** requestPairing by hand; expects 200 and returns the attempt and the honest R_s. */
export async function openAttempt(
  base: string,
  client: NodeDescription,
  token: Uint8Array,
  leaf: Uint8Array | undefined,
  overrides: RequestPairingOverrides = {},
): Promise<OpenedAttempt> {
  const answer = await call(base, 'v1/requestPairing', requestPairingBody(client, overrides));
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  const json = answer.json as { pairingAttemptId: string; serverHmacChallenge: string };
  const serverChallenge = new Uint8Array(Buffer.from(json.serverHmacChallenge, 'base64'));
  return { attemptId: json.pairingAttemptId, serverChallenge, response: encodeBase64(hmacResponse(serverChallenge, token, leaf)), answer };
}

// ---- "nothing persisted", "nothing leaked" ------------------------------------------------------------------

/** Everything a store holds that a test can see: its pairings with their tokens (as JSON, for equality). */
export async function snapshot(store: PairingStore): Promise<string> {
  const out: unknown[] = [];
  for (const record of await store.list()) {
    const found = await store.get(record.localNodeId, record.remoteNodeId);
    out.push({ record, tokens: found?.tokens });
  }
  return JSON.stringify(out);
}

/** Fails if any of `secrets` (non-empty strings) occurs in the JSON of any of `seen`. */
export function expectNoSecret(seen: readonly unknown[], secrets: readonly (string | undefined)[]): void {
  const text = seen.map((s) => (typeof s === 'string' ? s : (JSON.stringify(s) ?? ''))).join('\n');
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue;
    expect(text.includes(secret), 'a secret appears in an answer or an event').toBe(false);
  }
}
