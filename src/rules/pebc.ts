import type { RuleTable } from './rule.js';

/** Intra-message rules for the PEBC messages (filled in per S2-RULES.md §3). */
export const PEBC_RULES: RuleTable = {};
