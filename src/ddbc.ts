/**
 * s2-engine/ddbc — everything specific to DDBC: its messages (TypeBox schemas and static types),
 * its registry entries, its rules, the typed handler shapes for both roles, and a codec that knows
 * only the common messages and DDBC's (its validators compile on first use). All as S2 JSON
 * 0.0.2-beta defines them; `s2-engine/v1/ddbc` has the same names for 1.0.0-beta.
 *
 * @module s2-engine/ddbc
 */
import { COMMON_RULES } from './rules/common.js';
import { DDBC_RULES } from './rules/ddbc.js';
import { mergeRuleTables } from './rules/rule.js';
import { Codec, type CodecOptions } from './codec/codec.js';
import { COMMON_MESSAGES } from './typebox/common/index.js';
import { DDBC_MESSAGES } from './typebox/ddbc/index.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from './roles/cem-control.js';
import type { RmControlTypeHandler } from './roles/rm-control.js';
import type { MessageFrom } from './typebox/registry.js';

export * from './typebox/ddbc/index.js';
export { DDBC_RULES } from './rules/ddbc.js';
export { ddbcRules } from './rules/knowledge/ddbc.js';

/** An RM's DDBC implementation: `createRmClient({ controlTypes: { DDBC: handler } })`. */
export type DDBCRmHandler = RmControlTypeHandler<'DDBC'>;
/** A CEM's DDBC handling: `createCemServer({ controlTypes: { DDBC: handler } })`. */
export type DDBCCemHandler = CemControlTypeHandler<'DDBC'>;
/** Any DDBC message the RM sends in 0.0.2-beta. */
export type DDBCRmMessage = MessageFrom<'DDBC', 'RM', '0.0.2-beta'>;
/** Any DDBC message the CEM sends (its instructions). */
export type DDBCCemMessage = MessageFrom<'DDBC', 'CEM', '0.0.2-beta'>;
/** What `ctx.instruct` returns in a DDBC handler: the instruction followed through its statuses. */
export type DDBCInstructionHandle = InstructionHandle<CemInstruction<'DDBC'>>;

/** A codec for the common messages and DDBC's only. */
export function createDDBCCodec(options: CodecOptions = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...DDBC_MESSAGES }, mergeRuleTables(COMMON_RULES, DDBC_RULES), options);
}
