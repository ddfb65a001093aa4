import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';

/**
 * Sent by the RM under FRBC whenever an actuator's state changes, giving the active operation mode
 * and factor and, once a switch has happened, the previous mode and when the switch began.
 */
export const FRBCActuatorStatus = Type.Object(
  {
    message_type: Type.Literal('FRBC.ActuatorStatus'),
    message_id: ID,
    actuator_id: ID,
    active_operation_mode_id: ID,
    operation_mode_factor: Type.Number(),
    previous_operation_mode_id: Type.Optional(ID),
    transition_timestamp: Type.Optional(DateTime),
  },
  { additionalProperties: false, title: 'FRBC_ActuatorStatus' },
);
export type FRBCActuatorStatus = Static<typeof FRBCActuatorStatus>;

/**
 * Sent by the RM under FRBC to report the current fill level of the storage (in the units
 * described by the storage's `fill_level_label`).
 */
export const FRBCStorageStatus = Type.Object(
  {
    message_type: Type.Literal('FRBC.StorageStatus'),
    message_id: ID,
    present_fill_level: Type.Number(),
  },
  { additionalProperties: false, title: 'FRBC_StorageStatus' },
);
export type FRBCStorageStatus = Static<typeof FRBCStorageStatus>;

/**
 * Sent by the RM under FRBC to tell the CEM when a timer of a given actuator finishes (or finished),
 * so the CEM knows when blocked transitions become possible again.
 */
export const FRBCTimerStatus = Type.Object(
  {
    message_type: Type.Literal('FRBC.TimerStatus'),
    message_id: ID,
    timer_id: ID,
    actuator_id: ID,
    finished_at: DateTime,
  },
  { additionalProperties: false, title: 'FRBC_TimerStatus' },
);
export type FRBCTimerStatus = Static<typeof FRBCTimerStatus>;
