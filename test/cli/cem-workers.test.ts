import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';
import { createRmClient, type RmClient } from '../../src/roles/rm-client.js';
import type { S2Session } from '../../src/roles/session.js';

// `s2 cem --workers N` (needs `npm run build` first: it runs dist/cli/main.js, whose workers are
// cluster forks of that same file).
const clients: RmClient[] = [];

const run = runS2;
killCliProcessesAfterEach();

/** Worker pids from the supervisor's listening line. */
const pidsOf = (line: string) =>
  line
    .match(/pids ([\d, ]+)\)/)![1]!
    .split(', ')
    .map(Number);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One FRBC RM session, resolved once the CEM selected FRBC. */
function frbcRm(url: string): Promise<S2Session> {
  return new Promise((resolve, reject) => {
    const client = createRmClient({
      url,
      reconnect: false,
      details: {
        resource_id: crypto.randomUUID(),
        name: 'workers test RM',
        roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
        instruction_processing_delay: 100,
        available_control_types: ['FILL_RATE_BASED_CONTROL'],
        provides_forecast: false,
        provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
      },
      onDialError: reject,
      onSession: (s) => s.on('controlType', ({ controlType }) => controlType === 'FILL_RATE_BASED_CONTROL' && resolve(s)),
    });
    clients.push(client);
  });
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

describe('s2 cem --workers', () => {
  it('two workers share one port (--port 0), sessions are spread over both, SIGTERM closes them all with 1001 and exits 0', async () => {
    const cem = run(['cem', '--workers', '2', '--port', '0']);
    const [line] = await cem.waitFor(/s2 cem listening on ws:\/\/127\.0\.0\.1:\d+ with 2 workers \(pids [\d, ]+\)/);
    const url = line.match(/ws:\/\/[\d.:]+/)![0];
    const workerPids = pidsOf(line);
    expect(workerPids).toHaveLength(2);
    expect(cem.output()).toMatch(/worker 1 \(pid \d+\) listening/);
    expect(cem.output()).toMatch(/worker 2 \(pid \d+\) listening/);

    const sessions = await Promise.all([1, 2, 3, 4].map(() => frbcRm(url)));
    // Each session's lines carry the number of the worker that runs it; round-robin uses both.
    await cem.waitFor(/CEM w1 .*@ connected\.active\.FRBC/);
    await cem.waitFor(/CEM w2 .*@ connected\.active\.FRBC/);
    const measured = await sessions[0]!.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: new Date().toISOString(),
      values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1200 }],
    });
    expect(measured.status).toBe('OK');

    const closes = sessions.map((s) => s.closed);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    for (const c of await Promise.all(closes)) expect(c.code).toBe(1001);
    expect(cem.output()).toContain('stopping 2 workers');
    for (const pid of workerPids) expect(alive(pid)).toBe(false);
  });

  it('SIGINT stops every worker and exits 0', async () => {
    const cem = run(['cem', '--workers', '3', '--quiet']);
    const [line] = await cem.waitFor(/with 3 workers \(pids [\d, ]+\)/);
    const session = await frbcRm(cem.output().match(/ws:\/\/[\d.:]+/)![0]);
    cem.child.kill('SIGINT');
    expect(await cem.exited).toBe(0);
    expect((await session.closed).code).toBe(1001);
    for (const pid of pidsOf(line)) expect(alive(pid)).toBe(false);
    // --quiet: no per-session lines.
    expect(cem.output()).not.toMatch(/@ connected/);
  });

  it('a worker that dies takes the others down: the supervisor exits 1', async () => {
    const cem = run(['cem', '--workers', '2']);
    const [line] = await cem.waitFor(/with 2 workers \(pids [\d, ]+\)/);
    const [first, second] = pidsOf(line);
    process.kill(second!, 'SIGKILL');
    expect(await cem.exited).toBe(1);
    expect(cem.output()).toMatch(/worker 2 \(pid \d+\) exited with SIGKILL; stopping the other workers/);
    expect(alive(first!)).toBe(false);
  });

  it('a port that is taken: every worker fails to listen, exit 1, nothing left running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const cem = run(['cem', '--workers', '2', '--port', String(port)]);
      expect(await cem.exited).toBe(1);
      expect(cem.output()).toContain('EADDRINUSE');
      expect(cem.output()).not.toContain('s2 cem listening');
    } finally {
      blocker.close();
    }
  });

  it('usage: --workers must be a whole number ≥ 1 (exit 2), and the help text documents it', async () => {
    for (const bad of ['0', '-1', '1.5', 'two']) {
      const c = run(['cem', `--workers=${bad}`]);
      expect(await c.exited).toBe(2);
      expect(c.output()).toContain('--workers must be');
    }
    const help = run(['cem', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/--workers N\s+worker processes sharing the port/);
    expect(help.output()).toMatch(/SIGINT\/SIGTERM to the supervisor stops every worker/);
  });
});
