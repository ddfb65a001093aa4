import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the CEM under DDBC to tell the RM which operation mode (and factor) a given actuator
 * should switch to, starting at `execution_time` (immediately if that is in the past).
 */
export const DDBCInstruction = Type.Object(
  {
    message_type: Type.Literal('DDBC.Instruction'),
    message_id: ID,
    id: ID,
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
    actuator_id: ID,
    operation_mode_id: ID,
    /** 0..1: where in the mode's ranges to operate (0 = start, 1 = end). */
    operation_mode_factor: Type.Number(),
  },
  { additionalProperties: false, title: 'DDBC_Instruction' },
);
export type DDBCInstruction = Static<typeof DDBCInstruction>;
