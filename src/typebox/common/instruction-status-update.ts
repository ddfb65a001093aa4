import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from './primitives.js';
import { InstructionStatus } from './enums.js';

/**
 * Sent by the RM, under any active control type, to report progress of a CEM instruction
 * (accepted, started, succeeded, rejected, ...). `instruction_id` is the instruction's `id`, not its
 * `message_id`; `timestamp` is when the status last changed.
 */
export const InstructionStatusUpdate = Type.Object(
  {
    message_type: Type.Literal('InstructionStatusUpdate'),
    message_id: ID,
    instruction_id: ID,
    status_type: InstructionStatus,
    timestamp: DateTime,
  },
  { additionalProperties: false, title: 'InstructionStatusUpdate' },
);
export type InstructionStatusUpdate = Static<typeof InstructionStatusUpdate>;
