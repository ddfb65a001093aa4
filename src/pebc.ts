/**
 * s2-engine/pebc — everything specific to PEBC: its messages (TypeBox schemas and static types),
 * its registry entries, its rules, the typed handler shapes for both roles, and a codec that knows
 * only the common messages and PEBC's (its validators compile on first use).
 *
 * @module s2-engine/pebc
 */
import { COMMON_RULES } from './rules/common.js';
import { PEBC_RULES } from './rules/pebc.js';
import { mergeRuleTables } from './rules/rule.js';
import { Codec, type CodecOptions } from './codec/codec.js';
import { COMMON_MESSAGES } from './typebox/common/index.js';
import { PEBC_MESSAGES } from './typebox/pebc/index.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from './roles/cem-control.js';
import type { RmControlTypeHandler } from './roles/rm-control.js';
import type { MessageFrom } from './typebox/registry.js';

export * from './typebox/pebc/index.js';
export { PEBC_RULES } from './rules/pebc.js';
export { pebcRules } from './rules/knowledge/pebc.js';

/** An RM's PEBC implementation: `createRmClient({ controlTypes: { PEBC: handler } })`. */
export type PEBCRmHandler = RmControlTypeHandler<'PEBC'>;
/** A CEM's PEBC handling: `createCemServer({ controlTypes: { PEBC: handler } })`. */
export type PEBCCemHandler = CemControlTypeHandler<'PEBC'>;
/** Any PEBC message the RM sends. */
export type PEBCRmMessage = MessageFrom<'PEBC', 'RM'>;
/** Any PEBC message the CEM sends (its instructions). */
export type PEBCCemMessage = MessageFrom<'PEBC', 'CEM'>;
/** What `ctx.instruct` returns in a PEBC handler: the instruction followed through its statuses. */
export type PEBCInstructionHandle = InstructionHandle<CemInstruction<'PEBC'>>;

/** A codec for the common messages and PEBC's only. */
export function createPEBCCodec(options: CodecOptions = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...PEBC_MESSAGES }, mergeRuleTables(COMMON_RULES, PEBC_RULES), options);
}
