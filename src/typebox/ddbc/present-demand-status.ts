import { Type, type Static } from '@sinclair/typebox';
import { ID, NumberRange } from '../common/primitives.js';

/**
 * S2 JSON 1.0.0-beta only. Sent by the RM under DDBC to tell the CEM the demand rate the system has
 * to satisfy now. In 0.0.2-beta this was `present_demand_rate` of `DDBC.SystemDescription`; 1.0.0-beta
 * moved it into this status, so the RM can report a changed demand without describing the system again.
 */
export const DDBCPresentDemandStatus = Type.Object(
  {
    message_type: Type.Literal('DDBC.PresentDemandStatus'),
    message_id: ID,
    /** The demand rate to satisfy now, in the unit of the actuators' supply ranges. */
    present_demand_rate: NumberRange,
  },
  { additionalProperties: false, title: 'DDBC_PresentDemandStatus' },
);
export type DDBCPresentDemandStatus = Static<typeof DDBCPresentDemandStatus>;
