import { sendParent, setup } from 'xstate';
import type { ReceptionStatusValues } from '../typebox/common/enums.js';

export interface OutgoingInput {
  readonly messageId: string;
  readonly messageType: string;
  readonly timeoutMs: number;
}

/**
 * One sent message waiting for its ReceptionStatus (R11–R13, R21). It ends when the status
 * arrives or when the timeout passes, and tells its session either way. A timeout is reported,
 * not fatal (Q5: the reference RM gives up after 5 s; we let the application decide).
 */
export const outgoingMessageMachine = setup({
  types: {
    context: {} as OutgoingInput,
    input: {} as OutgoingInput,
    events: {} as { type: 'receptionStatus'; status: ReceptionStatusValues; diagnosticLabel: string | undefined },
  },
  delays: {
    receptionTimeout: ({ context }) => context.timeoutMs,
  },
  actions: {
    reportAnswered: sendParent(({ context, event }) => ({
      type: 'outgoing.answered' as const,
      messageId: context.messageId,
      messageType: context.messageType,
      status: event.status,
      diagnosticLabel: event.diagnosticLabel,
    })),
    reportTimeout: sendParent(({ context }) => ({
      type: 'outgoing.timeout' as const,
      messageId: context.messageId,
      messageType: context.messageType,
    })),
  },
}).createMachine({
  id: 'outgoingMessage',
  context: ({ input }) => input,
  initial: 'pending',
  states: {
    pending: {
      on: { receptionStatus: { target: 'answered', actions: 'reportAnswered' } },
      after: { receptionTimeout: { target: 'timedOut', actions: 'reportTimeout' } },
    },
    // Not `type: 'final'` on purpose: a final child makes XState raise a done event whose type
    // names the child (unique per message), and XState caches transitions per event type, so
    // the session's memory would grow with every message sent. The session stops the child.
    answered: {},
    timedOut: {},
  },
});
