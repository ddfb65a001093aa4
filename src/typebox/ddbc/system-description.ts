import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID, NumberRange } from '../common/primitives.js';
import { PowerRange } from '../common/power.js';
import { Commodity } from '../common/enums.js';
import { Timer, Transition } from '../common/operation-mode.js';

/**
 * One way a DDBC actuator can run: the power it draws or delivers and the supply rate it provides,
 * both scaled by the operation mode factor, plus optional running costs. Wire quirk: the identifier
 * is spelled `Id` (capital I), unlike every other operation mode.
 */
export const DDBCOperationMode = Type.Object(
  {
    /** Capital `Id` on the wire, as in the official schema. */
    Id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    power_ranges: Type.Array(PowerRange, { minItems: 1, maxItems: 10 }),
    /** Supply rate delivered towards the demand; start = factor 0, end = factor 1. */
    supply_range: NumberRange,
    running_costs: Type.Optional(NumberRange),
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'DDBC_OperationMode' },
);
export type DDBCOperationMode = Static<typeof DDBCOperationMode>;

/**
 * Describes one DDBC actuator: its operation modes, the transitions between them and the timers
 * guarding those transitions. Wire quirk: the commodity list is spelled `supported_commodites` (sic).
 */
export const DDBCActuatorDescription = Type.Object(
  {
    id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    /** Misspelling (`commodites`) is the official wire name. */
    supported_commodites: Type.Array(Commodity, { minItems: 1, maxItems: 4 }),
    operation_modes: Type.Array(DDBCOperationMode, { minItems: 1, maxItems: 100 }),
    transitions: Type.Array(Transition, { minItems: 0, maxItems: 1000 }),
    timers: Type.Array(Timer, { minItems: 0, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'DDBC_ActuatorDescription' },
);
export type DDBCActuatorDescription = Static<typeof DDBCActuatorDescription>;

/**
 * Sent by the RM after DDBC is selected, and again whenever the system changes, to describe the
 * actuators the CEM can use to meet a demand, the currently present demand rate, and whether a demand
 * forecast will be provided. This is the S2 JSON 0.0.2-beta shape; 1.0.0-beta's is
 * `DDBCSystemDescriptionV1` (system-description-v1.ts), exported as `DDBCSystemDescription` by
 * `s2-engine/v1/ddbc`.
 */
export const DDBCSystemDescription = Type.Object(
  {
    message_type: Type.Literal('DDBC.SystemDescription'),
    message_id: ID,
    valid_from: DateTime,
    actuators: Type.Array(DDBCActuatorDescription, { minItems: 1, maxItems: 10 }),
    present_demand_rate: NumberRange,
    provides_average_demand_rate_forecast: Type.Boolean(),
  },
  { additionalProperties: false, title: 'DDBC_SystemDescription' },
);
export type DDBCSystemDescription = Static<typeof DDBCSystemDescription>;
