import type { Problem } from '../typebox/problem.js';
import type { MessageOf } from '../typebox/registry.js';
import { checkNotBefore, findDuplicates, reportDuplicates } from './helpers.js';
import type { Rule, RuleTable } from './rule.js';

/**
 * Intra-message rules for PPBC (docs/rules.md#ppbc).
 *
 * Implemented:
 * - PPBC.PowerProfileDefinition: R101, intra-message part (container ids unique within the
 *   definition; sequence ids unique within their container), R103, intra-message part (end_time
 *   not before start_time: the window every sequence must fit in cannot be negative).
 *
 * Skipped, and why:
 * - R101 definition id unique in the RM for the session, R102 (instruction paths exist), R103
 *   (one scheduled sequence per container, pauses), R104 (interruptible), R105 (a status for every
 *   container of the definition), R106 (status progression): need session knowledge.
 * - R100 "containers in chronological order": containers carry no times, so there is nothing to
 *   compare on one message (their list order is the chronology).
 * - At most one power value per commodity quantity in a PPBC.PowerSequenceElement: the schema
 *   says "should" there (unlike PowerForecastElement's "shall", R109) and the catalogue lists no rule.
 * - R110/R111 (band nesting, gap-free elements): SHOULD/inferred.
 */

type Definition = MessageOf<'PPBC.PowerProfileDefinition'>;

/** R101 (E, MUST; `WS/sch/PPBC.PowerSequenceContainer`, `WS/sch/PPBC.PowerSequence`), intra-message part. */
const uniqueIds: Rule<Definition> = {
  id: 'R101',
  summary: 'container ids are unique within the definition; sequence ids are unique within their container',
  check(m) {
    const out: Problem[] = [];
    const containers = m.power_sequences_containers;
    const pairs = findDuplicates(containers, 'id');
    if (pairs)
      reportDuplicates(
        out,
        'R101',
        pairs,
        containers,
        'id',
        '$.power_sequences_containers',
        'sequence container id',
        'in this power profile definition',
      );
    for (let c = 0; c < containers.length; c++) {
      const sequences = containers[c]!.power_sequences;
      if (sequences.length < 2) continue;
      const seqPairs = findDuplicates(sequences, 'id');
      if (seqPairs) {
        reportDuplicates(
          out,
          'R101',
          seqPairs,
          sequences,
          'id',
          `$.power_sequences_containers[${c}].power_sequences`,
          'power sequence id',
          `in sequence container '${containers[c]!.id}'`,
        );
      }
    }
    return out;
  },
};

/** R103 (E, MUST; `WS/msg/PPBC.PowerProfileDefinition` start_time/end_time), intra-message part. */
const window: Rule<Definition> = {
  id: 'R103',
  summary: 'end_time is not before start_time',
  check(m) {
    const out: Problem[] = [];
    checkNotBefore(out, 'R103', m.start_time, 'start_time', m.end_time, 'end_time');
    return out;
  },
};

/** Intra-message rules for the PPBC messages (docs/rules.md#ppbc). */
export const PPBC_RULES: RuleTable = {
  'PPBC.PowerProfileDefinition': [uniqueIds, window],
};
