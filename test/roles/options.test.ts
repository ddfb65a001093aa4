/**
 * Up-front option checks: a configuration mistake is one S2Error('INVALID_OPTIONS') naming every
 * problem (path, what is wrong, the value), thrown before anything is dialled or listens — not a
 * connection that fails with 1011 over and over in the reconnect loop. And `undefined` for an
 * optional field means "not given".
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createCemServer, type CemServer } from '../../src/roles/cem-server.js';
import { createRmClient, type RmClient, type RmClientOptions } from '../../src/roles/rm-client.js';
import { connectSession } from '../../src/roles/session.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { Problem } from '../../src/typebox/problem.js';

const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};
const frbc = { activate() {} };

const servers: CemServer[] = [];
const clients: RmClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The S2Error `f` throws (synchronously or as a rejection). */
async function optionsError(f: () => unknown): Promise<S2Error> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(S2Error);
    expect((err as S2Error).code).toBe('INVALID_OPTIONS');
    return err as S2Error;
  }
  throw new Error('expected INVALID_OPTIONS, nothing was thrown');
}
const paths = (e: S2Error) => e.problems.map((p: Problem) => p.path);

/** A plain HTTP server that counts connection attempts: proves a refused client never dials. */
async function countingServer(): Promise<{ url: string; attempts: () => number; close: () => Promise<void> }> {
  let attempts = 0;
  const server = http.createServer((_req, res) => res.end());
  server.on('connection', () => attempts++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/`, attempts: () => attempts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('createRmClient checks its options before dialling', () => {
  it('[R34] details that are not valid ResourceManagerDetails: every problem with its path under details and the value', async () => {
    const target = await countingServer();
    const bad = {
      ...details,
      roles: [{ role: 'ENERGY_STOREAGE', commodity: 'ELECTRICITY' }],
      instruction_processing_delay: -5,
    } as unknown as RmDetailsInput;
    const e = await optionsError(() => createRmClient({ url: target.url, details: bad }));
    expect(paths(e)).toEqual(expect.arrayContaining(['details.roles[0].role', 'details.instruction_processing_delay']));
    expect(e.problems.find((p) => p.path === 'details.roles[0].role')?.value).toBe('"ENERGY_STOREAGE"');
    expect(e.message).toMatch(/^invalid createRmClient options: details\.\S+ /);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.attempts()).toBe(0);
    await target.close();
  });

  it('details with a message_id or message_type: the session fills those in', async () => {
    const e = await optionsError(() =>
      createRmClient({ url: 'ws://127.0.0.1:1/', details: { ...details, message_id: 'x' } as unknown as RmDetailsInput }),
    );
    expect(paths(e)).toEqual(['details.message_id']);
  });

  it('[R34, R39] handlers and offered control types must match both ways (NOT_CONTROLABLE needs none)', async () => {
    const notOffered = await optionsError(() =>
      createRmClient({ url: 'ws://127.0.0.1:1/', details, controlTypes: { FRBC: frbc, PPBC: frbc } }),
    );
    expect(notOffered.problems).toEqual([
      expect.objectContaining({
        path: 'controlTypes.PPBC',
        message: expect.stringMatching(/does not offer POWER_PROFILE_BASED_CONTROL/) as unknown,
      }),
    ]);
    const offersMore = {
      ...details,
      available_control_types: ['FILL_RATE_BASED_CONTROL', 'OPERATION_MODE_BASED_CONTROL', 'NOT_CONTROLABLE'],
    } as RmDetailsInput;
    const noHandler = await optionsError(() =>
      createRmClient({ url: 'ws://127.0.0.1:1/', details: offersMore, controlTypes: { FRBC: frbc } }),
    );
    expect(noHandler.problems).toEqual([
      expect.objectContaining({
        path: 'details.available_control_types',
        message: expect.stringMatching(/OPERATION_MODE_BASED_CONTROL but controlTypes has no OMBC handler/) as unknown,
      }),
    ]);
    const unknown = await optionsError(() =>
      createRmClient({ url: 'ws://127.0.0.1:1/', details, controlTypes: { FRBC: frbc, XYZ: frbc } as never }),
    );
    expect(paths(unknown)).toEqual(['controlTypes.XYZ']);
    const noActivate = await optionsError(() => createRmClient({ url: 'ws://127.0.0.1:1/', details, controlTypes: { FRBC: {} as never } }));
    expect(paths(noActivate)).toEqual(['controlTypes.FRBC']);
  });

  it('limits, URL, token, reconnect and logger are checked; all problems come in one error', async () => {
    const options = {
      url: 'http://cem.example/s2',
      details,
      receptionTimeoutMs: 0,
      handshakeTimeoutMs: 3e9, // beyond setTimeout's range: would fire at once
      closeGraceMs: Number.NaN,
      maxFrameBytes: 1.5,
      heartbeatMs: -1,
      token: '',
      versions: [],
      ids: 'UUID',
      reconnect: { initialMs: 5_000, maxMs: 1_000, factor: 0.5, jitter: 2 },
      logger: { warn() {} },
    } as unknown as RmClientOptions;
    const e = await optionsError(() => createRmClient(options));
    expect(paths(e).sort()).toEqual(
      [
        'closeGraceMs',
        'handshakeTimeoutMs',
        'heartbeatMs',
        'ids',
        'logger',
        'maxFrameBytes',
        'receptionTimeoutMs',
        'reconnect.factor',
        'reconnect.jitter',
        'reconnect.maxMs',
        'token',
        'url',
        'versions',
      ].sort(),
    );
    expect(e.problems.find((p) => p.path === 'token')?.message).toMatch(/non-empty/);
    expect(e.problems.find((p) => p.path === 'url')?.message).toMatch(/ws:\/\/ or wss:\/\//);
  });

  it('undefined optional fields mean "not given": the client connects with the defaults', async () => {
    const cem = await createCemServer({
      logger: false,
      port: undefined,
      host: undefined,
      token: undefined,
      controlTypes: undefined,
      receptionTimeoutMs: undefined,
    });
    servers.push(cem);
    const client = createRmClient({
      url: cem.url,
      details,
      logger: false,
      token: process.env.S2_ENGINE_TEST_UNSET_TOKEN,
      reconnect: { initialMs: undefined, maxMs: undefined },
      handshakeTimeoutMs: undefined,
      heartbeatMs: undefined,
      ids: undefined,
      rules: undefined,
      onSession: undefined,
      controlTypes: { FRBC: frbc, PPBC: undefined },
    });
    clients.push(client);
    const session = await client.nextSession();
    expect(session.version).toBe('0.0.2-beta');
  });
});

describe('createCemServer checks its options before listening', () => {
  it('a bad port, path, limit or handler map rejects with every problem; nothing listens', async () => {
    const e = await optionsError(() =>
      createCemServer({
        port: 70_000,
        path: 's2',
        sendHighWaterMark: 0,
        controlTypes: { FRBC: 'yes', NOPE: {} } as never,
        policy: 'first' as never,
      }),
    );
    expect(paths(e).sort()).toEqual(['controlTypes.FRBC', 'controlTypes.NOPE', 'path', 'policy', 'port', 'sendHighWaterMark']);
  });

  it('a handler map may carry other members (the sim’s CEM policy has handlers and summary); only names written like a control type are typos', async () => {
    const policyLike = { FRBC: {}, handlers: { FRBC: {} }, summary: () => ({}) };
    const server = await createCemServer({ logger: false, controlTypes: policyLike });
    servers.push(server);
    const e = await optionsError(() => createCemServer({ controlTypes: { ...policyLike, FRB: {} } as never }));
    expect(paths(e)).toEqual(['controlTypes.FRB']);
  });

  it('an empty token (an unset environment variable that was set to "") is refused rather than expecting "Bearer "', async () => {
    const e = await optionsError(() => createCemServer({ token: '' }));
    expect(paths(e)).toEqual(['token']);
  });
});

describe('connectSession checks the session options too', () => {
  it('[R34] an RM session without details, or with invalid ones, throws at once', async () => {
    const [a] = createMemoryPair();
    const missing = await optionsError(() => connectSession(a, { role: 'RM' }));
    expect(paths(missing)).toEqual(['details']);
    const wrong = await optionsError(() => connectSession(a, { role: 'RM', details: { ...details, available_control_types: [] } }));
    expect(paths(wrong)).toEqual(['details.available_control_types']);
    const role = await optionsError(() => connectSession(a, { role: 'cem' as never }));
    expect(paths(role)).toEqual(['role']);
  });
});
