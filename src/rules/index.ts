import { COMMON_RULES } from './common.js';
import { DDBC_RULES } from './ddbc.js';
import { FRBC_RULES } from './frbc.js';
import { OMBC_RULES } from './ombc.js';
import { PEBC_RULES } from './pebc.js';
import { PPBC_RULES } from './ppbc.js';
import { mergeRuleTables } from './rule.js';

export * from './rule.js';
export { COMMON_RULES, FRBC_RULES, PPBC_RULES, OMBC_RULES, PEBC_RULES, DDBC_RULES };

/** Every intra-message rule, for codecs that know all 35 messages. */
export const ALL_RULES = mergeRuleTables(COMMON_RULES, FRBC_RULES, PPBC_RULES, OMBC_RULES, PEBC_RULES, DDBC_RULES);
