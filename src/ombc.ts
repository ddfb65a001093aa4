/**
 * s2-engine/ombc — everything specific to OMBC: its messages (TypeBox schemas and static types),
 * its registry entries, its rules, the typed handler shapes for both roles, and a codec that knows
 * only the common messages and OMBC's (its validators compile on first use).
 *
 * @module s2-engine/ombc
 */
import { COMMON_RULES } from './rules/common.js';
import { OMBC_RULES } from './rules/ombc.js';
import { mergeRuleTables } from './rules/rule.js';
import { Codec, type CodecOptions } from './codec/codec.js';
import { COMMON_MESSAGES } from './typebox/common/index.js';
import { OMBC_MESSAGES } from './typebox/ombc/index.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from './roles/cem-control.js';
import type { RmControlTypeHandler } from './roles/rm-control.js';
import type { MessageFrom } from './typebox/registry.js';

export * from './typebox/ombc/index.js';
export { OMBC_RULES } from './rules/ombc.js';
export { ombcRules } from './rules/knowledge/ombc.js';

/** An RM's OMBC implementation: `createRmClient({ controlTypes: { OMBC: handler } })`. */
export type OMBCRmHandler = RmControlTypeHandler<'OMBC'>;
/** A CEM's OMBC handling: `createCemServer({ controlTypes: { OMBC: handler } })`. */
export type OMBCCemHandler = CemControlTypeHandler<'OMBC'>;
/** Any OMBC message the RM sends. */
export type OMBCRmMessage = MessageFrom<'OMBC', 'RM'>;
/** Any OMBC message the CEM sends (its instructions). */
export type OMBCCemMessage = MessageFrom<'OMBC', 'CEM'>;
/** What `ctx.instruct` returns in a OMBC handler: the instruction followed through its statuses. */
export type OMBCInstructionHandle = InstructionHandle<CemInstruction<'OMBC'>>;

/** A codec for the common messages and OMBC's only. */
export function createOMBCCodec(options: CodecOptions = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...OMBC_MESSAGES }, mergeRuleTables(COMMON_RULES, OMBC_RULES), options);
}
