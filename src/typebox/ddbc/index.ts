import { spec } from '../message-spec.js';
import { DDBCAverageDemandRateForecast } from './forecast.js';
import { DDBCInstruction } from './instruction.js';
import { DDBCActuatorStatus, DDBCTimerStatus } from './status.js';
import { DDBCSystemDescription } from './system-description.js';

export * from './system-description.js';
export * from './status.js';
export * from './forecast.js';
export * from './instruction.js';

/** Demand Driven Based Control: a demand that must be met, with actuators whose modes the CEM picks. */
export const DDBC_MESSAGES = {
  'DDBC.SystemDescription': spec(DDBCSystemDescription, 'RM', 'DDBC', { revocable: 'message_id' }),
  'DDBC.ActuatorStatus': spec(DDBCActuatorStatus, 'RM', 'DDBC'),
  'DDBC.AverageDemandRateForecast': spec(DDBCAverageDemandRateForecast, 'RM', 'DDBC'),
  'DDBC.TimerStatus': spec(DDBCTimerStatus, 'RM', 'DDBC'),
  'DDBC.Instruction': spec(DDBCInstruction, 'CEM', 'DDBC', { instruction: true, revocable: 'id' }),
} as const;
