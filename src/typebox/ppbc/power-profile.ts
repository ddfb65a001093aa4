import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Duration, ID } from '../common/primitives.js';
import { PowerForecastValue } from '../common/power.js';

/**
 * One step of a power sequence: its duration (ms) and the expected power for each commodity
 * quantity during that step.
 */
export const PPBCPowerSequenceElement = Type.Object(
  {
    duration: Duration,
    power_values: Type.Array(PowerForecastValue, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false, title: 'PPBC_PowerSequenceElement' },
);
export type PPBCPowerSequenceElement = Static<typeof PPBCPowerSequenceElement>;

/**
 * One candidate power profile within a container, made of consecutive steps, stating whether it may
 * be paused and how long the device may wait after the previous sequence before this one starts.
 */
export const PPBCPowerSequence = Type.Object(
  {
    id: ID,
    elements: Type.Array(PPBCPowerSequenceElement, { minItems: 1, maxItems: 288 }),
    is_interruptible: Type.Boolean(),
    /** Longest allowed wait (ms) between the previous sequence ending and this one starting. */
    max_pause_before: Type.Optional(Duration),
    abnormal_condition_only: Type.Boolean(),
  },
  { additionalProperties: false, title: 'PPBC_PowerSequence' },
);
export type PPBCPowerSequence = Static<typeof PPBCPowerSequence>;

/**
 * A group of alternative power sequences, of which the CEM picks exactly one; containers in a
 * profile run one after another.
 */
export const PPBCPowerSequenceContainer = Type.Object(
  {
    id: ID,
    power_sequences: Type.Array(PPBCPowerSequence, { minItems: 1, maxItems: 288 }),
  },
  { additionalProperties: false, title: 'PPBC_PowerSequenceContainer' },
);
export type PPBCPowerSequenceContainer = Static<typeof PPBCPowerSequenceContainer>;

/**
 * Sent by the RM under PPBC to describe a flexible power profile that has to run between
 * `start_time` and `end_time`, as ordered containers of alternative sequences. Wire quirk: the list is
 * named `power_sequences_containers` (plural 'sequences').
 */
export const PPBCPowerProfileDefinition = Type.Object(
  {
    message_type: Type.Literal('PPBC.PowerProfileDefinition'),
    message_id: ID,
    id: ID,
    start_time: DateTime,
    end_time: DateTime,
    power_sequences_containers: Type.Array(PPBCPowerSequenceContainer, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'PPBC_PowerProfileDefinition' },
);
export type PPBCPowerProfileDefinition = Static<typeof PPBCPowerProfileDefinition>;
