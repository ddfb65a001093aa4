import { assign, enqueueActions, sendParent, setup } from 'xstate';
import { nextStatuses } from '../rules/instruction-status.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import type { IdentifiedMessage } from '../typebox/registry.js';
import { statusTransitionRefusal } from '../rules/instruction-status.js';
import type { SessionRole } from './events.js';

export interface InstructionInput {
  /** The instruction's `id` (not its message_id). */
  readonly instructionId: string;
  readonly messageType: string;
  readonly role: SessionRole;
  /** `execution_time` in milliseconds since the epoch. */
  readonly executionMs: number;
  /** The session clock (ms): the wait for execution_time is measured when the RM accepts (R43). */
  readonly now: () => number;
}

export interface InstructionContext extends InstructionInput {
  readonly status: InstructionStatus | undefined;
  /** The CEM revoked it (R58): it no longer becomes due, whatever status the RM reports next. */
  readonly revoked: boolean;
}

/**
 * A status for this instruction: from a received InstructionStatusUpdate (`in`, CEM side: the
 * verdict goes back to the control type) or from one the RM application sends (`out`, already
 * checked).
 */
export type InstructionEvent =
  | {
      readonly type: `status.${InstructionStatus}`;
      readonly direction: 'in' | 'out';
      readonly message: IdentifiedMessage;
    }
  /** A RevokeObject naming this instruction was accepted (R58). */
  | { readonly type: 'revoke' };

/** The transitions of one state: one per status R46 allows next. */
function next(from: InstructionStatus | undefined) {
  return Object.fromEntries(
    nextStatuses(from).map((to) => [
      `status.${to}`,
      { target: `#instruction.${to}`, actions: [{ type: 'record' as const, params: to }, 'acknowledge' as const] },
    ]),
  );
}

/**
 * One instruction, on either side (docs/rules.md#instructions): its status moves only as R46 allows, driven
 * by InstructionStatusUpdates (sent by the RM, received by the CEM) and by RevokeObject. On the
 * RM side it tells its control type when `execution_time` has come (R43: at once when past),
 * once the instruction is ACCEPTED.
 */
export const instructionMachine = setup({
  types: {
    context: {} as InstructionContext,
    input: {} as InstructionInput,
    events: {} as InstructionEvent,
  },
  delays: {
    // Measured on entry to ACCEPTED: a past execution_time means at once (R43).
    untilExecution: ({ context }) => Math.max(0, context.executionMs - context.now()),
  },
  guards: {
    /** The RM runs it at execution_time, unless it was revoked meanwhile (R58). */
    dueOnRm: ({ context }) => context.role === 'RM' && !context.revoked,
  },
  actions: {
    record: assign((_, status: InstructionStatus) => ({ status })),
    markRevoked: assign({ revoked: true }),
    /** A received status was legal: the control type answers it OK. */
    acknowledge: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'revoke' && event.direction === 'in') enqueue.sendParent({ type: 'instruction.accepted', message: event.message });
    }),
    /** R46: a status that may not follow the current one ⇒ INVALID_CONTENT, nothing changes. */
    refuseIllegal: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'revoke' || event.direction !== 'in') return;
      const to = event.type.slice('status.'.length) as InstructionStatus;
      enqueue.sendParent({
        type: 'instruction.refused',
        message: event.message,
        reason: `instruction ${context.instructionId}: ${statusTransitionRefusal(context.status, to) ?? 'not allowed now'}`,
      });
    }),
    reportStatus: sendParent(({ context }) => ({
      type: 'instruction.status' as const,
      instructionId: context.instructionId,
      status: context.status,
    })),
    reportDue: sendParent(({ context }) => ({ type: 'instruction.due' as const, instructionId: context.instructionId })),
  },
}).createMachine({
  id: 'instruction',
  context: ({ input }) => ({ ...input, status: undefined, revoked: false }),
  initial: 'received',
  // Every state lists only the statuses R46 allows next; anything else lands here.
  on: { 'status.*': { actions: 'refuseIllegal' }, revoke: { actions: 'markRevoked' } },
  states: {
    /** Sent or received; the RM has reported no status yet. */
    received: { on: next(undefined) },
    NEW: { entry: 'reportStatus', on: next('NEW') },
    ACCEPTED: {
      entry: 'reportStatus',
      on: next('ACCEPTED'),
      // R43: the RM starts executing at execution_time, at once when it is in the past.
      after: { untilExecution: { guard: 'dueOnRm', actions: 'reportDue' } },
    },
    STARTED: { entry: 'reportStatus', on: next('STARTED') },
    SUCCEEDED: { type: 'final', entry: 'reportStatus' },
    ABORTED: { type: 'final', entry: 'reportStatus' },
    REJECTED: { type: 'final', entry: 'reportStatus' },
    REVOKED: { type: 'final', entry: 'reportStatus' },
  },
});
