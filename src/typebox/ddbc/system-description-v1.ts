import { Type, type Static } from '@sinclair/typebox';
import { DateTime, ID } from '../common/primitives.js';
import { DDBCActuatorDescription } from './system-description.js';

/**
 * `DDBC.SystemDescription` as S2 JSON 1.0.0-beta defines it: the 0.0.2-beta description without
 * `present_demand_rate`, which 1.0.0-beta sends in `DDBC.PresentDemandStatus` instead. Both shapes
 * forbid other fields, so neither version accepts the other's description. Same title as the
 * 0.0.2-beta schema (the official files share it); exported as `DDBCSystemDescription` by
 * `s2-engine/v1/ddbc`.
 */
export const DDBCSystemDescriptionV1 = Type.Object(
  {
    message_type: Type.Literal('DDBC.SystemDescription'),
    message_id: ID,
    valid_from: DateTime,
    actuators: Type.Array(DDBCActuatorDescription, { minItems: 1, maxItems: 10 }),
    provides_average_demand_rate_forecast: Type.Boolean(),
  },
  { additionalProperties: false, title: 'DDBC_SystemDescription' },
);
export type DDBCSystemDescriptionV1 = Static<typeof DDBCSystemDescriptionV1>;
