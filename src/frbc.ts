/**
 * s2-engine/frbc — everything specific to FRBC: its messages (TypeBox schemas and static types),
 * its registry entries, its rules, the typed handler shapes for both roles, and a codec that knows
 * only the common messages and FRBC's (its validators compile on first use).
 *
 * @module s2-engine/frbc
 */
import { COMMON_RULES } from './rules/common.js';
import { FRBC_RULES } from './rules/frbc.js';
import { mergeRuleTables } from './rules/rule.js';
import { Codec, type CodecOptions } from './codec/codec.js';
import { COMMON_MESSAGES } from './typebox/common/index.js';
import { FRBC_MESSAGES } from './typebox/frbc/index.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from './roles/cem-control.js';
import type { RmControlTypeHandler } from './roles/rm-control.js';
import type { MessageFrom } from './typebox/registry.js';

export * from './typebox/frbc/index.js';
export { FRBC_RULES } from './rules/frbc.js';
export { frbcRules } from './rules/knowledge/frbc.js';

/** An RM's FRBC implementation: `createRmClient({ controlTypes: { FRBC: handler } })`. */
export type FRBCRmHandler = RmControlTypeHandler<'FRBC'>;
/** A CEM's FRBC handling: `createCemServer({ controlTypes: { FRBC: handler } })`. */
export type FRBCCemHandler = CemControlTypeHandler<'FRBC'>;
/** Any FRBC message the RM sends. */
export type FRBCRmMessage = MessageFrom<'FRBC', 'RM'>;
/** Any FRBC message the CEM sends (its instructions). */
export type FRBCCemMessage = MessageFrom<'FRBC', 'CEM'>;
/** What `ctx.instruct` returns in a FRBC handler: the instruction followed through its statuses. */
export type FRBCInstructionHandle = InstructionHandle<CemInstruction<'FRBC'>>;

/** A codec for the common messages and FRBC's only. */
export function createFRBCCodec(options: CodecOptions = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...FRBC_MESSAGES }, mergeRuleTables(COMMON_RULES, FRBC_RULES), options);
}
