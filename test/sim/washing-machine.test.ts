import { describe, expect, it } from 'vitest';
import { createWashingMachine } from '../../src/sim/index.js';
import { expectUuidClean, runPair, sentOf } from './harness.js';

describe('simulated PPBC washing machine with the CEM policy', () => {
  it('[R44, R99, R102, R103, R104, R105, R106] schedules the first sequence of every container, interrupts and resumes the interruptible one, and runs the program to FINISHED', async () => {
    // speed 20 000: the 96-minute eco program takes about 290 ms.
    const run = runPair(createWashingMachine({ tickMs: 10, speed: 20_000 }), { interruptionMs: 40 });
    try {
      await run.until(
        () => run.cem.state === 'connected.active.PPBC' && run.rm.state === 'connected.active.PPBC',
        'PPBC active on both sides',
      );
      const definition = await run.until(() => sentOf(run, 'PPBC.PowerProfileDefinition')[0], 'the definition');
      const containers = definition.power_sequences_containers;
      expect(containers.map((c) => c.power_sequences.length)).toEqual([2, 2, 2]);
      expect(containers.some((c) => c.power_sequences.some((s) => s.is_interruptible))).toBe(true);

      // Three schedules and the interruption pair end SUCCEEDED.
      const finals = await run.until(
        () => {
          const f = run.events.filter((e) => e.kind === 'final');
          return f.length === 5 ? f : undefined;
        },
        'five final statuses',
        8000,
      );
      expect(finals.map((e) => e.kind === 'final' && e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      const types = run.events.filter((e) => e.kind === 'instructed').map((e) => e.kind === 'instructed' && e.handle.message.message_type);
      expect(types).toEqual([
        'PPBC.ScheduleInstruction',
        'PPBC.ScheduleInstruction',
        'PPBC.ScheduleInstruction',
        'PPBC.StartInterruptionInstruction',
        'PPBC.EndInterruptionInstruction',
      ]);
      // The first sequence of each container was chosen (R100) and scheduled back to back inside the window (R103).
      const schedules = run.events.flatMap((e) =>
        e.kind === 'instructed' && e.handle.message.message_type === 'PPBC.ScheduleInstruction' ? [e.handle.message] : [],
      );
      expect(schedules.map((m) => m.power_sequence_id)).toEqual(containers.map((c) => c.power_sequences[0]!.id));

      // R105: every status covers every container; R106: each container went NOT_SCHEDULED → SCHEDULED → EXECUTING (⇄ INTERRUPTED) → FINISHED.
      const statuses = sentOf(run, 'PPBC.PowerProfileStatus');
      expect(statuses.every((s) => s.sequence_container_status.length === containers.length)).toBe(true);
      for (const c of containers) {
        const seen = statuses
          .map((s) => s.sequence_container_status.find((x) => x.sequence_container_id === c.id)!.status)
          .filter((s, i, all) => s !== all[i - 1]);
        const interruptible = c.power_sequences[0]!.is_interruptible;
        expect(seen).toEqual(
          interruptible
            ? ['NOT_SCHEDULED', 'SCHEDULED', 'EXECUTING', 'INTERRUPTED', 'EXECUTING', 'FINISHED']
            : ['NOT_SCHEDULED', 'SCHEDULED', 'EXECUTING', 'FINISHED'],
        );
      }
      const last = statuses.at(-1)!.sequence_container_status;
      expect(last.every((s) => s.status === 'FINISHED' && s.progress !== undefined)).toBe(true);
      // The heating of the eco pre-wash shows in the measurements.
      expect(sentOf(run, 'PowerMeasurement').some((m) => m.values[0]!.value === 1800)).toBe(true);
      expect(run.policy.summary()).toMatchObject({ given: 5, open: 0, failed: 0, final: { SUCCEEDED: 5 } });
      expect(run.problems).toEqual([]);
      expectUuidClean(run);
    } finally {
      await run.close();
    }
  });

  it('[R103, R48] a second schedule for a scheduled container is REJECTED; `progress: false` leaves progress out for s2-python', async () => {
    const run = runPair(createWashingMachine({ tickMs: 10, speed: 20_000, progress: false }), { interruptionMs: false });
    try {
      const definition = await run.until(() => sentOf(run, 'PPBC.PowerProfileDefinition')[0], 'the definition');
      await run.until(
        () => run.events.filter((e) => e.kind === 'instructed').length === 3 && sentOf(run, 'PPBC.PowerProfileStatus').length > 1,
        'the schedules',
      );
      const c = definition.power_sequences_containers[2]!;
      const id = crypto.randomUUID();
      void run.cem.send({
        message_type: 'PPBC.ScheduleInstruction',
        id,
        power_profile_id: definition.id,
        sequence_container_id: c.id,
        power_sequence_id: c.power_sequences[1]!.id,
        execution_time: new Date().toISOString(),
        abnormal_condition: false,
      });
      await run.until(
        () =>
          run.rmSent.some((m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === 'REJECTED'),
        'the rejection',
      );
      await run.until(() => run.events.filter((e) => e.kind === 'final').length === 3, 'the program', 8000);
      expect(sentOf(run, 'PPBC.PowerProfileStatus').every((s) => s.sequence_container_status.every((x) => x.progress === undefined))).toBe(
        true,
      );
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });

  it('[R40, Q12, R105] a control-type switch mid-program voids the schedules; selected again, the policy schedules the rest and the program finishes', async () => {
    const run = runPair(createWashingMachine({ tickMs: 10, speed: 20_000 }), { interruptionMs: false });
    try {
      const definition = await run.until(() => sentOf(run, 'PPBC.PowerProfileDefinition')[0], 'the definition');
      const [first, , last] = definition.power_sequences_containers;
      const statusOf = (id: string) =>
        sentOf(run, 'PPBC.PowerProfileStatus')
          .at(-1)
          ?.sequence_container_status.find((s) => s.sequence_container_id === id)?.status;
      await run.until(() => statusOf(first!.id) === 'EXECUTING', 'the pre-wash running');
      run.cem.select('NO_SELECTION');
      await run.until(() => run.events.filter((e) => e.kind === 'final' && e.status === 'VOID').length === 3, 'three void schedules');
      run.cem.select('POWER_PROFILE_BASED_CONTROL');
      await run.until(() => statusOf(last!.id) === 'FINISHED', 'the program finished', 8000);
      // The same definition again (same id), and two new schedules for the containers that had not started.
      expect(new Set(sentOf(run, 'PPBC.PowerProfileDefinition').map((d) => d.id))).toEqual(new Set([definition.id]));
      expect(run.policy.summary()).toMatchObject({ given: 5, final: { VOID: 3, SUCCEEDED: 2 } });
      expect(run.problems).toEqual([]);
    } finally {
      await run.close();
    }
  });
});
