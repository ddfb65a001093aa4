import type { RuleTable } from './rule.js';

/** Intra-message rules for the FRBC messages (filled in per S2-RULES.md §3). */
export const FRBC_RULES: RuleTable = {};
