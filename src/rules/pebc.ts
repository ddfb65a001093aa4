import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { checkNotBefore, checkUnique, findDuplicates, problem, reportDuplicates } from './helpers.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for PEBC (docs/rules.md#pebc).
 *
 * Implemented:
 * - PEBC.PowerConstraints: R92 (at least one UPPER_LIMIT and one LOWER_LIMIT range), R93
 *   (range_boundary start ≤ end), R94 (valid_until, when present, not before valid_from).
 * - PEBC.EnergyConstraint: R95 (upper_average_power ≥ lower_average_power; valid_until not before
 *   valid_from).
 * - PEBC.Instruction: R97, intra-message part (at most one envelope per commodity quantity; each
 *   element lower_limit ≤ upper_limit), R98, intra-message part (envelope ids unique in the instruction).
 *
 * Choices:
 * - R92 follows the schema text (docs/rules.md#R92): one UPPER_LIMIT and one LOWER_LIMIT range overall,
 *   whatever their commodity quantities ("multiple … with identical CommodityQuantities and
 *   LimitTypes" are allowed). s2-python is stricter and wants both limit types for every commodity
 *   quantity used; a constraints message that passes here may thus be refused by s2-python tooling.
 * - R93 follows the schema (Q17): start_of_range ≤ end_of_range, so a producer's LOWER_LIMIT
 *   −4000..0 is valid (as in the official PV example) and 0..−4000 is not. s2-python compares
 *   absolute values instead and would do the opposite.
 *
 * Skipped, and why:
 * - R96 (power_constraints_id names constraints the RM sent), the rest of R97 (limits inside the
 *   allowed ranges of the referenced constraints, abnormal-only ranges) and the rest of R98 (envelope
 *   ids unique in the RM for the session): need session knowledge.
 * - R98 "elements chronological, starting at execution_time": elements carry only durations, so
 *   they are consecutive from execution_time by construction.
 * - Other NumberRanges have no order rule (Q17/Q19).
 */

type PowerConstraints = MessageOf<'PEBC.PowerConstraints'>;
type EnergyConstraint = MessageOf<'PEBC.EnergyConstraint'>;
type Instruction = MessageOf<'PEBC.Instruction'>;

/** R92 (E, MUST; `WS/msg/PEBC.PowerConstraints`). Overall, not per commodity quantity — see the header. */
const bothLimitTypes: Rule<PowerConstraints> = {
  id: 'R92',
  summary: 'allowed_limit_ranges has at least one UPPER_LIMIT and at least one LOWER_LIMIT range',
  check(m) {
    const ranges = m.allowed_limit_ranges;
    let upper = false;
    let lower = false;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges[i]!.limit_type === 'UPPER_LIMIT') upper = true;
      else lower = true;
    }
    if (upper && lower) return [];
    const missing = upper ? 'LOWER_LIMIT' : 'UPPER_LIMIT';
    return [
      problem(
        'R92',
        '$.allowed_limit_ranges',
        `allowed_limit_ranges has no ${missing} range: at least one UPPER_LIMIT and one LOWER_LIMIT range are required`,
        ranges.map((r) => r.limit_type),
      ),
    ];
  },
};

/** R93 (E, MUST; `WS/sch/PEBC.AllowedLimitRange`: "start … smaller or equal than the end"), Q17. */
const boundaryOrder: Rule<PowerConstraints> = {
  id: 'R93',
  summary: 'each allowed limit range has start_of_range ≤ end_of_range',
  check(m) {
    const out: Problem[] = [];
    const ranges = m.allowed_limit_ranges;
    for (let i = 0; i < ranges.length; i++) {
      const b = ranges[i]!.range_boundary;
      if (b.start_of_range <= b.end_of_range) continue;
      out.push(
        problem(
          'R93',
          `$.allowed_limit_ranges[${i}].range_boundary`,
          `range_boundary start ${b.start_of_range} is greater than its end ${b.end_of_range} (write ranges from low to high, e.g. -4000..0 for production)`,
          b,
        ),
      );
    }
    return out;
  },
};

/** R94 (E missing / I order, MUST): a validity window cannot end before it starts. */
const constraintsWindow: Rule<PowerConstraints> = {
  id: 'R94',
  summary: 'valid_until, when present, is not before valid_from',
  check(m) {
    const out: Problem[] = [];
    if (m.valid_until !== undefined) checkNotBefore(out, 'R94', m.valid_from, 'valid_from', m.valid_until, 'valid_until');
    return out;
  },
};

/** R95 (E, MUST; `WS/msg/PEBC.EnergyConstraint`: upper "must be greater than or equal to" lower). */
const energyBounds: Rule<EnergyConstraint> = {
  id: 'R95',
  summary: 'upper_average_power ≥ lower_average_power, and valid_until is not before valid_from',
  check(m) {
    const out: Problem[] = [];
    if (!(m.upper_average_power >= m.lower_average_power)) {
      out.push(
        problem(
          'R95',
          '$.upper_average_power',
          `upper_average_power ${m.upper_average_power} is smaller than lower_average_power ${m.lower_average_power}`,
          m.upper_average_power,
        ),
      );
    }
    checkNotBefore(out, 'R95', m.valid_from, 'valid_from', m.valid_until, 'valid_until');
    return out;
  },
};

/** R97 (E, MUST; `WS/msg/PEBC.Instruction`, `WS/sch/PEBC.PowerEnvelopeElement`), intra-message part. */
const envelopes: Rule<Instruction> = {
  id: 'R97',
  summary: 'at most one power envelope per commodity_quantity; each element has lower_limit ≤ upper_limit',
  check(m) {
    const out: Problem[] = [];
    const envs = m.power_envelopes;
    const pairs = findDuplicates(envs, 'commodity_quantity');
    if (pairs)
      reportDuplicates(
        out,
        'R97',
        pairs,
        envs,
        'commodity_quantity',
        '$.power_envelopes',
        'commodity_quantity',
        'by the power envelopes of this instruction',
      );
    for (let i = 0; i < envs.length; i++) {
      const elements = envs[i]!.power_envelope_elements;
      for (let e = 0; e < elements.length; e++) {
        const el = elements[e]!;
        if (el.lower_limit <= el.upper_limit) continue;
        out.push(
          problem(
            'R97',
            `$.power_envelopes[${i}].power_envelope_elements[${e}]`,
            `lower_limit ${el.lower_limit} is greater than upper_limit ${el.upper_limit} in element ${e} of power envelope '${envs[i]!.id}'`,
            el,
          ),
        );
      }
    }
    return out;
  },
};

/** R98 (E, MUST; `WS/sch/PEBC.PowerEnvelope`), intra-message part: ids unique within this instruction. */
const envelopeIds: Rule<Instruction> = {
  id: 'R98',
  summary: 'power envelope ids are unique within the instruction',
  check(m) {
    const out: Problem[] = [];
    checkUnique(out, 'R98', m.power_envelopes, 'id', '$', 'power_envelopes', 'power envelope id', 'in this instruction');
    return out;
  },
};

/** Intra-message rules for the PEBC messages (docs/rules.md#pebc). */
export const PEBC_RULES: RuleTable = {
  'PEBC.PowerConstraints': [bothLimitTypes, boundaryOrder, constraintsWindow],
  'PEBC.EnergyConstraint': [energyBounds],
  'PEBC.Instruction': [envelopes, envelopeIds],
};
