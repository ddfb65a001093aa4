import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the CEM under PPBC to pick one sequence from a container of a power profile and
 * schedule it to start at `execution_time`.
 */
export const PPBCScheduleInstruction = Type.Object(
  {
    message_type: Type.Literal('PPBC.ScheduleInstruction'),
    message_id: ID,
    id: ID,
    power_profile_id: ID,
    sequence_container_id: ID,
    power_sequence_id: ID,
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
  },
  { additionalProperties: false, title: 'PPBC_ScheduleInstruction' },
);
export type PPBCScheduleInstruction = Static<typeof PPBCScheduleInstruction>;

/**
 * Sent by the CEM under PPBC to pause a running, interruptible power sequence at
 * `execution_time`.
 */
export const PPBCStartInterruptionInstruction = Type.Object(
  {
    message_type: Type.Literal('PPBC.StartInterruptionInstruction'),
    message_id: ID,
    id: ID,
    power_profile_id: ID,
    sequence_container_id: ID,
    power_sequence_id: ID,
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
  },
  { additionalProperties: false, title: 'PPBC_StartInterruptionInstruction' },
);
export type PPBCStartInterruptionInstruction = Static<typeof PPBCStartInterruptionInstruction>;

/**
 * Sent by the CEM under PPBC to resume a previously paused power sequence at `execution_time`.
 */
export const PPBCEndInterruptionInstruction = Type.Object(
  {
    message_type: Type.Literal('PPBC.EndInterruptionInstruction'),
    message_id: ID,
    id: ID,
    power_profile_id: ID,
    sequence_container_id: ID,
    power_sequence_id: ID,
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
  },
  { additionalProperties: false, title: 'PPBC_EndInterruptionInstruction' },
);
export type PPBCEndInterruptionInstruction = Static<typeof PPBCEndInterruptionInstruction>;
