/**
 * s2-engine/v1/ddbc — DDBC as S2 JSON 1.0.0-beta defines it: the same messages as `s2-engine/ddbc`
 * (0.0.2-beta) except that `DDBCSystemDescription` has no `present_demand_rate` and the demand comes
 * in `DDBCPresentDemandStatus` (RM → CEM). Importing from here rather than from `s2-engine/ddbc` is
 * how code says which version it is written against: the names are the same, the shapes are
 * 1.0.0-beta's. An RM written against these types offers the version in its options
 * (`versions: ['1.0.0-beta']`); the engine itself speaks both.
 *
 * @module s2-engine/v1/ddbc
 */
import { COMMON_RULES } from '../rules/common.js';
import { DDBC_RULES } from '../rules/ddbc.js';
import { mergeRuleTables } from '../rules/rule.js';
import { Codec, type CodecOptions } from '../codec/codec.js';
import { COMMON_MESSAGES } from '../typebox/common/index.js';
import { DDBC_MESSAGES_V1 } from '../typebox/ddbc/v1.js';
import type { CemControlTypeHandler, CemInstruction, InstructionHandle } from '../roles/cem-control.js';
import type { RmControlTypeHandler } from '../roles/rm-control.js';
import type { MessageFrom } from '../typebox/registry.js';

export { DDBCOperationMode, DDBCActuatorDescription } from '../typebox/ddbc/system-description.js';
export { DDBCSystemDescriptionV1 as DDBCSystemDescription } from '../typebox/ddbc/system-description-v1.js';
export { DDBCPresentDemandStatus } from '../typebox/ddbc/present-demand-status.js';
export * from '../typebox/ddbc/status.js';
export * from '../typebox/ddbc/forecast.js';
export * from '../typebox/ddbc/instruction.js';
export { DDBC_MESSAGES_V1 as DDBC_MESSAGES } from '../typebox/ddbc/v1.js';
export { DDBC_RULES } from '../rules/ddbc.js';
export { ddbcRules } from '../rules/knowledge/ddbc.js';

/** An RM's DDBC implementation: `createRmClient({ versions: ['1.0.0-beta'], controlTypes: { DDBC: handler } })`. */
export type DDBCRmHandler = RmControlTypeHandler<'DDBC'>;
/** A CEM's DDBC handling: `createCemServer({ controlTypes: { DDBC: handler } })`. */
export type DDBCCemHandler = CemControlTypeHandler<'DDBC'>;
/** Any DDBC message the RM sends in 1.0.0-beta. */
export type DDBCRmMessage = MessageFrom<'DDBC', 'RM', '1.0.0-beta'>;
/** Any DDBC message the CEM sends (its instructions). */
export type DDBCCemMessage = MessageFrom<'DDBC', 'CEM', '1.0.0-beta'>;
/** What `ctx.instruct` returns in a DDBC handler: the instruction followed through its statuses. */
export type DDBCInstructionHandle = InstructionHandle<CemInstruction<'DDBC'>>;

/** A codec for the common messages and DDBC's only, as S2 JSON 1.0.0-beta defines them. */
export function createDDBCCodec(options: Omit<CodecOptions, 'version'> = {}): Codec {
  return new Codec({ ...COMMON_MESSAGES, ...DDBC_MESSAGES_V1 }, mergeRuleTables(COMMON_RULES, DDBC_RULES), {
    ...options,
    version: '1.0.0-beta',
  });
}
