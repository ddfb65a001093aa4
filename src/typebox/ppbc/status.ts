import { Type, type Static } from '@sinclair/typebox';
import { Duration, ID, StringEnum } from '../common/primitives.js';

/**
 * Where a container's selected power sequence stands: not yet scheduled, scheduled, executing,
 * paused (interrupted), finished or aborted.
 */
export const PPBCPowerSequenceStatus = StringEnum(['NOT_SCHEDULED', 'SCHEDULED', 'EXECUTING', 'INTERRUPTED', 'FINISHED', 'ABORTED'], {
  title: 'PPBC_PowerSequenceStatus',
});
export type PPBCPowerSequenceStatus = Static<typeof PPBCPowerSequenceStatus>;

/**
 * Progress of one container of a power profile: which sequence was chosen, how far it has
 * run (ms since it started) and its current status.
 */
export const PPBCPowerSequenceContainerStatus = Type.Object(
  {
    power_profile_id: ID,
    sequence_container_id: ID,
    selected_sequence_id: Type.Optional(ID),
    progress: Type.Optional(Duration),
    status: PPBCPowerSequenceStatus,
  },
  { additionalProperties: false, title: 'PPBC_PowerSequenceContainerStatus' },
);
export type PPBCPowerSequenceContainerStatus = Static<typeof PPBCPowerSequenceContainerStatus>;

/**
 * Sent by the RM under PPBC to report, per sequence container, which sequence was chosen and
 * how its execution is going.
 */
export const PPBCPowerProfileStatus = Type.Object(
  {
    message_type: Type.Literal('PPBC.PowerProfileStatus'),
    message_id: ID,
    sequence_container_status: Type.Array(PPBCPowerSequenceContainerStatus, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'PPBC_PowerProfileStatus' },
);
export type PPBCPowerProfileStatus = Static<typeof PPBCPowerProfileStatus>;
