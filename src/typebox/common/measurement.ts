import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from './primitives.js';
import { PowerForecastElement, PowerValue } from './power.js';

/**
 * Sent by the RM whenever it has new readings, reporting the power actually measured at
 * `measurement_timestamp`, with at most one value per commodity quantity (normally those listed in
 * `provides_power_measurement_types`).
 */
export const PowerMeasurement = Type.Object(
  {
    message_type: Type.Literal('PowerMeasurement'),
    message_id: ID,
    measurement_timestamp: DateTime,
    values: Type.Array(PowerValue, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false, title: 'PowerMeasurement' },
);
export type PowerMeasurement = Static<typeof PowerMeasurement>;

/**
 * Sent by the RM (meaningful only if it announced `provides_forecast`) to tell the CEM how much power
 * it expects to use or produce, as consecutive time slices beginning at `start_time`.
 */
export const PowerForecast = Type.Object(
  {
    message_type: Type.Literal('PowerForecast'),
    message_id: ID,
    start_time: DateTime,
    elements: Type.Array(PowerForecastElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'PowerForecast' },
);
export type PowerForecast = Static<typeof PowerForecast>;
