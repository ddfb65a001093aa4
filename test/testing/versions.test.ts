/**
 * The conformance kit in either S2 JSON version (issue 12): `runConformance({ version })` offers
 * (kit as RM) or selects (kit as CEM) that version only, judges every frame against its message
 * set and sends that version's DDBC payloads. Against s2-engine's own CEM and RM over real
 * WebSockets on 127.0.0.1; `s2 conformance --version` against an `s2 cem` process.
 */
import { describe, expect, it } from 'vitest';
import { createCemServer } from '../../src/roles/cem-server.js';
import { createRmClient, type RmClient } from '../../src/roles/rm-client.js';
import type { S2Session } from '../../src/roles/session.js';
import { createCemPolicy, createDevice } from '../../src/sim/index.js';
import { formatReport, formatSummary, runConformance } from '../../src/testing/index.js';
import type { S2Version } from '../../src/typebox/versions.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

killCliProcessesAfterEach();

/** The sessions of one test, with the message types each received. */
class Watched {
  readonly sessions: S2Session[] = [];
  private readonly types = new Set<string>();
  readonly add = (session: S2Session): void => {
    this.sessions.push(session);
    session.on('received', ({ message }) => message && this.types.add(message.message_type));
  };
  received(type: string): boolean {
    return this.types.has(type);
  }
  versions(): Set<string | undefined> {
    return new Set(this.sessions.map((s) => s.version).filter((v) => v !== undefined));
  }
}

describe('runConformance({ version }) against s2-engine', () => {
  it('[R25, R26, R27, R39] the kit as an RM in 1.0.0-beta: the CEM (both versions) selects it, every DDBC scenario passes, PresentDemandStatus included', async () => {
    const watched = new Watched();
    const server = await createCemServer({
      port: 0,
      host: '127.0.0.1',
      controlTypes: createCemPolicy(),
      versions: ['1.0.0-beta', '0.0.2-beta'],
      onSession: watched.add,
    });
    try {
      const report = await runConformance({
        role: 'CEM',
        url: server.url,
        version: '1.0.0-beta',
        controlType: 'DDBC',
        ids: 'uuid',
        timeoutMs: 2000,
        quietMs: 150,
      });
      expect(report.results.filter((r) => r.outcome !== 'pass').length, formatReport(report)).toBe(0);
      expect(report.version).toBe('1.0.0-beta');
      expect(formatSummary(report)).toMatch(/ in S2 1\.0\.0-beta \(session 25, DDBC 10, instruction 25\): 60 passed/);
      expect(watched.versions()).toEqual(new Set(['1.0.0-beta']));
      expect(watched.received('DDBC.PresentDemandStatus')).toBe(true);
    } finally {
      await server.close();
    }
  }, 30_000);

  for (const version of ['1.0.0-beta', '0.0.2-beta'] as const satisfies readonly S2Version[]) {
    it(`[R26, R27, R39] the kit as a CEM in ${version}: every scenario passes against the DDBC device offering both versions`, async () => {
      const device = createDevice('DDBC');
      const watched = new Watched();
      let client: RmClient | undefined;
      try {
        const report = await runConformance({
          role: 'RM',
          listen: { port: 0 },
          version,
          ids: 'uuid',
          timeoutMs: 2000,
          onListening: (url) => {
            client = createRmClient({
              url,
              details: device.details,
              controlTypes: { DDBC: device.handler },
              versions: ['1.0.0-beta', '0.0.2-beta'],
              reconnect: { initialMs: 20, maxMs: 200 },
              onSession: watched.add,
            });
          },
        });
        expect(report.results.filter((r) => r.outcome !== 'pass').length, formatReport(report)).toBe(0);
        expect(report.version).toBe(version);
        expect(watched.versions()).toEqual(new Set([version]));
      } finally {
        await client?.stop();
        device.stop();
      }
    }, 30_000);
  }

  it('[R25] the kit as a CEM asked for 1.0.0-beta ends after the discovery when the RM offers only 0.0.2-beta', async () => {
    const device = createDevice('FRBC');
    let client: RmClient | undefined;
    try {
      const report = await runConformance({
        role: 'RM',
        listen: { port: 0 },
        version: '1.0.0-beta',
        timeoutMs: 2000,
        onListening: (url) => {
          client = createRmClient({
            url,
            details: device.details,
            controlTypes: { FRBC: device.handler },
            versions: ['0.0.2-beta'],
            reconnect: { initialMs: 20, maxMs: 200 },
          });
        },
      });
      expect(report.results.map((r) => [r.scenario.id, r.outcome, r.note])).toEqual([
        ['rm.discovery', 'error', 'the RM does not offer S2 1.0.0-beta (it offers 0.0.2-beta)'],
      ]);
    } finally {
      await client?.stop();
      device.stop();
    }
  }, 20_000);

  it('defaults to 0.0.2-beta: the kit as an RM offers only it, so a CEM preferring 1.0.0-beta selects 0.0.2-beta', async () => {
    const watched = new Watched();
    const server = await createCemServer({
      port: 0,
      host: '127.0.0.1',
      controlTypes: createCemPolicy(),
      versions: ['1.0.0-beta', '0.0.2-beta'],
      onSession: watched.add,
    });
    try {
      const report = await runConformance({
        role: 'CEM',
        url: server.url,
        controlType: 'FRBC',
        timeoutMs: 2000,
        filter: (s) => s.model === 'control-type',
      });
      expect(report.results.filter((r) => r.outcome !== 'pass').length, formatReport(report)).toBe(0);
      expect(report.version).toBe('0.0.2-beta');
      expect(watched.versions()).toEqual(new Set(['0.0.2-beta']));
    } finally {
      await server.close();
    }
  }, 20_000);

  it('refuses a version it does not know, naming the known ones', async () => {
    await expect(runConformance({ role: 'CEM', url: 'ws://127.0.0.1:9', version: '0.0.2' as S2Version })).rejects.toThrow(
      'version must be one of 1.0.0-beta, 0.0.2-beta, got "0.0.2"',
    );
  });
});

describe('s2 conformance --version', () => {
  it('[R25, R26, R39] --version 1.0.0-beta against an `s2 cem` process passes every DDBC scenario', async () => {
    const cem = runS2(['cem', '--port', '0', '--quiet']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const kit = runS2([
      'conformance',
      '--role',
      'cem',
      '--url',
      url,
      '--control-type',
      'DDBC',
      '--version',
      '1.0.0-beta',
      '--timeout',
      '1000',
    ]);
    expect(await kit.exited, kit.output()).toBe(0);
    expect(kit.output()).toContain(`testing the CEM at ${url} in S2 1.0.0-beta`);
    expect(kit.output()).toMatch(
      /60 scenarios against the CEM at ws:\/\/127\.0\.0\.1:\d+ in S2 1\.0\.0-beta \(session 25, DDBC 10, instruction 25\): 60 passed, .* CONFORMANT/,
    );
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 30_000);
});
