import { spec } from '../message-spec.js';
import { FRBCInstruction } from './instruction.js';
import { FRBCActuatorStatus, FRBCStorageStatus, FRBCTimerStatus } from './status.js';
import { FRBCFillLevelTargetProfile, FRBCLeakageBehaviour, FRBCUsageForecast } from './storage-profiles.js';
import { FRBCSystemDescription } from './system-description.js';

export * from './system-description.js';
export * from './status.js';
export * from './storage-profiles.js';
export * from './instruction.js';

/** Fill Rate Based Control: storage-like devices steered by choosing operation modes per actuator. */
export const FRBC_MESSAGES = {
  'FRBC.SystemDescription': spec(FRBCSystemDescription, 'RM', 'FRBC', { revocable: 'message_id' }),
  'FRBC.ActuatorStatus': spec(FRBCActuatorStatus, 'RM', 'FRBC'),
  'FRBC.StorageStatus': spec(FRBCStorageStatus, 'RM', 'FRBC'),
  'FRBC.LeakageBehaviour': spec(FRBCLeakageBehaviour, 'RM', 'FRBC'),
  'FRBC.UsageForecast': spec(FRBCUsageForecast, 'RM', 'FRBC'),
  'FRBC.FillLevelTargetProfile': spec(FRBCFillLevelTargetProfile, 'RM', 'FRBC'),
  'FRBC.TimerStatus': spec(FRBCTimerStatus, 'RM', 'FRBC'),
  'FRBC.Instruction': spec(FRBCInstruction, 'CEM', 'FRBC', { instruction: true, revocable: 'id' }),
} as const;
