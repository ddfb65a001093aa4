import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID, NumberRange } from '../common/primitives.js';
import { PowerRange } from '../common/power.js';
import { Timer, Transition } from '../common/operation-mode.js';

/**
 * One way an OMBC device can run: the power it uses or produces (scaled by the operation mode
 * factor), optional running costs, and whether it is reserved for abnormal conditions.
 */
export const OMBCOperationMode = Type.Object(
  {
    id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    power_ranges: Type.Array(PowerRange, { minItems: 1, maxItems: 10 }),
    running_costs: Type.Optional(NumberRange),
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'OMBC_OperationMode' },
);
export type OMBCOperationMode = Static<typeof OMBCOperationMode>;

/**
 * Sent by the RM after OMBC is selected, and again whenever the device changes, listing the
 * operation modes the CEM may choose from together with the allowed transitions and their timers.
 */
export const OMBCSystemDescription = Type.Object(
  {
    message_type: Type.Literal('OMBC.SystemDescription'),
    message_id: ID,
    valid_from: DateTime,
    operation_modes: Type.Array(OMBCOperationMode, { minItems: 1, maxItems: 100 }),
    transitions: Type.Array(Transition, { minItems: 0, maxItems: 1000 }),
    timers: Type.Array(Timer, { minItems: 0, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'OMBC_SystemDescription' },
);
export type OMBCSystemDescription = Static<typeof OMBCSystemDescription>;
