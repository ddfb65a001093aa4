import type { RuleTable } from './rule.js';

/** Intra-message rules for the DDBC messages (filled in per S2-RULES.md §3). */
export const DDBC_RULES: RuleTable = {};
