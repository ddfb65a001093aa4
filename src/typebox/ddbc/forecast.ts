import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Duration, ID } from '../common/primitives.js';

/**
 * One time slice of a DDBC demand forecast: its duration (ms) and the expected demand rate,
 * optionally bracketed by 68 %, 95 % and 100 % bounds.
 */
export const DDBCAverageDemandRateForecastElement = Type.Object(
  {
    duration: Duration,
    demand_rate_upper_limit: Type.Optional(Type.Number()),
    demand_rate_upper_95PPR: Type.Optional(Type.Number()),
    demand_rate_upper_68PPR: Type.Optional(Type.Number()),
    demand_rate_expected: Type.Number(),
    demand_rate_lower_68PPR: Type.Optional(Type.Number()),
    demand_rate_lower_95PPR: Type.Optional(Type.Number()),
    demand_rate_lower_limit: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, title: 'DDBC_AverageDemandRateForecastElement' },
);
export type DDBCAverageDemandRateForecastElement = Static<typeof DDBCAverageDemandRateForecastElement>;

/**
 * Sent by the RM under DDBC (if it set `provides_average_demand_rate_forecast`) to predict
 * how the demand it has to satisfy will evolve, as consecutive elements starting at `start_time`.
 */
export const DDBCAverageDemandRateForecast = Type.Object(
  {
    message_type: Type.Literal('DDBC.AverageDemandRateForecast'),
    message_id: ID,
    start_time: DateTime,
    elements: Type.Array(DDBCAverageDemandRateForecastElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'DDBC_AverageDemandRateForecast' },
);
export type DDBCAverageDemandRateForecast = Static<typeof DDBCAverageDemandRateForecast>;
