import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the RM under OMBC whenever the device's state changes, giving the active operation mode
 * and factor and, once a switch has happened, the previous mode and when the switch began.
 */
export const OMBCStatus = Type.Object(
  {
    message_type: Type.Literal('OMBC.Status'),
    message_id: ID,
    active_operation_mode_id: ID,
    operation_mode_factor: Type.Number(),
    previous_operation_mode_id: Type.Optional(ID),
    transition_timestamp: Type.Optional(DateTime),
  },
  { additionalProperties: false, title: 'OMBC_Status' },
);
export type OMBCStatus = Static<typeof OMBCStatus>;

/**
 * Sent by the RM under OMBC to tell the CEM when a timer finishes (or finished), so the CEM knows
 * when blocked transitions become possible again. Unlike FRBC/DDBC there is no actuator reference.
 */
export const OMBCTimerStatus = Type.Object(
  {
    message_type: Type.Literal('OMBC.TimerStatus'),
    message_id: ID,
    timer_id: ID,
    finished_at: DateTime,
  },
  { additionalProperties: false, title: 'OMBC_TimerStatus' },
);
export type OMBCTimerStatus = Static<typeof OMBCTimerStatus>;
