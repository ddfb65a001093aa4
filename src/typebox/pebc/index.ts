import { spec } from '../message-spec.js';
import { PEBCEnergyConstraint } from './energy-constraint.js';
import { PEBCInstruction } from './instruction.js';
import { PEBCPowerConstraints } from './power-constraints.js';

export * from './power-constraints.js';
export * from './energy-constraint.js';
export * from './instruction.js';

/** Power Envelope Based Control: the CEM bounds the power of a device within limits the RM allows. */
export const PEBC_MESSAGES = {
  'PEBC.PowerConstraints': spec(PEBCPowerConstraints, 'RM', 'PEBC', { revocable: 'id' }),
  'PEBC.EnergyConstraint': spec(PEBCEnergyConstraint, 'RM', 'PEBC', { revocable: 'id' }),
  'PEBC.Instruction': spec(PEBCInstruction, 'CEM', 'PEBC', { instruction: true, revocable: 'id' }),
} as const;
