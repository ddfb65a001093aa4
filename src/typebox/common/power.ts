import { Type, type Static } from '@sinclair/typebox';
import { Duration } from './primitives.js';
import { CommodityQuantity } from './enums.js';

/**
 * A single power figure paired with the commodity quantity it applies to (W for electric power).
 */
export const PowerValue = Type.Object(
  {
    commodity_quantity: CommodityQuantity,
    value: Type.Number(),
  },
  { additionalProperties: false, title: 'PowerValue' },
);
export type PowerValue = Static<typeof PowerValue>;

/**
 * A span of power for one commodity quantity. Inside operation modes, `start_of_range` corresponds
 * to operation_mode_factor 0 and `end_of_range` to factor 1.
 */
export const PowerRange = Type.Object(
  {
    start_of_range: Type.Number(),
    end_of_range: Type.Number(),
    commodity_quantity: CommodityQuantity,
  },
  { additionalProperties: false, title: 'PowerRange' },
);
export type PowerRange = Static<typeof PowerRange>;

/**
 * Predicted power for one commodity quantity: a mandatory expected value, optionally bracketed by
 * 68 %, 95 % and 100 % (hard limit) bounds on either side.
 */
export const PowerForecastValue = Type.Object(
  {
    value_upper_limit: Type.Optional(Type.Number()),
    value_upper_95PPR: Type.Optional(Type.Number()),
    value_upper_68PPR: Type.Optional(Type.Number()),
    value_expected: Type.Number(),
    value_lower_68PPR: Type.Optional(Type.Number()),
    value_lower_95PPR: Type.Optional(Type.Number()),
    value_lower_limit: Type.Optional(Type.Number()),
    commodity_quantity: CommodityQuantity,
  },
  { additionalProperties: false, title: 'PowerForecastValue' },
);
export type PowerForecastValue = Static<typeof PowerForecastValue>;

/**
 * One time slice of a PowerForecast: how long it lasts (ms) and the predicted power for each
 * commodity quantity concerned, at most one value per quantity.
 */
export const PowerForecastElement = Type.Object(
  {
    duration: Duration,
    power_values: Type.Array(PowerForecastValue, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false, title: 'PowerForecastElement' },
);
export type PowerForecastElement = Static<typeof PowerForecastElement>;
