import { frbcRules } from '../rules/knowledge/frbc.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import type { ControlTypeRules } from '../rules/knowledge/types.js';
import { createControlTypeMachine } from './control-type.js';

/** The activation statechart of each control type, built from its rules. */
export const frbcMachine = createControlTypeMachine(frbcRules as ControlTypeRules<unknown>);

/** The rules of each control type that has an activation statechart. */
export const CONTROL_TYPE_RULES: Partial<Record<ControlTypeShort, ControlTypeRules<unknown>>> = {
  FRBC: frbcRules as ControlTypeRules<unknown>,
};
