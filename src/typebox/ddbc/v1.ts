import { spec } from '../message-spec.js';
import { DDBC_MESSAGES } from './index.js';
import { DDBCPresentDemandStatus } from './present-demand-status.js';
import { DDBCSystemDescriptionV1 } from './system-description-v1.js';

export { DDBCPresentDemandStatus } from './present-demand-status.js';
export { DDBCSystemDescriptionV1 } from './system-description-v1.js';

/**
 * DDBC in S2 JSON 1.0.0-beta: the 0.0.2-beta messages (the very same schema objects, so validators
 * compiled for one set serve the other) except the description, which lost `present_demand_rate`,
 * plus `DDBC.PresentDemandStatus`, which carries it (RM → CEM, a status like the others). The
 * description keeps its registry order; the new status follows it.
 */
export const DDBC_MESSAGES_V1 = {
  'DDBC.SystemDescription': spec(DDBCSystemDescriptionV1, 'RM', 'DDBC', { revocable: 'message_id' }),
  'DDBC.PresentDemandStatus': spec(DDBCPresentDemandStatus, 'RM', 'DDBC'),
  'DDBC.ActuatorStatus': DDBC_MESSAGES['DDBC.ActuatorStatus'],
  'DDBC.AverageDemandRateForecast': DDBC_MESSAGES['DDBC.AverageDemandRateForecast'],
  'DDBC.TimerStatus': DDBC_MESSAGES['DDBC.TimerStatus'],
  'DDBC.Instruction': DDBC_MESSAGES['DDBC.Instruction'],
} as const;
