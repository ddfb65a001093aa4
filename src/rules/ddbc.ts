import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { checkUnique } from './helpers.js';
import { FACTOR_IN_UNIT_RANGE, actuatorIdRules, checkPowerRanges } from './operation-modes.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for DDBC (docs/rules.md#operation-modes, #ddbc). Wire quirks (R88, R89): a DDBC mode's
 * id is `Id`, the commodity list is `supported_commodites`.
 *
 * Implemented:
 * - DDBC.SystemDescription: R69 (unique actuator ids; per actuator unique mode `Id`s, transition
 *   and timer ids), R70 (transitions name modes and timers of their own actuator), R68 (one power
 *   range per commodity quantity per mode), R82 (no duplicate commodity in supported_commodites:
 *   a list of "commodities supported", i.e. a set; it carries the id of the FRBC rule that states
 *   the same for FRBC actuators, docs/rules.md#R82).
 * - DDBC.Instruction, DDBC.ActuatorStatus: R67 (operation_mode_factor in [0, 1]).
 *
 * Skipped, and why:
 * - R82's coverage part (power ranges cover the supported commodities) is FRBC's rule; for DDBC
 *   no source states it, and s2-python has no DDBC support to compare with.
 * - R90 (at least one transition): the prose and the schema disagree (minItems 0); the schema wins.
 * - R62, R87 (status/instruction name an actuator and one of its modes), R63/R64, R71, R86: need
 *   the session's description.
 * - supply_range and present_demand_rate order: NumberRange has no order rule (Q17/Q19).
 */

type SystemDescription = MessageOf<'DDBC.SystemDescription'>;

// R69 (E, MUST; WS/sch/DDBC.OperationMode, Transition, Timer, DDBC.ActuatorDescription) and
// R70 (I, MUST): ids unique per actuator, transitions name modes and timers of their own actuator.
const [uniqueIds, transitionRefs] = actuatorIdRules('Id');

/** R68 (E, MUST; `WS/sch/DDBC.OperationMode`: "at most one PowerRange per CommodityQuantity"). */
const powerRangePerQuantity: Rule<SystemDescription> = {
  id: 'R68',
  summary: 'each operation mode has at most one power range per commodity_quantity',
  check(m) {
    const out: Problem[] = [];
    for (let a = 0; a < m.actuators.length; a++) {
      const modes = m.actuators[a]!.operation_modes;
      for (let o = 0; o < modes.length; o++) {
        const ranges = modes[o]!.power_ranges;
        if (ranges.length < 2) continue;
        checkPowerRanges(out, 'R68', ranges, `$.actuators[${a}].operation_modes[${o}].power_ranges`, `in operation mode '${modes[o]!.Id}'`);
      }
    }
    return out;
  },
};

/** R82 (as for FRBC, see the header): supported_commodites lists each commodity once. */
const uniqueCommodities: Rule<SystemDescription> = {
  id: 'R82',
  summary: 'supported_commodites has no duplicates',
  check(m) {
    const out: Problem[] = [];
    for (let a = 0; a < m.actuators.length; a++) {
      const act = m.actuators[a]!;
      if (act.supported_commodites.length > 1) {
        checkUnique(
          out,
          'R82',
          act.supported_commodites,
          undefined,
          `$.actuators[${a}]`,
          'supported_commodites',
          'commodity',
          `in the supported_commodites of actuator '${act.id}'`,
        );
      }
    }
    return out;
  },
};

/** Intra-message rules for the DDBC messages (docs/rules.md#ddbc). */
export const DDBC_RULES: RuleTable = {
  'DDBC.SystemDescription': [uniqueIds, transitionRefs, powerRangePerQuantity, uniqueCommodities],
  'DDBC.Instruction': [FACTOR_IN_UNIT_RANGE],
  'DDBC.ActuatorStatus': [FACTOR_IN_UNIT_RANGE],
};
