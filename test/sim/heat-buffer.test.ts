import { describe, expect, it } from 'vitest';
import { createHeatBuffer } from '../../src/sim/index.js';
import { expectUuidClean, finalOf, runPair, sentOf } from './harness.js';

describe('simulated DDBC heat buffer with the CEM policy', () => {
  it('[R44, R60, R67, R86, R87, R88, R89] describes with Id / supported_commodites, forecasts the demand, and meets it with a mode of the first actuator to SUCCEEDED', async () => {
    const run = runPair(createHeatBuffer({ tickMs: 10, speed: 1000 }));
    try {
      await run.until(
        () => run.cem.state === 'connected.active.DDBC' && run.rm.state === 'connected.active.DDBC',
        'DDBC active on both sides',
      );
      expect(await run.until(() => finalOf(run, 'DDBC.Instruction'), 'a final status')).toBe('SUCCEEDED');
      const types = run.rmSent.map((m) => m.message_type).filter((t) => t.startsWith('DDBC.'));
      expect(types.slice(0, 5)).toEqual([
        'DDBC.SystemDescription',
        'DDBC.TimerStatus',
        'DDBC.TimerStatus',
        'DDBC.ActuatorStatus',
        'DDBC.AverageDemandRateForecast',
      ]);
      const d = sentOf(run, 'DDBC.SystemDescription')[0]!;
      expect(d.provides_average_demand_rate_forecast).toBe(true);
      const actuator = d.actuators[0]!;
      expect(actuator.supported_commodites).toEqual(['ELECTRICITY']);
      expect(actuator.operation_modes.every((m) => typeof m.Id === 'string' && !('id' in m))).toBe(true);
      // 4000 W demand: the low mode (3500..5250 W heat) at factor (4000 − 3500) / 1750.
      const low = actuator.operation_modes[1]!;
      const given = run.events.find((e) => e.kind === 'instructed');
      expect(given?.kind === 'instructed' && given.handle.message).toMatchObject({
        actuator_id: actuator.id,
        operation_mode_id: low.Id,
        operation_mode_factor: 0.286,
      });
      const forecast = sentOf(run, 'DDBC.AverageDemandRateForecast')[0]!;
      expect(forecast.elements).toHaveLength(24);
      expect(
        forecast.elements.every(
          (e) =>
            e.demand_rate_lower_95PPR! <= e.demand_rate_lower_68PPR! &&
            e.demand_rate_lower_68PPR! <= e.demand_rate_expected &&
            e.demand_rate_expected <= e.demand_rate_upper_68PPR!,
        ),
      ).toBe(true);
      await run.until(
        () =>
          sentOf(run, 'DDBC.ActuatorStatus').some(
            (s) => s.active_operation_mode_id === low.Id && s.previous_operation_mode_id === actuator.operation_modes[0]!.Id,
          ),
        'the low mode',
      );
      await run.until(
        () => sentOf(run, 'PowerMeasurement').some((m) => m.values.length === 2 && m.values[0]!.value > 1000),
        'a measurement',
      );
      expect(run.problems).toEqual([]);
      // The UUID-strict codec accepts every message, DDBC too (s2-python cannot parse DDBC at all: docs/rules.md#Q16).
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });
});
