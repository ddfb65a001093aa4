/**
 * The simulated DDBC heat buffer speaks the version its session selected (docs/rules.md#R112): under
 * S2 JSON 1.0.0-beta the description has no present_demand_rate, a DDBC.PresentDemandStatus follows
 * it and another one each time the house's demand changes; the CEM policy reads the demand from
 * either message and instructs again when it changes.
 */
import { describe, expect, it } from 'vitest';
import { createHeatBuffer } from '../../src/sim/index.js';
import { expectUuidClean, finalOf, runPair, sentOf, type Run } from './harness.js';

/** The policy's DDBC.Instruction payloads, in order. */
function instructed(run: Run) {
  return run.events.flatMap((e) =>
    e.kind === 'instructed' && e.handle.message.message_type === 'DDBC.Instruction' ? [e.handle.message] : [],
  );
}

describe('simulated DDBC heat buffer under S2 JSON 1.0.0-beta', () => {
  it('[R39, R86, R112] describes without present_demand_rate, then DDBC.PresentDemandStatus; the CEM meets the demand to SUCCEEDED', async () => {
    const run = runPair(createHeatBuffer({ tickMs: 10, speed: 1000 }), {}, undefined, ['1.0.0-beta']);
    try {
      await run.until(() => run.cem.state === 'connected.active.DDBC', 'DDBC active');
      expect(run.cem.version).toBe('1.0.0-beta');
      expect(run.rm.version).toBe('1.0.0-beta');
      expect(await run.until(() => finalOf(run, 'DDBC.Instruction'), 'a final status')).toBe('SUCCEEDED');
      const types = run.rmSent.map((m) => m.message_type).filter((t) => t.startsWith('DDBC.'));
      expect(types.slice(0, 6)).toEqual([
        'DDBC.SystemDescription',
        'DDBC.PresentDemandStatus',
        'DDBC.TimerStatus',
        'DDBC.TimerStatus',
        'DDBC.ActuatorStatus',
        'DDBC.AverageDemandRateForecast',
      ]);
      const d = sentOf(run, 'DDBC.SystemDescription')[0]!;
      expect('present_demand_rate' in d).toBe(false);
      expect(sentOf(run, 'DDBC.PresentDemandStatus')[0]!.present_demand_rate).toEqual({ start_of_range: 3600, end_of_range: 4400 });
      // 4000 W demand, as under 0.0.2-beta: the low mode (3500..5250 W heat) at factor (4000 − 3500) / 1750.
      const low = d.actuators[0]!.operation_modes[1]!;
      expect(instructed(run)[0]).toMatchObject({ operation_mode_id: low.Id, operation_mode_factor: 0.286 });
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });

  it('[R112] a changed demand is reported in a new DDBC.PresentDemandStatus (no new description) and the CEM instructs again', async () => {
    let demandW = 4000;
    const run = runPair(createHeatBuffer({ tickMs: 10, speed: 1000, demand: () => demandW }), {}, undefined, ['1.0.0-beta']);
    try {
      await run.until(() => finalOf(run, 'DDBC.Instruction'), 'the first instruction final');
      demandW = 6000;
      await run.until(() => sentOf(run, 'DDBC.PresentDemandStatus').length === 2, 'a second DDBC.PresentDemandStatus');
      expect(sentOf(run, 'DDBC.PresentDemandStatus')[1]!.present_demand_rate).toEqual({ start_of_range: 5400, end_of_range: 6600 });
      expect(sentOf(run, 'DDBC.SystemDescription')).toHaveLength(1);
      // 6000 W: the low mode at full supply (5250 W) comes closer than high at its least (7000 W).
      const low = sentOf(run, 'DDBC.SystemDescription')[0]!.actuators[0]!.operation_modes[1]!;
      await run.until(() => instructed(run).length === 2, 'a second instruction');
      expect(instructed(run)[1]).toMatchObject({ operation_mode_id: low.Id, operation_mode_factor: 1 });
      // Small wobbles (within 5 %) are not reported.
      demandW = 6100;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sentOf(run, 'DDBC.PresentDemandStatus')).toHaveLength(2);
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });
});

describe('simulated DDBC heat buffer under S2 JSON 0.0.2-beta', () => {
  it('[R72, R112] sends no DDBC.PresentDemandStatus; a changed demand is reported in a new description', async () => {
    let demandW = 4000;
    const run = runPair(createHeatBuffer({ tickMs: 10, speed: 1000, demand: () => demandW }));
    try {
      await run.until(() => finalOf(run, 'DDBC.Instruction'), 'the first instruction final');
      expect(run.rm.version).toBe('0.0.2-beta');
      demandW = 6000;
      await run.until(() => sentOf(run, 'DDBC.SystemDescription').length === 2, 'a second description');
      const [first, second] = sentOf(run, 'DDBC.SystemDescription');
      expect(first).toMatchObject({ present_demand_rate: { start_of_range: 3600, end_of_range: 4400 } });
      expect(second).toMatchObject({ present_demand_rate: { start_of_range: 5400, end_of_range: 6600 } });
      await run.until(() => instructed(run).length === 2, 'a second instruction');
      expect(instructed(run)[1]).toMatchObject({ operation_mode_factor: 1 });
      expect(sentOf(run, 'DDBC.PresentDemandStatus')).toEqual([]);
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });
});
