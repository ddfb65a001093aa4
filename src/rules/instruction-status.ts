import type { InstructionStatus } from '../typebox/common/enums.js';

/** The statuses that end an instruction (R44). */
export const FINAL_STATUSES: ReadonlySet<InstructionStatus> = new Set(['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED']);

/**
 * R46 (docs/rules.md#R46): which status may follow which. Skipping forward is allowed, going back
 * or leaving a final status is not; REJECTED only before ACCEPTED; REVOKED before any final
 * status, also once STARTED (Q13). `undefined` = no status reported yet.
 */
const NEXT: Record<InstructionStatus | 'none', readonly InstructionStatus[]> = {
  none: ['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  NEW: ['ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  ACCEPTED: ['STARTED', 'SUCCEEDED', 'ABORTED', 'REVOKED'],
  STARTED: ['SUCCEEDED', 'ABORTED', 'REVOKED'],
  SUCCEEDED: [],
  ABORTED: [],
  REJECTED: [],
  REVOKED: [],
};

/** The statuses allowed after `from` (R46). */
export function nextStatuses(from: InstructionStatus | undefined): readonly InstructionStatus[] {
  return NEXT[from ?? 'none'];
}

/** Why `to` may not follow `from`, or undefined when it may (R46). */
export function statusTransitionRefusal(from: InstructionStatus | undefined, to: InstructionStatus): string | undefined {
  if (NEXT[from ?? 'none'].includes(to)) return undefined;
  if (from && FINAL_STATUSES.has(from)) return `the instruction is already final (${from}); no status may follow (R44, R46)`;
  return `${to} may not follow ${from ?? 'no status'} (R46: allowed next: ${nextStatuses(from).join(', ')})`;
}
