import type { RuleTable } from './rule.js';

/** Intra-message rules for the PPBC messages (filled in per S2-RULES.md §3). */
export const PPBC_RULES: RuleTable = {};
