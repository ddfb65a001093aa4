/**
 * The conformance kit against s2-engine's own RM: createRmClient with the simulated device of
 * every control type, dialling the kit (`listen` mode: the RM reconnects after every scenario),
 * and an RM that listens (`url` mode: the kit dials it). Every scenario must pass.
 */
import { describe, expect, it } from 'vitest';
import { createRmClient, type RmClient } from '../../src/roles/rm-client.js';
import { createDevice } from '../../src/sim/index.js';
import { formatReport, runConformance } from '../../src/testing/index.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { listeningRm } from './peers.js';

const TYPES: readonly ControlTypeShort[] = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'];

describe('the conformance kit against s2-engine’s RM (createRmClient + createDevice)', () => {
  for (const type of TYPES) {
    it(`[R11–R105] passes every scenario against the ${type} device, which dials the kit`, async () => {
      const device = createDevice(type);
      let client: RmClient | undefined;
      try {
        const report = await runConformance({
          role: 'RM',
          listen: { port: 0 },
          ids: 'uuid',
          timeoutMs: 2000,
          onListening: (url) => {
            // A short back-off: after TERMINATE or a refused handshake the RM waits before it reconnects.
            client = createRmClient({
              url,
              details: device.details,
              controlTypes: { [type]: device.handler },
              reconnect: { initialMs: 20, maxMs: 200 },
            });
          },
        });
        expect(report.results.filter((r) => r.outcome !== 'pass').length, formatReport(report)).toBe(0);
        expect(report.offer).toEqual({ types: [type], notControllable: false });
        const groups = report.results.map((r) => (r.scenario.model === 'control-type' ? r.scenario.controlType : r.scenario.model));
        expect(groups.filter((g) => g === 'discovery').length).toBe(1);
        expect(groups.filter((g) => g === 'session').length).toBe(25);
        expect(groups.filter((g) => g === type).length).toBe(10);
      } finally {
        await client?.stop();
        device.stop();
      }
    }, 20_000);
  }

  it('passes every scenario against an RM that listens (the kit dials it with url)', async () => {
    const rm = await listeningRm('OMBC');
    try {
      const report = await runConformance({ role: 'RM', url: rm.url, ids: 'uuid', timeoutMs: 2000 });
      expect(report.results.filter((r) => r.outcome !== 'pass').length, formatReport(report)).toBe(0);
      expect(report.mode).toBe('dial');
      expect(report.counts.total).toBe(36);
    } finally {
      await rm.close();
    }
  }, 20_000);
});
