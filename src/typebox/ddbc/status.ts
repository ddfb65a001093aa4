import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the RM under DDBC whenever an actuator's state changes, giving the active operation mode
 * and factor and, once a switch has happened, the previous mode and when the switch began.
 */
export const DDBCActuatorStatus = Type.Object(
  {
    message_type: Type.Literal('DDBC.ActuatorStatus'),
    message_id: ID,
    actuator_id: ID,
    active_operation_mode_id: ID,
    operation_mode_factor: Type.Number(),
    previous_operation_mode_id: Type.Optional(ID),
    transition_timestamp: Type.Optional(DateTime),
  },
  { additionalProperties: false, title: 'DDBC_ActuatorStatus' },
);
export type DDBCActuatorStatus = Static<typeof DDBCActuatorStatus>;

/**
 * Sent by the RM under DDBC to tell the CEM when a timer of a given actuator finishes (or finished),
 * so the CEM knows when blocked transitions become possible again.
 */
export const DDBCTimerStatus = Type.Object(
  {
    message_type: Type.Literal('DDBC.TimerStatus'),
    message_id: ID,
    timer_id: ID,
    actuator_id: ID,
    finished_at: DateTime,
  },
  { additionalProperties: false, title: 'DDBC_TimerStatus' },
);
export type DDBCTimerStatus = Static<typeof DDBCTimerStatus>;
