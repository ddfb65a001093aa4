import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Duration, ID } from '../common/primitives.js';
import { CommodityQuantity } from '../common/enums.js';

/**
 * One time slice of a power envelope: for `duration` ms the RM should keep power between
 * `lower_limit` and `upper_limit` (W for electric power).
 */
export const PEBCPowerEnvelopeElement = Type.Object(
  {
    duration: Duration,
    upper_limit: Type.Number(),
    lower_limit: Type.Number(),
  },
  { additionalProperties: false, title: 'PEBC_PowerEnvelopeElement' },
);
export type PEBCPowerEnvelopeElement = Static<typeof PEBCPowerEnvelopeElement>;

/**
 * A time series of power bounds for one commodity quantity that the CEM asks the RM to stay within.
 */
export const PEBCPowerEnvelope = Type.Object(
  {
    id: ID,
    commodity_quantity: CommodityQuantity,
    power_envelope_elements: Type.Array(PEBCPowerEnvelopeElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'PEBC_PowerEnvelope' },
);
export type PEBCPowerEnvelope = Static<typeof PEBCPowerEnvelope>;

/**
 * Sent by the CEM under PEBC to impose power envelopes (at most one per commodity quantity) on the RM
 * from `execution_time`, chosen within a PEBC.PowerConstraints the RM sent, referenced by `power_constraints_id`.
 */
export const PEBCInstruction = Type.Object(
  {
    message_type: Type.Literal('PEBC.Instruction'),
    message_id: ID,
    id: ID,
    execution_time: DateTime,
    abnormal_condition: Type.Boolean(),
    power_constraints_id: ID,
    power_envelopes: Type.Array(PEBCPowerEnvelope, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false, title: 'PEBC_Instruction' },
);
export type PEBCInstruction = Static<typeof PEBCInstruction>;
