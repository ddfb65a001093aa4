import type { RuleTable } from './rule.js';

/** Intra-message rules for the COMMON messages (filled in per S2-RULES.md §3). */
export const COMMON_RULES: RuleTable = {};
