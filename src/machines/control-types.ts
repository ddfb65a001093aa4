import { ddbcRules } from '../rules/knowledge/ddbc.js';
import { frbcRules } from '../rules/knowledge/frbc.js';
import { ombcRules } from '../rules/knowledge/ombc.js';
import { pebcRules } from '../rules/knowledge/pebc.js';
import { ppbcRules } from '../rules/knowledge/ppbc.js';
import type { ControlTypeRules } from '../rules/knowledge/types.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import { createControlTypeMachine } from './control-type.js';

/** The rules of each control type, behind its activation statechart. */
export const CONTROL_TYPE_RULES: Record<ControlTypeShort, ControlTypeRules<unknown>> = {
  FRBC: frbcRules,
  PPBC: ppbcRules,
  OMBC: ombcRules,
  PEBC: pebcRules,
  DDBC: ddbcRules,
};

/** The activation statechart of each control type, built from its rules, by actor name. */
export const CONTROL_TYPE_MACHINES = {
  'ct.FRBC': createControlTypeMachine(CONTROL_TYPE_RULES.FRBC),
  'ct.PPBC': createControlTypeMachine(CONTROL_TYPE_RULES.PPBC),
  'ct.OMBC': createControlTypeMachine(CONTROL_TYPE_RULES.OMBC),
  'ct.PEBC': createControlTypeMachine(CONTROL_TYPE_RULES.PEBC),
  'ct.DDBC': createControlTypeMachine(CONTROL_TYPE_RULES.DDBC),
};
