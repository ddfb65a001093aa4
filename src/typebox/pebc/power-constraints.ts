import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID, NumberRange, StringEnum } from '../common/primitives.js';
import { CommodityQuantity } from '../common/enums.js';

/**
 * Whether a PEBC allowed limit range applies to the envelope's upper or its lower limit.
 */
export const PEBCPowerEnvelopeLimitType = StringEnum(['UPPER_LIMIT', 'LOWER_LIMIT'], { title: 'PEBC_PowerEnvelopeLimitType' });
export type PEBCPowerEnvelopeLimitType = Static<typeof PEBCPowerEnvelopeLimitType>;

/**
 * What curtailing the device does to the energy involved: `VANISH` (it is simply lost,
 * e.g. curtailed PV) or `DEFER` (it is postponed and will be made up later).
 */
export const PEBCPowerEnvelopeConsequenceType = StringEnum(['VANISH', 'DEFER'], { title: 'PEBC_PowerEnvelopeConsequenceType' });
export type PEBCPowerEnvelopeConsequenceType = Static<typeof PEBCPowerEnvelopeConsequenceType>;

/**
 * A band within which the CEM may place the upper or lower limit of a power envelope for one
 * commodity quantity, optionally only during abnormal conditions.
 */
export const PEBCAllowedLimitRange = Type.Object(
  {
    commodity_quantity: CommodityQuantity,
    limit_type: PEBCPowerEnvelopeLimitType,
    range_boundary: NumberRange,
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'PEBC_AllowedLimitRange' },
);
export type PEBCAllowedLimitRange = Static<typeof PEBCAllowedLimitRange>;

/**
 * Sent by the RM under PEBC to tell the CEM within which bounds it may set power envelopes and
 * what limiting power implies (energy lost or deferred). Must offer ranges for both the upper and the lower limit.
 */
export const PEBCPowerConstraints = Type.Object(
  {
    message_type: Type.Literal('PEBC.PowerConstraints'),
    message_id: ID,
    id: ID,
    valid_from: DateTime,
    valid_until: Type.Optional(DateTime),
    consequence_type: PEBCPowerEnvelopeConsequenceType,
    allowed_limit_ranges: Type.Array(PEBCAllowedLimitRange, { minItems: 2, maxItems: 100 }),
  },
  { additionalProperties: false, title: 'PEBC_PowerConstraints' },
);
export type PEBCPowerConstraints = Static<typeof PEBCPowerConstraints>;
