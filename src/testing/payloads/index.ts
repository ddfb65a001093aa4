/** The conformance kit's payload builders: common messages and broken frames, the RM side (devices), the CEM side (instructions). */
export * from './common.js';
export { rmMessageSet, type RmMessageSet } from './rm-messages.js';
export {
  instructionFor,
  strayInstruction,
  DESCRIPTION_TYPE,
  INSTRUCTION_TYPE,
  FOREIGN_TYPE,
  REFERENCE_RULE,
  type InstructionSpec,
} from './cem-messages.js';
