import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';
import { CommodityQuantity } from '../common/enums.js';

/**
 * Sent by the RM under PEBC to state how much energy the device needs (or can deliver) between
 * `valid_from` and `valid_until`, expressed as an upper and lower average power over that window.
 */
export const PEBCEnergyConstraint = Type.Object(
  {
    message_type: Type.Literal('PEBC.EnergyConstraint'),
    message_id: ID,
    id: ID,
    valid_from: DateTime,
    valid_until: DateTime,
    /** Average power (W for electricity) over the validity window; times its length gives energy. */
    upper_average_power: Type.Number(),
    lower_average_power: Type.Number(),
    commodity_quantity: CommodityQuantity,
  },
  { additionalProperties: false, title: 'PEBC_EnergyConstraint' },
);
export type PEBCEnergyConstraint = Static<typeof PEBCEnergyConstraint>;
