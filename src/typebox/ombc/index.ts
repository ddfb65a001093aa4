import { spec } from '../message-spec.js';
import { OMBCInstruction } from './instruction.js';
import { OMBCStatus, OMBCTimerStatus } from './status.js';
import { OMBCSystemDescription } from './system-description.js';

export * from './system-description.js';
export * from './status.js';
export * from './instruction.js';

/** Operation Mode Based Control: one set of operation modes for the whole resource, no storage model. */
export const OMBC_MESSAGES = {
  'OMBC.SystemDescription': spec(OMBCSystemDescription, 'RM', 'OMBC', { revocable: 'message_id' }),
  'OMBC.Status': spec(OMBCStatus, 'RM', 'OMBC'),
  'OMBC.TimerStatus': spec(OMBCTimerStatus, 'RM', 'OMBC'),
  'OMBC.Instruction': spec(OMBCInstruction, 'CEM', 'OMBC', { instruction: true, revocable: 'id' }),
} as const;
