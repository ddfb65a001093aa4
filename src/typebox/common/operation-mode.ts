import { Type, type Static } from '@sinclair/typebox';
import { Duration, ID } from './primitives.js';

/**
 * A countdown shared by the transitions of an OMBC system or FRBC/DDBC actuator, used to model rules
 * such as minimum run or rest times: transitions start it, and it can block other transitions until it expires.
 */
export const Timer = Type.Object(
  {
    id: ID,
    diagnostic_label: Type.Optional(Type.String()),
    /** Run time in ms from start until the timer finishes. */
    duration: Duration,
  },
  { additionalProperties: false, title: 'Timer' },
);
export type Timer = Static<typeof Timer>;

/**
 * An allowed switch between two operation modes, listing the timers it (re)starts, the timers that
 * must have expired before it may begin, and optional cost and duration. The wire names of the endpoints are
 * `from` and `to` (operation mode IDs).
 */
export const Transition = Type.Object(
  {
    id: ID,
    from: ID,
    to: ID,
    start_timers: Type.Array(ID, { minItems: 0, maxItems: 1000 }),
    blocking_timers: Type.Array(ID, { minItems: 0, maxItems: 1000 }),
    transition_costs: Type.Optional(Type.Number()),
    /** Time in ms until the device behaves as the `to` mode; absent means negligible. */
    transition_duration: Type.Optional(Duration),
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'Transition' },
);
export type Transition = Static<typeof Transition>;
