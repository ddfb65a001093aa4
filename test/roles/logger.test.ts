/**
 * The default logger: with no `logger` option, warnings and errors reach stderr, once per kind and
 * then as a count per interval, so a mistake is seen without a flood; `logger: false` silences it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStderrLogger, resolveLogger, silentLogger } from '../../src/roles/logger.js';
import { S2Session } from '../../src/roles/session.js';
import { createRmClient } from '../../src/roles/rm-client.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { waitFor } from '../transport/helpers.js';

/** A stderr logger on a fake clock, writing to an array. */
function fakeLogger(intervalMs = 60_000) {
  let now = 1_000;
  const lines: string[] = [];
  const logger = createStderrLogger({ write: (line) => lines.push(line), now: () => now, intervalMs });
  return { logger, lines, advance: (ms: number) => void (now += ms) };
}

describe('createStderrLogger', () => {
  it('prints the first entry of a kind in full, counts repeats within the interval, and prints the count with the next one after it', () => {
    const { logger, lines, advance } = fakeLogger();
    logger.warn({ kind: 'reception-status-timeout', session: 's1' }, 'no ReceptionStatus for FRBC.Instruction a in time (R21)');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^s2-engine warn \[reception-status-timeout\]: no ReceptionStatus for FRBC\.Instruction a in time \(R21\) \(session s1\)/,
    );
    expect(lines[0]).toMatch(/logger: false/); // the first line says how to silence it
    for (let i = 0; i < 5; i++) logger.warn({ kind: 'reception-status-timeout', session: 's1' }, 'again');
    logger.error({ kind: 'handler-error', err: new Error('boom') }, 'handler for PowerMeasurement failed');
    expect(lines).toHaveLength(2); // another kind is not held back by the first
    expect(lines[1]).toBe('s2-engine error [handler-error]: handler for PowerMeasurement failed: boom\n');
    advance(59_999);
    logger.warn({ kind: 'reception-status-timeout' }, 'still held back');
    expect(lines).toHaveLength(2);
    advance(1);
    logger.warn({ kind: 'reception-status-timeout' }, 'later');
    expect(lines.slice(2)).toEqual([
      's2-engine warn [reception-status-timeout]: 6 more like this in the last 60 s\n',
      's2-engine warn [reception-status-timeout]: later\n',
    ]);
  });

  it('flush() prints the counts still held back, once', () => {
    const { logger, lines, advance } = fakeLogger();
    logger.error({}, 'session failed');
    logger.error({}, 'session failed');
    logger.error({}, 'session failed');
    advance(5_000);
    logger.flush();
    logger.flush();
    expect(lines.slice(1)).toEqual(['s2-engine error "session failed": 2 more like this in the last 5 s\n']);
  });

  it('drops levels below its threshold (default warn) and names an S2Error’s first problem', () => {
    const { logger, lines } = fakeLogger();
    logger.debug({ kind: 'x' }, 'debug');
    logger.info({ kind: 'instruction-rejected' }, 'rejected');
    expect(lines).toEqual([]);
    const err = Object.assign(new Error('refusing to send'), {
      name: 'S2Error',
      problems: [{ path: '$.values[0].value', message: 'not a finite number' }],
    });
    logger.error({ kind: 'handler-error', err }, 'FRBC activate failed');
    expect(lines[0]).toMatch(/FRBC activate failed: S2Error: refusing to send at \$\.values\[0\]\.value: not a finite number/);
  });

  it('with intervalMs 0 prints every entry', () => {
    const { logger, lines } = fakeLogger(0);
    for (let i = 0; i < 3; i++) logger.warn({ kind: 'dial-failed', attempt: i }, 'could not reach the CEM');
    expect(lines).toEqual([0, 1, 2].map((i) => `s2-engine warn [dial-failed]: could not reach the CEM (attempt ${i})\n`));
  });

  it('resolveLogger: false is silent, a given logger is used as is, undefined is the one shared stderr logger', () => {
    expect(resolveLogger(false)).toBe(silentLogger);
    const mine = { ...silentLogger };
    expect(resolveLogger(mine)).toBe(mine);
    expect(resolveLogger(undefined)).toBe(resolveLogger(undefined));
  });
});

describe('sessions and clients without a logger option', () => {
  afterEach(() => vi.restoreAllMocks());

  it('[R15] a handler that throws reaches stderr with no logger given; logger: false keeps stderr quiet', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    for (const logger of [undefined, false] as const) {
      const [a, b] = createMemoryPair();
      const cem = new S2Session(a, {
        role: 'CEM',
        logger,
        onMessage: () => {
          throw new Error(`handler bug (logger ${String(logger)})`);
        },
      });
      const rm = new S2Session(b, {
        role: 'RM',
        logger: false,
        details: {
          resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
          roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
          instruction_processing_delay: 100,
          available_control_types: ['NOT_CONTROLABLE'],
          provides_forecast: false,
          provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
        },
      });
      cem.start();
      rm.start();
      await waitFor(() => cem.rmDetails !== undefined, 2_000, 'the details');
      await cem.close();
    }
    const lines = written.join('').split('\n').filter(Boolean);
    expect(lines.filter((l) => l.includes('handler bug (logger undefined)'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('handler bug (logger false)'))).toBe(false);
    expect(lines.find((l) => l.includes('handler bug'))).toMatch(/^s2-engine error \[handler-error\]: handler for \w+ failed/);
  });

  it('an RM client that cannot reach its CEM says so on the logger (the URL without credentials), and onDialError still hears it', async () => {
    const lines: string[] = [];
    const dialErrors: number[] = [];
    const logger = createStderrLogger({ write: (l) => lines.push(l), intervalMs: 0 });
    const client = createRmClient({
      url: 'ws://user:secret@127.0.0.1:1/s2',
      reconnect: false,
      logger,
      onDialError: (_err, attempt) => dialErrors.push(attempt),
      details: {
        resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
        roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
        instruction_processing_delay: 100,
        available_control_types: ['NOT_CONTROLABLE'],
        provides_forecast: false,
        provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
      },
    });
    await expect(client.nextSession()).rejects.toMatchObject({ code: 'TRANSPORT_CONNECT_FAILED' });
    expect(dialErrors).toEqual([0]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^s2-engine warn \[dial-failed\]: could not reach the CEM \(url ws:\/\/127\.0\.0\.1:1\/s2, attempt 0\)/);
    expect(lines[0]).not.toMatch(/secret/);
  });
});
