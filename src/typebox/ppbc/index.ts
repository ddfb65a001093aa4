import { spec } from '../message-spec.js';
import { PPBCEndInterruptionInstruction, PPBCScheduleInstruction, PPBCStartInterruptionInstruction } from './instructions.js';
import { PPBCPowerProfileDefinition } from './power-profile.js';
import { PPBCPowerProfileStatus } from './status.js';

export * from './power-profile.js';
export * from './status.js';
export * from './instructions.js';

/** Power Profile Based Control: devices with a power profile whose alternatives the CEM schedules. */
export const PPBC_MESSAGES = {
  'PPBC.PowerProfileDefinition': spec(PPBCPowerProfileDefinition, 'RM', 'PPBC', { revocable: 'id' }),
  'PPBC.PowerProfileStatus': spec(PPBCPowerProfileStatus, 'RM', 'PPBC'),
  'PPBC.ScheduleInstruction': spec(PPBCScheduleInstruction, 'CEM', 'PPBC', { instruction: true, revocable: 'id' }),
  'PPBC.StartInterruptionInstruction': spec(PPBCStartInterruptionInstruction, 'CEM', 'PPBC', { instruction: true, revocable: 'id' }),
  'PPBC.EndInterruptionInstruction': spec(PPBCEndInterruptionInstruction, 'CEM', 'PPBC', { instruction: true, revocable: 'id' }),
} as const;
