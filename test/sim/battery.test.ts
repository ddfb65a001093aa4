import { describe, expect, it } from 'vitest';
import type { InstructionHandle } from '../../src/roles/cem-control.js';
import { createBattery } from '../../src/sim/index.js';
import { expectUuidClean, finalOf, runPair, sentOf } from './harness.js';

const cheap = () => 0.05;

describe('simulated FRBC home battery with the CEM policy', () => {
  it('[R39, R44, R60, R73, R81, R108] activates, describes, charges at a low price to SUCCEEDED, and reports fill level and power on the tick', async () => {
    const run = runPair(createBattery({ tickMs: 10, speed: 1000, initialFillLevel: 40 }), { price: cheap });
    try {
      await run.until(
        () => run.cem.state === 'connected.active.FRBC' && run.rm.state === 'connected.active.FRBC',
        'FRBC active on both sides',
      );
      expect(await run.until(() => finalOf(run, 'FRBC.Instruction'), 'a final status')).toBe('SUCCEEDED');

      // R73: description first, then (timers and) the actuator status and the storage status.
      const types = run.rmSent.map((m) => m.message_type).filter((t) => t.startsWith('FRBC.'));
      expect(types.slice(0, 4)).toEqual(['FRBC.SystemDescription', 'FRBC.TimerStatus', 'FRBC.ActuatorStatus', 'FRBC.StorageStatus']);
      const description = sentOf(run, 'FRBC.SystemDescription')[0]!;
      const [charge, idle, discharge] = description.actuators[0]!.operation_modes;
      // R9: consumption positive, production negative; s2-python: every range start ≤ end.
      expect(charge!.elements.every((e) => e.power_ranges[0]!.start_of_range > 0 && e.fill_rate.start_of_range > 0)).toBe(true);
      expect(discharge!.elements.every((e) => e.power_ranges[0]!.end_of_range < 0 && e.fill_rate.end_of_range < 0)).toBe(true);
      expect(idle!.elements[0]!.power_ranges[0]).toMatchObject({ start_of_range: 0, end_of_range: 0 });
      for (const m of description.actuators[0]!.operation_modes) {
        for (const e of m.elements) {
          expect(e.fill_rate.start_of_range).toBeLessThanOrEqual(e.fill_rate.end_of_range);
          expect(e.power_ranges[0]!.start_of_range).toBeLessThanOrEqual(e.power_ranges[0]!.end_of_range);
        }
      }
      const instruction = run.events.find((e) => e.kind === 'instructed')!;
      expect(instruction.kind === 'instructed' && instruction.handle.message).toMatchObject({
        operation_mode: charge!.id,
        operation_mode_factor: 1,
      });

      // R60/R61: the switch is reported with the previous mode; the minimum-run timer started (R64, R71).
      const status = await run.until(
        () => sentOf(run, 'FRBC.ActuatorStatus').find((s) => s.active_operation_mode_id === charge!.id),
        'charging status',
      );
      expect(status.previous_operation_mode_id).toBe(idle!.id);
      expect(status.transition_timestamp).toBeDefined();
      const timers = sentOf(run, 'FRBC.TimerStatus');
      expect(Date.parse(timers[timers.length - 1]!.finished_at)).toBeGreaterThan(Date.parse(status.transition_timestamp!));

      // R81, R108: the fill level rises and the measured power is the charge power.
      await run.until(() => sentOf(run, 'FRBC.StorageStatus').some((s) => s.present_fill_level > 40.5), 'a rising fill level');
      await run.until(() => sentOf(run, 'PowerMeasurement').some((m) => m.values[0]!.value === 5000), 'a 5 kW measurement');
      expect(run.policy.summary()).toMatchObject({ given: 1, failed: 0, final: { SUCCEEDED: 1 } });
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });

  it('[R48, R80] a full battery rejects charging; the policy then holds instead of charging', async () => {
    const handles: InstructionHandle[] = [];
    const device = createBattery({ tickMs: 10, speed: 1000, initialFillLevel: 100 });
    const run = runPair(
      device,
      {},
      {
        FRBC: {
          'FRBC.StorageStatus'(_m, ctx) {
            if (handles.length) return;
            const d = sentOf(run, 'FRBC.SystemDescription')[0]!.actuators[0]!;
            handles.push(
              ctx.instruct({
                message_type: 'FRBC.Instruction',
                actuator_id: d.id,
                operation_mode: d.operation_modes[0]!.id,
                operation_mode_factor: 1,
              }),
            );
          },
        },
      },
    );
    try {
      await run.until(() => handles[0], 'the instruction');
      expect(await handles[0]!.final).toBe('REJECTED');
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }

    const policyRun = runPair(createBattery({ tickMs: 10, speed: 1000, initialFillLevel: 100 }), { price: cheap });
    try {
      expect(await policyRun.until(() => finalOf(policyRun, 'FRBC.Instruction'), 'a final status')).toBe('SUCCEEDED');
      const idle = sentOf(policyRun, 'FRBC.SystemDescription')[0]!.actuators[0]!.operation_modes[1]!;
      const given = policyRun.events.find((e) => e.kind === 'instructed');
      expect(given?.kind === 'instructed' && given.handle.message).toMatchObject({ operation_mode: idle.id });
      expect(policyRun.problems).toEqual([]);
    } finally {
      await policyRun.close();
    }
  });

  it('[R63, R64] leaving charge before the minimum-run timer ends is REJECTED; after it, it SUCCEEDS', async () => {
    const run = runPair(createBattery({ tickMs: 10, speed: 1000, minimumRunMs: 200_000 }), { price: cheap });
    try {
      expect(await run.until(() => finalOf(run, 'FRBC.Instruction'), 'charging')).toBe('SUCCEEDED');
      const actuator = sentOf(run, 'FRBC.SystemDescription')[0]!.actuators[0]!;
      const [, idle, discharge] = actuator.operation_modes.map((m) => m.id);
      const instruct = (mode: string) => {
        const id = crypto.randomUUID();
        // The CEM's API lets these through: the references hold; the RM says no (Q14).
        void run.cem.send({
          message_type: 'FRBC.Instruction',
          id,
          actuator_id: actuator.id,
          operation_mode: mode,
          operation_mode_factor: 0,
          execution_time: new Date().toISOString(),
          abnormal_condition: false,
        });
        return id;
      };
      const statusOf = (id: string, status: string) =>
        run.rmSent.some((m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === status);
      const early = instruct(idle!); // R64: blocked by the running minimum-run timer
      const direct = instruct(discharge!); // R63: no charge → discharge transition
      await run.until(() => statusOf(early, 'REJECTED') && statusOf(direct, 'REJECTED'), 'two rejections');
      // 200 s / speed 1000 = 200 ms after the switch the timer has run out.
      const timer = sentOf(run, 'FRBC.TimerStatus').at(-1)!;
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(timer.finished_at) - Date.now() + 5)));
      const late = instruct(idle!);
      await run.until(() => statusOf(late, 'SUCCEEDED'), 'idle succeeded');
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
