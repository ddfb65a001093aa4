import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID, NumberRange } from '../common/primitives.js';
import { PowerRange } from '../common/power.js';
import { Commodity } from '../common/enums.js';
import { Timer, Transition } from '../common/operation-mode.js';

/**
 * Behaviour of an FRBC operation mode within one fill-level band: the resulting fill rate and
 * power (each from factor 0 at the start of the range to factor 1 at the end) and optional running costs.
 */
export const FRBCOperationModeElement = Type.Object(
  {
    fill_level_range: NumberRange,
    /** Fill-level change per second; start = factor 0, end = factor 1. */
    fill_rate: NumberRange,
    power_ranges: Type.Array(PowerRange, { minItems: 1, maxItems: 10 }),
    running_costs: Type.Optional(NumberRange),
  },
  { additionalProperties: false, title: 'FRBC_OperationModeElement' },
);
export type FRBCOperationModeElement = Static<typeof FRBCOperationModeElement>;

/**
 * One way an FRBC actuator can run, described piecewise over the fill level by its elements,
 * optionally restricted to abnormal conditions.
 */
export const FRBCOperationMode = Type.Object(
  {
    id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    elements: Type.Array(FRBCOperationModeElement, { minItems: 1, maxItems: 100 }),
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'FRBC_OperationMode' },
);
export type FRBCOperationMode = Static<typeof FRBCOperationMode>;

/**
 * Describes one FRBC actuator that changes the storage's fill level: the commodities it uses,
 * its operation modes, the transitions between them and the timers guarding those transitions.
 */
export const FRBCActuatorDescription = Type.Object(
  {
    id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    supported_commodities: Type.Array(Commodity, { minItems: 1, maxItems: 4 }),
    operation_modes: Type.Array(FRBCOperationMode, { minItems: 1, maxItems: 100 }),
    transitions: Type.Array(Transition, { minItems: 0, maxItems: 1000 }),
    timers: Type.Array(Timer, { minItems: 0, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'FRBC_ActuatorDescription' },
);
export type FRBCActuatorDescription = Static<typeof FRBCActuatorDescription>;

/**
 * Describes the storage controlled under FRBC: the fill-level range to stay within and which
 * optional FRBC messages (leakage, usage forecast, fill-level target) the RM will supply.
 */
export const FRBCStorageDescription = Type.Object(
  {
    diagnostic_label: Type.Optional(Type.String()),
    fill_level_label: Type.Optional(Type.String()),
    provides_leakage_behaviour: Type.Boolean(),
    provides_fill_level_target_profile: Type.Boolean(),
    provides_usage_forecast: Type.Boolean(),
    fill_level_range: NumberRange,
  },
  { additionalProperties: false, title: 'FRBC_StorageDescription' },
);
export type FRBCStorageDescription = Static<typeof FRBCStorageDescription>;

/**
 * Sent by the RM after FRBC is selected, and again whenever the system changes, to describe the
 * storage and the actuators the CEM can use to steer its fill level, valid from `valid_from`.
 */
export const FRBCSystemDescription = Type.Object(
  {
    message_type: Type.Literal('FRBC.SystemDescription'),
    message_id: ID,
    valid_from: DateTime,
    actuators: Type.Array(FRBCActuatorDescription, { minItems: 1, maxItems: 10 }),
    storage: FRBCStorageDescription,
  },
  { additionalProperties: false, title: 'FRBC_SystemDescription' },
);
export type FRBCSystemDescription = Static<typeof FRBCSystemDescription>;
