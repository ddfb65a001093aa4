import { describe, expect, it } from 'vitest';
import { createHeatPump } from '../../src/sim/index.js';
import { expectUuidClean, finalOf, runPair, sentOf } from './harness.js';

describe('simulated OMBC heat pump with the CEM policy', () => {
  it('[R44, R60, R61, R65, R71, R83, R84] switches off → high at a low price: STARTED, then SUCCEEDED after the start-up transition', async () => {
    // speed 1000: the 30 s compressor start-up takes 30 ms.
    const run = runPair(createHeatPump({ tickMs: 10, speed: 1000 }), { price: () => 0.05 });
    try {
      await run.until(
        () => run.cem.state === 'connected.active.OMBC' && run.rm.state === 'connected.active.OMBC',
        'OMBC active on both sides',
      );
      expect(await run.until(() => finalOf(run, 'OMBC.Instruction'), 'a final status')).toBe('SUCCEEDED');
      const types = run.rmSent.map((m) => m.message_type).filter((t) => t.startsWith('OMBC.'));
      expect(types.slice(0, 4)).toEqual(['OMBC.SystemDescription', 'OMBC.TimerStatus', 'OMBC.TimerStatus', 'OMBC.Status']);
      const d = sentOf(run, 'OMBC.SystemDescription')[0]!;
      const [off, , high] = d.operation_modes;
      const statuses = sentOf(run, 'OMBC.Status');
      expect(statuses[0]).toMatchObject({ active_operation_mode_id: off!.id });
      expect(statuses[0]!.previous_operation_mode_id).toBeUndefined();
      expect(statuses[1]).toMatchObject({
        active_operation_mode_id: high!.id,
        previous_operation_mode_id: off!.id,
        operation_mode_factor: 1,
      });
      // STARTED and SUCCEEDED are a start-up apart (R65).
      const updates = run.rmSent.filter((m) => m.message_type === 'InstructionStatusUpdate');
      expect(updates.map((u) => u.status_type)).toEqual(['ACCEPTED', 'STARTED', 'SUCCEEDED']);
      const [, started, succeeded] = updates;
      const startup = d.transitions.find((t) => t.from === off!.id && t.to === high!.id)!.transition_duration!;
      expect(Date.parse(succeeded!.timestamp) - Date.parse(started!.timestamp)).toBeGreaterThanOrEqual(startup - 1);
      // The minimum-on timer now runs (R71).
      const minOn = d.timers.find((t) => t.diagnostic_label === 'minimum on time')!;
      expect(
        sentOf(run, 'OMBC.TimerStatus').some((t) => t.timer_id === minOn.id && Date.parse(t.finished_at) > Date.parse(started!.timestamp)),
      ).toBe(true);
      await run.until(() => sentOf(run, 'PowerMeasurement').some((m) => m.values[0]!.value === 3200), 'full power');
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });

  it('[R63, R64, R48] switching off during the minimum-on time is REJECTED', async () => {
    const run = runPair(createHeatPump({ tickMs: 10, speed: 1000 }), { price: () => 0.05 });
    try {
      await run.until(() => finalOf(run, 'OMBC.Instruction'), 'the switch on');
      const off = sentOf(run, 'OMBC.SystemDescription')[0]!.operation_modes[0]!;
      const id = crypto.randomUUID();
      void run.cem.send({
        message_type: 'OMBC.Instruction',
        id,
        operation_mode_id: off.id,
        operation_mode_factor: 0,
        execution_time: new Date().toISOString(),
        abnormal_condition: false,
      });
      await run.until(
        () =>
          run.rmSent.some((m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === 'REJECTED'),
        'the rejection',
      );
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
