import type { Commodity } from '../typebox/common/enums.js';
import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { COMMODITY_BIT, COMMODITY_OF, bandsInOrder, checkUnique, problem, reportBands } from './helpers.js';
import { FACTOR_IN_UNIT_RANGE, actuatorIdRules, checkPowerRanges } from './operation-modes.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for FRBC (docs/rules.md#operation-modes, #frbc).
 *
 * Implemented:
 * - FRBC.SystemDescription: R69 (unique actuator ids; per actuator unique mode, transition and
 *   timer ids), R70 (transitions name modes and timers of their own actuator), R68 (one power range
 *   per commodity quantity in each element), R76 (element fill-level ranges start < end and
 *   contiguous), R82 (supported_commodities without duplicates; each element's power ranges cover
 *   exactly the actuator's supported commodities).
 * - FRBC.Instruction, FRBC.ActuatorStatus: R67 (operation_mode_factor in [0, 1]).
 * - FRBC.LeakageBehaviour: R77 (ranges start < end and contiguous).
 * - FRBC.FillLevelTargetProfile: R78 (each fill_level_range start ≤ end).
 *
 * Choice on R82 (docs/rules.md#R82): the sources make it an inferred SHOULD, but s2-python (the reference RM) enforces
 * it, so an RM built on it never sends a violation, and a description whose element has no power
 * for a commodity the actuator uses (or power for one it does not list) leaves the CEM unable to
 * compute power. It is therefore a rule here, read as "the commodities of the power ranges equal the
 * supported commodities". Two deliberate differences from s2-python: several ranges of one commodity
 * are fine (e.g. ELECTRIC.POWER.L1/L2/L3 of a three-phase charger; R68 still allows one per
 * quantity), whereas s2-python wants exactly one; and a HYDROGEN.FLOW_RATE range is ignored, since
 * no Commodity value exists that an actuator could list for it (Q20). The duplicate check on
 * supported_commodities is s2-python's too and is part of R82 in the catalogue.
 *
 * Skipped, and why:
 * - R62, R63, R64, R71, R75 (references to modes/actuators/timers of the current description,
 *   transitions and timers at run time) and R74 (send storage profiles only when announced): need
 *   the session's SystemDescription.
 * - R80 (fill level within the storage range): a run-time expectation, not a message property.
 * - StorageDescription.fill_level_range and fill_rate order: NumberRange has no order rule (Q17/Q19).
 * - UsageForecast band nesting (R110) and chronology (R111): SHOULD/inferred; elements carry only
 *   durations, so they are consecutive by construction.
 */

type SystemDescription = MessageOf<'FRBC.SystemDescription'>;

// R69 (E, MUST; WS/sch/FRBC.OperationMode, Transition, Timer, FRBC.ActuatorDescription) and
// R70 (I, MUST): ids unique per actuator, transitions name modes and timers of their own actuator.
const [uniqueIds, transitionRefs] = actuatorIdRules('id');

/** R68 (E, MUST; `WS/sch/FRBC.OperationModeElement`: "at most one PowerRange per CommodityQuantity"). */
const powerRangePerQuantity: Rule<SystemDescription> = {
  id: 'R68',
  summary: 'each operation mode element has at most one power range per commodity_quantity',
  check(m) {
    const out: Problem[] = [];
    for (let a = 0; a < m.actuators.length; a++) {
      const modes = m.actuators[a]!.operation_modes;
      for (let o = 0; o < modes.length; o++) {
        const elements = modes[o]!.elements;
        for (let e = 0; e < elements.length; e++) {
          const ranges = elements[e]!.power_ranges;
          if (ranges.length < 2) continue;
          checkPowerRanges(
            out,
            'R68',
            ranges,
            `$.actuators[${a}].operation_modes[${o}].elements[${e}].power_ranges`,
            `in element ${e} of operation mode '${modes[o]!.id}'`,
          );
        }
      }
    }
    return out;
  },
};

/** R76 (E, MUST; `WS/sch/FRBC.OperationMode`, `FRBC.OperationModeElement`). */
const contiguousElements: Rule<SystemDescription> = {
  id: 'R76',
  summary: "an operation mode's element fill_level_ranges each have start < end and are contiguous",
  check(m) {
    const out: Problem[] = [];
    for (let a = 0; a < m.actuators.length; a++) {
      const act = m.actuators[a]!;
      for (let o = 0; o < act.operation_modes.length; o++) {
        const mode = act.operation_modes[o]!;
        if (bandsInOrder(mode.elements)) continue;
        reportBands(
          out,
          'R76',
          mode.elements,
          `$.actuators[${a}].operation_modes[${o}].elements`,
          `in operation mode '${mode.id}' of actuator '${act.id}'`,
        );
      }
    }
    return out;
  },
};

const QUANTITIES: Readonly<Record<Commodity, string>> = {
  ELECTRICITY: 'ELECTRIC.POWER.*',
  HEAT: 'HEAT.*',
  GAS: 'NATURAL_GAS.FLOW_RATE',
  OIL: 'OIL.FLOW_RATE',
};
const COMMODITIES = Object.keys(COMMODITY_BIT) as Commodity[];

/** R82 (inferred, SHOULD in the sources; enforced by s2-python — see the header for the choice). */
const coversCommodities: Rule<SystemDescription> = {
  id: 'R82',
  summary: "supported_commodities has no duplicates and each element's power ranges cover exactly those commodities",
  check(m) {
    const out: Problem[] = [];
    for (let a = 0; a < m.actuators.length; a++) {
      const act = m.actuators[a]!;
      const commodities = act.supported_commodities;
      if (commodities.length > 1) {
        checkUnique(
          out,
          'R82',
          commodities,
          undefined,
          `$.actuators[${a}]`,
          'supported_commodities',
          'commodity',
          `in the supported_commodities of actuator '${act.id}'`,
        );
      }
      let supported = 0;
      for (let c = 0; c < commodities.length; c++) supported |= COMMODITY_BIT[commodities[c]!];
      for (let o = 0; o < act.operation_modes.length; o++) {
        const elements = act.operation_modes[o]!.elements;
        for (let e = 0; e < elements.length; e++) {
          const ranges = elements[e]!.power_ranges;
          let covered = 0;
          for (let r = 0; r < ranges.length; r++) {
            const commodity = COMMODITY_OF[ranges[r]!.commodity_quantity];
            if (commodity !== undefined) covered |= COMMODITY_BIT[commodity];
          }
          if (covered !== supported) reportCoverage(out, m, a, o, e, supported, covered);
        }
      }
    }
    return out;
  },
};

function reportCoverage(out: Problem[], m: SystemDescription, a: number, o: number, e: number, supported: number, covered: number): void {
  const act = m.actuators[a]!;
  const mode = act.operation_modes[o]!;
  const ranges = mode.elements[e]!.power_ranges;
  const path = `$.actuators[${a}].operation_modes[${o}].elements[${e}].power_ranges`;
  for (const commodity of COMMODITIES) {
    if (supported & ~covered & COMMODITY_BIT[commodity]) {
      const quantities = ranges.map((r) => r.commodity_quantity);
      out.push(
        problem(
          'R82',
          path,
          `element ${e} of operation mode '${mode.id}' has no power range for ${commodity} (${QUANTITIES[commodity]}), which actuator '${act.id}' lists in supported_commodities`,
          quantities,
        ),
      );
    }
  }
  for (let r = 0; r < ranges.length; r++) {
    const quantity = ranges[r]!.commodity_quantity;
    const commodity = COMMODITY_OF[quantity];
    if (commodity === undefined || supported & COMMODITY_BIT[commodity]) continue;
    out.push(
      problem(
        'R82',
        `${path}[${r}].commodity_quantity`,
        `power range for ${quantity} belongs to commodity ${commodity}, which actuator '${act.id}' does not list in supported_commodities`,
        quantity,
      ),
    );
  }
}

/** R77 (E, MUST; `WS/msg/FRBC.LeakageBehaviour`, `WS/sch/FRBC.LeakageBehaviourElement`). */
const leakageBands: Rule<MessageOf<'FRBC.LeakageBehaviour'>> = {
  id: 'R77',
  summary: 'leakage element fill_level_ranges each have start < end and are contiguous',
  check(m) {
    const out: Problem[] = [];
    if (!bandsInOrder(m.elements)) reportBands(out, 'R77', m.elements, '$.elements', 'in this leakage behaviour');
    return out;
  },
};

/** R78 (E, MUST; `WS/sch/FRBC.FillLevelTargetProfileElement`: "start … smaller or equal to the end"). */
const targetRanges: Rule<MessageOf<'FRBC.FillLevelTargetProfile'>> = {
  id: 'R78',
  summary: 'each fill-level target range has start ≤ end',
  check(m) {
    const out: Problem[] = [];
    for (let e = 0; e < m.elements.length; e++) {
      const r = m.elements[e]!.fill_level_range;
      if (r.start_of_range <= r.end_of_range) continue;
      out.push(
        problem(
          'R78',
          `$.elements[${e}].fill_level_range`,
          `target fill_level_range start ${r.start_of_range} is greater than its end ${r.end_of_range}`,
          r,
        ),
      );
    }
    return out;
  },
};

/** Intra-message rules for the FRBC messages (docs/rules.md#frbc). */
export const FRBC_RULES: RuleTable = {
  'FRBC.SystemDescription': [uniqueIds, transitionRefs, powerRangePerQuantity, contiguousElements, coversCommodities],
  'FRBC.Instruction': [FACTOR_IN_UNIT_RANGE],
  'FRBC.ActuatorStatus': [FACTOR_IN_UNIT_RANGE],
  'FRBC.LeakageBehaviour': [leakageBands],
  'FRBC.FillLevelTargetProfile': [targetRanges],
};
