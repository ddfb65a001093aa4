import { describe, expect, it } from 'vitest';
import { createPvInverter } from '../../src/sim/index.js';
import { expectUuidClean, finalOf, runPair, sentOf } from './harness.js';

describe('simulated PEBC curtailable PV with the CEM policy', () => {
  it('[R44, R91, R92, R93, R96, R97] curtails production inside the allowed ranges for the envelope, then SUCCEEDED', async () => {
    const run = runPair(createPvInverter({ tickMs: 10, availableW: () => 3000 }), { price: () => 0.05, envelopeMs: 150 });
    try {
      await run.until(
        () => run.cem.state === 'connected.active.PEBC' && run.rm.state === 'connected.active.PEBC',
        'PEBC active on both sides',
      );
      const constraints = await run.until(() => sentOf(run, 'PEBC.PowerConstraints')[0], 'the constraints');
      // R92, R93 (Q17): both limit types, −4000..0 written start ≤ end.
      expect(
        constraints.allowed_limit_ranges.map((r) => [r.limit_type, r.range_boundary.start_of_range, r.range_boundary.end_of_range]),
      ).toEqual([
        ['UPPER_LIMIT', -4000, 0],
        ['LOWER_LIMIT', -4000, 0],
      ]);
      const given = await run.until(() => run.events.find((e) => e.kind === 'instructed'), 'the instruction');
      const instruction = given.kind === 'instructed' ? given.handle.message : undefined;
      expect(instruction).toMatchObject({
        power_constraints_id: constraints.id,
        power_envelopes: [{ power_envelope_elements: [{ lower_limit: -2000, upper_limit: 0, duration: 150 }] }],
      });
      // Production (negative) is curtailed to 2 kW while the envelope runs, then back to the 3 kW the sun gives.
      await run.until(() => sentOf(run, 'PowerMeasurement').some((m) => m.values[0]!.value === -2000), 'curtailed production');
      expect(await run.until(() => finalOf(run, 'PEBC.Instruction'), 'a final status')).toBe('SUCCEEDED');
      const measurements = sentOf(run, 'PowerMeasurement').map((m) => m.values[0]!.value);
      expect(measurements.every((v) => v === -2000 || v === -3000)).toBe(true);
      await run.until(() => sentOf(run, 'PowerMeasurement').at(-1)!.values[0]!.value === -3000, 'uncurtailed again');
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });

  it('[R48, R97] an upper limit the sun cannot meet is ABORTED while running; one beyond the peak is REJECTED', async () => {
    const run = runPair(createPvInverter({ tickMs: 10, availableW: () => 1000 }), {}, { PEBC: {} });
    try {
      const c = await run.until(() => sentOf(run, 'PEBC.PowerConstraints')[0], 'the constraints');
      const send = (upper: number, lower: number) => {
        const id = crypto.randomUUID();
        void run.cem.send({
          message_type: 'PEBC.Instruction',
          id,
          execution_time: new Date().toISOString(),
          abnormal_condition: false,
          power_constraints_id: c.id,
          power_envelopes: [
            {
              id: crypto.randomUUID(),
              commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC',
              power_envelope_elements: [{ duration: 500, upper_limit: upper, lower_limit: lower }],
            },
          ],
        });
        return id;
      };
      const has = (id: string, status: string) =>
        run.rmSent.some((m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === status);
      const tooMuch = send(-2500, -4000); // needs ≥ 2.5 kW, the sun gives 1 kW
      await run.until(() => has(tooMuch, 'ABORTED'), 'the abort');
      const id = crypto.randomUUID();
      void run.cem.send({
        message_type: 'PEBC.Instruction',
        id,
        execution_time: new Date().toISOString(),
        abnormal_condition: false,
        power_constraints_id: c.id,
        power_envelopes: [
          {
            id: crypto.randomUUID(),
            commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC',
            power_envelope_elements: [{ duration: 500, upper_limit: 0, lower_limit: -5000 }],
          },
        ],
      });
      await run.until(() => has(id, 'REJECTED'), 'the rejection');
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
