import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the CEM under FRBC to tell the RM which operation mode (and factor) a given actuator
 * should switch to at `execution_time`. Wire quirk: the mode is referenced by `operation_mode`,
 * not `operation_mode_id` as in OMBC and DDBC.
 */
export const FRBCInstruction = Type.Object(
  {
    message_type: Type.Literal('FRBC.Instruction'),
    message_id: ID,
    id: ID,
    actuator_id: ID,
    /** ID of the FRBC operation mode to activate (wire name lacks the usual `_id` suffix). */
    operation_mode: ID,
    /** 0..1: where in the mode's ranges to operate (0 = start, 1 = end). */
    operation_mode_factor: Type.Number(),
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
  },
  { additionalProperties: false, title: 'FRBC_Instruction' },
);
export type FRBCInstruction = Static<typeof FRBCInstruction>;
