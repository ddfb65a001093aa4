import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { FACTOR_IN_UNIT_RANGE, checkPowerRanges, checkTransitionRefs, checkUniqueModeIds, type ModeScope } from './operation-modes.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for OMBC (docs/rules.md#operation-modes, #ombc). OMBC has no actuators: modes,
 * transitions and timers belong to the system description itself.
 *
 * Implemented:
 * - OMBC.SystemDescription: R69 (unique mode, transition and timer ids in the description; for
 *   modes this is the part of R85 one message can show), R70 (transitions name modes and timers of
 *   the description), R68 (one power range per commodity quantity per mode).
 * - OMBC.Instruction, OMBC.Status: R67 (operation_mode_factor in [0, 1]).
 *
 * Skipped, and why:
 * - R85 beyond one message (mode ids unique in the RM for the whole session), R84 and R62
 *   (instruction/status name a mode of the current description), R63/R64 (transitions and timers
 *   at run time), R71 (TimerStatus names a known timer): need session knowledge.
 * - running_costs order: NumberRange has no order rule (Q17/Q19), and costs are not factor-linked.
 */

type SystemDescription = MessageOf<'OMBC.SystemDescription'>;

function scopeOf(m: SystemDescription): ModeScope {
  return { modes: m.operation_modes, modeKey: 'id', transitions: m.transitions, timers: m.timers };
}

/** R69 (E, MUST; `WS/sch/OMBC.OperationMode`, `Transition`, `Timer`) and the intra-message part of R85. */
const uniqueIds: Rule<SystemDescription> = {
  id: 'R69',
  summary: 'operation mode, transition and timer ids are unique within the system description',
  check(m) {
    const out: Problem[] = [];
    checkUniqueModeIds(out, 'R69', scopeOf(m), '$', 'in this system description');
    return out;
  },
};

/** R70 (I, MUST): a transition naming an unknown mode or timer cannot be used or checked by the CEM. */
const transitionRefs: Rule<SystemDescription> = {
  id: 'R70',
  summary: "transitions' from/to and start/blocking timers name modes and timers of the same description",
  check(m) {
    const out: Problem[] = [];
    checkTransitionRefs(out, 'R70', scopeOf(m), '$', 'of this system description');
    return out;
  },
};

/** R68 (E, MUST; `WS/sch/OMBC.OperationMode`: "at most one PowerRange per CommodityQuantity"). */
const powerRangePerQuantity: Rule<SystemDescription> = {
  id: 'R68',
  summary: 'each operation mode has at most one power range per commodity_quantity',
  check(m) {
    const out: Problem[] = [];
    const modes = m.operation_modes;
    for (let o = 0; o < modes.length; o++) {
      const ranges = modes[o]!.power_ranges;
      if (ranges.length < 2) continue;
      checkPowerRanges(out, 'R68', ranges, `$.operation_modes[${o}].power_ranges`, `in operation mode '${modes[o]!.id}'`);
    }
    return out;
  },
};

/** Intra-message rules for the OMBC messages (docs/rules.md#ombc). */
export const OMBC_RULES: RuleTable = {
  'OMBC.SystemDescription': [uniqueIds, transitionRefs, powerRangePerQuantity],
  'OMBC.Instruction': [FACTOR_IN_UNIT_RANGE],
  'OMBC.Status': [FACTOR_IN_UNIT_RANGE],
};
