import type { RuleTable } from './rule.js';

/** Intra-message rules for the OMBC messages (filled in per S2-RULES.md §3). */
export const OMBC_RULES: RuleTable = {};
