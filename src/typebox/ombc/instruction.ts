import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the CEM under OMBC to tell the RM which operation mode (and factor) to switch to,
 * starting at `execution_time` (immediately if that is in the past).
 */
export const OMBCInstruction = Type.Object(
  {
    message_type: Type.Literal('OMBC.Instruction'),
    message_id: ID,
    id: ID,
    execution_time: DateTime,
    operation_mode_id: ID,
    /** 0..1: where in the mode's ranges to operate (0 = start, 1 = end). */
    operation_mode_factor: Type.Number(),
    abnormal_condition: Type.Boolean(),
  },
  { additionalProperties: false, title: 'OMBC_Instruction' },
);
export type OMBCInstruction = Static<typeof OMBCInstruction>;
