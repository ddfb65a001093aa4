import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Duration, ID, NumberRange } from '../common/primitives.js';

/**
 * Leakage rate that applies while the fill level lies within `fill_level_range`.
 */
export const FRBCLeakageBehaviourElement = Type.Object(
  {
    fill_level_range: NumberRange,
    /** Fill-level loss per second; positive means the level drops. */
    leakage_rate: Type.Number(),
  },
  { additionalProperties: false, title: 'FRBC_LeakageBehaviourElement' },
);
export type FRBCLeakageBehaviourElement = Static<typeof FRBCLeakageBehaviourElement>;

/**
 * Sent by the RM under FRBC (if the storage announced `provides_leakage_behaviour`) to describe how
 * the storage loses fill level by itself, per fill-level band, from `valid_from` onwards.
 */
export const FRBCLeakageBehaviour = Type.Object(
  {
    message_type: Type.Literal('FRBC.LeakageBehaviour'),
    message_id: ID,
    valid_from: DateTime,
    elements: Type.Array(FRBCLeakageBehaviourElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'FRBC_LeakageBehaviour' },
);
export type FRBCLeakageBehaviour = Static<typeof FRBCLeakageBehaviour>;

/**
 * One time slice of an FRBC usage forecast: its duration (ms) and the expected usage rate,
 * optionally bracketed by 68 %, 95 % and 100 % bounds.
 */
export const FRBCUsageForecastElement = Type.Object(
  {
    duration: Duration,
    usage_rate_upper_limit: Type.Optional(Type.Number()),
    usage_rate_upper_95PPR: Type.Optional(Type.Number()),
    usage_rate_upper_68PPR: Type.Optional(Type.Number()),
    usage_rate_expected: Type.Number(),
    usage_rate_lower_68PPR: Type.Optional(Type.Number()),
    usage_rate_lower_95PPR: Type.Optional(Type.Number()),
    usage_rate_lower_limit: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, title: 'FRBC_UsageForecastElement' },
);
export type FRBCUsageForecastElement = Static<typeof FRBCUsageForecastElement>;

/**
 * Sent by the RM under FRBC (if the storage announced `provides_usage_forecast`) to predict how fast
 * the fill level will be drawn down by usage, as consecutive elements starting at `start_time`.
 */
export const FRBCUsageForecast = Type.Object(
  {
    message_type: Type.Literal('FRBC.UsageForecast'),
    message_id: ID,
    start_time: DateTime,
    elements: Type.Array(FRBCUsageForecastElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'FRBC_UsageForecast' },
);
export type FRBCUsageForecast = Static<typeof FRBCUsageForecast>;

/**
 * One time slice of a fill-level target: for `duration` ms the fill level should be kept
 * within `fill_level_range`.
 */
export const FRBCFillLevelTargetProfileElement = Type.Object(
  {
    duration: Duration,
    fill_level_range: NumberRange,
  },
  { additionalProperties: false, title: 'FRBC_FillLevelTargetProfileElement' },
);
export type FRBCFillLevelTargetProfileElement = Static<typeof FRBCFillLevelTargetProfileElement>;

/**
 * Sent by the RM under FRBC (if the storage announced `provides_fill_level_target_profile`) to
 * state what fill levels the CEM should aim for over time, e.g. a charged EV by departure time.
 */
export const FRBCFillLevelTargetProfile = Type.Object(
  {
    message_type: Type.Literal('FRBC.FillLevelTargetProfile'),
    message_id: ID,
    start_time: DateTime,
    elements: Type.Array(FRBCFillLevelTargetProfileElement, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'FRBC_FillLevelTargetProfile' },
);
export type FRBCFillLevelTargetProfile = Static<typeof FRBCFillLevelTargetProfile>;
