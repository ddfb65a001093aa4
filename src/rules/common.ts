import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { findDuplicates, reportDuplicates } from './helpers.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for the common messages (docs/rules.md#framing, #measurements).
 *
 * Implemented:
 * - R107 PowerMeasurement: at most one value per commodity_quantity.
 * - R109 PowerForecast: per element at most one power_value per commodity_quantity.
 *
 * Skipped, and why:
 * - R107 second half (only quantities announced in provides_power_measurement_types) and R109
 *   "only if provides_forecast": need the RM details of the session (and are SHOULD).
 * - R109 "elements chronological", R111 (gap-free segments): elements carry only durations, so
 *   they are chronological by construction; nothing to check on one message.
 * - R110 probability-band nesting: SHOULD and inferred; a peer whose bands cross would lose the
 *   whole forecast for a cosmetic fault.
 * - R25 (an RM Handshake lists supported_protocol_versions): checkable on one message, but the
 *   session answers it with INVALID_CONTENT + TERMINATE (no common version), which the session
 *   statechart does; an INVALID_MESSAGE here would pre-empt that.
 * - R24, R27, R32–R35, R42, R45 and the other common rules need session knowledge.
 */

type PowerMeasurement = MessageOf<'PowerMeasurement'>;
type PowerForecast = MessageOf<'PowerForecast'>;

/** R107 (E, MUST; `WS/msg/PowerMeasurement`): one measured value per commodity quantity. */
const oneValuePerQuantity: Rule<PowerMeasurement> = {
  id: 'R107',
  summary: 'PowerMeasurement.values holds at most one value per commodity_quantity',
  check(m) {
    const out: Problem[] = [];
    const pairs = findDuplicates(m.values, 'commodity_quantity');
    if (pairs)
      reportDuplicates(out, 'R107', pairs, m.values, 'commodity_quantity', '$.values', 'commodity_quantity', 'in this measurement');
    return out;
  },
};

/** R109 (E, MUST; `WS/sch/PowerForecastElement`: "at most one PowerForecastValue per CommodityQuantity"). */
const oneForecastValuePerQuantity: Rule<PowerForecast> = {
  id: 'R109',
  summary: 'each PowerForecast element holds at most one power_value per commodity_quantity',
  check(m) {
    const out: Problem[] = [];
    const elements = m.elements;
    for (let e = 0; e < elements.length; e++) {
      const values = elements[e]!.power_values;
      if (values.length < 2) continue;
      const pairs = findDuplicates(values, 'commodity_quantity');
      if (pairs)
        reportDuplicates(
          out,
          'R109',
          pairs,
          values,
          'commodity_quantity',
          `$.elements[${e}].power_values`,
          'commodity_quantity',
          `in forecast element ${e}`,
        );
    }
    return out;
  },
};

/** Intra-message rules for the COMMON messages (docs/rules.md). */
export const COMMON_RULES: RuleTable = {
  PowerMeasurement: [oneValuePerQuantity],
  PowerForecast: [oneForecastValuePerQuantity],
};
