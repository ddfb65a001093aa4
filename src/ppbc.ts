/**
 * s2-engine/ppbc — everything specific to PPBC: its messages (TypeBox schemas and static types),
 * its registry entries, its rules, the typed handler shapes for both roles, and a codec that knows
 * only the common messages and PPBC's (its validators compile on first use).
 *
 * @module s2-engine/ppbc
 */
import { COMMON_RULES } from './rules/common.js';
import { PPBC_RULES } from './rules/ppbc.js';
import { mergeRuleTables } from './rules/rule.js';
import { Codec, type CodecOptions } from './codec/codec.js';
import { COMMON_MESSAGES } from './typebox/common/index.js';
import { PPBC_MESSAGES } from './typebox/ppbc/index.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from './roles/cem-control.js';
import type { RmControlTypeHandler } from './roles/rm-control.js';
import type { MessageFrom } from './typebox/registry.js';

export * from './typebox/ppbc/index.js';
export { PPBC_RULES } from './rules/ppbc.js';
export { ppbcRules } from './rules/knowledge/ppbc.js';

/** An RM's PPBC implementation: `createRmClient({ controlTypes: { PPBC: handler } })`. */
export type PPBCRmHandler = RmControlTypeHandler<'PPBC'>;
/** A CEM's PPBC handling: `createCemServer({ controlTypes: { PPBC: handler } })`. */
export type PPBCCemHandler = CemControlTypeHandler<'PPBC'>;
/** Any PPBC message the RM sends. */
export type PPBCRmMessage = MessageFrom<'PPBC', 'RM'>;
/** Any PPBC message the CEM sends (its instructions). */
export type PPBCCemMessage = MessageFrom<'PPBC', 'CEM'>;
/** What `ctx.instruct` returns in a PPBC handler: the instruction followed through its statuses. */
export type PPBCInstructionHandle = InstructionHandle<CemInstruction<'PPBC'>>;

/** A codec for the common messages and PPBC's only. */
export function createPPBCCodec(options: CodecOptions = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...PPBC_MESSAGES }, mergeRuleTables(COMMON_RULES, PPBC_RULES), options);
}
