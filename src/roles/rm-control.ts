import type { ControlTypeNotice } from '../machines/types.js';
import { FINAL_STATUSES } from '../rules/instruction-status.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import { S2Error } from '../typebox/errors.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import { shortOfControlType, type IdentifiedMessage, type MessageFrom } from '../typebox/registry.js';
import type { Outgoing, S2Session, SendResult } from './session.js';

/**
 * The instruction statuses the RM application reports itself: how execution went. The others
 * are the library's: ACCEPTED / REJECTED follow from `onInstruction`'s decision, REVOKED answers
 * the CEM's RevokeObject (R58), and NEW is never needed (a status may skip forward, R46).
 */
export type ExecutionStatus = Extract<InstructionStatus, 'STARTED' | 'SUCCEEDED' | 'ABORTED'>;
const EXECUTION_STATUSES: ReadonlySet<unknown> = new Set<ExecutionStatus>(['STARTED', 'SUCCEEDED', 'ABORTED']);

/** The instruction messages an RM of control type A receives. */
export type RmInstruction<A extends ControlTypeShort> = Extract<MessageFrom<A, 'CEM'>, IdentifiedMessage>;

/** What an RM's control-type handler can do while its type is active. */
export interface RmControlContext<A extends ControlTypeShort> {
  readonly session: S2Session;
  /**
   * Sends a message of this control type, or a common RM message (measurements, forecasts).
   * Throws S2Error when the message is invalid (INVALID_OUTGOING_MESSAGE, with its `problems`) or
   * not allowed now (INVALID_STATE), so `await ctx.send(…)` in an async handler rejects; a
   * handler that lets it escape raises the session's `error` event.
   */
  send(message: Outgoing<Extract<MessageFrom<A, 'RM'> | MessageFrom<'common', 'RM'>, IdentifiedMessage>>): Promise<SendResult>;
  /**
   * Reports how an instruction's execution goes (R44): STARTED, SUCCEEDED or ABORTED; the
   * timestamp is now. Throws S2Error for any other status (the library sends those) and for a
   * transition R46 forbids (e.g. anything after a final status).
   */
  status(instructionId: string, status: ExecutionStatus): Promise<SendResult>;
  /** Whether this activation is still the active one (false after a switch or the close). */
  readonly active: boolean;
}

/** The RM's answer to an instruction: accept (the default) or reject with a reason (R48). */
export type InstructionDecision = 'accept' | { readonly reject: string } | void;

/**
 * An RM's implementation of one control type. `activate` describes the flexibility (R39) and
 * sends the first statuses; `onInstruction` accepts or rejects (the library sends ACCEPTED /
 * REJECTED); `execute` runs at `execution_time` (R43) and reports STARTED / SUCCEEDED / ABORTED
 * through `ctx.status`; a revocation by the CEM is answered REVOKED by the library (R58).
 *
 * Every handler that throws or rejects raises the session's `error` event (and a logger error);
 * the session goes on. What the CEM is told then: `onInstruction` failing rejects the instruction
 * (REJECTED: it will not be carried out), `execute` failing aborts it (ABORTED, unless it already
 * reached a final status).
 */
export interface RmControlTypeHandler<A extends ControlTypeShort> {
  activate(ctx: RmControlContext<A>): void | Promise<void>;
  onInstruction?(instruction: RmInstruction<A>, ctx: RmControlContext<A>): InstructionDecision | Promise<InstructionDecision>;
  execute?(instruction: RmInstruction<A>, ctx: RmControlContext<A>): void | Promise<void>;
  onRevoked?(instruction: RmInstruction<A>, ctx: RmControlContext<A>): void | Promise<void>;
  deactivate?(ctx: RmControlContext<A>): void;
}

/** The control types an RM implements; a user who implements only FRBC writes only `{ FRBC: … }`. */
export type RmControlTypes = { readonly [A in ControlTypeShort]?: RmControlTypeHandler<A> | undefined };

type AnyHandler = RmControlTypeHandler<ControlTypeShort>;

/**
 * Connects control-type handlers to an RM session: activation on selection, deactivation on a
 * switch (R36, R40), instructions through to their final status.
 */
export function attachRmControlTypes(session: S2Session, handlers: RmControlTypes): void {
  let current: { short: ControlTypeShort; handler: AnyHandler; ctx: RmControlContext<ControlTypeShort> & { active: boolean } } | undefined;
  // The open instructions (lowercase id → message), for execute and onRevoked: one leaves at its
  // final status, so a long session holds nothing per finished instruction here (issue 15).
  const instructions = new Map<string, IdentifiedMessage>();

  // The library's own statuses (ACCEPTED, REJECTED, REVOKED), past ctx.status's restriction.
  const sendStatus = (instructionId: string, status: InstructionStatus) =>
    session.send({
      message_type: 'InstructionStatusUpdate',
      instruction_id: instructionId,
      status_type: status,
      timestamp: session.now().toISOString(),
    });
  // Handlers run in a microtask, after the session has finished the step that called for them:
  // several sends in a row are then each judged against what the one before taught the session.
  // A failure is the application's: raised as the session's error, then `after` tells the CEM.
  const run = (what: string, f: () => unknown, after?: (err: unknown) => void) => {
    const failed = (err: unknown) => {
      session.reportError(what, err);
      if (after) {
        try {
          after(err);
        } catch (followUp) {
          session.reportError(`${what} (follow-up)`, followUp);
        }
      }
    };
    queueMicrotask(() => {
      try {
        const r = f();
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch(failed);
      } catch (err) {
        failed(err);
      }
    });
  };
  /** Ends an instruction the application failed on, unless it is already final or gone. */
  const settleFailed = (ctx: { readonly active: boolean }, instructionId: string, status: 'REJECTED' | 'ABORTED') => {
    if (!ctx.active || !instructions.has(instructionId.toLowerCase())) return;
    void sendStatus(instructionId, status);
  };
  const deactivate = () => {
    if (!current) return;
    const { short, handler, ctx } = current;
    ctx.active = false;
    current = undefined;
    instructions.clear();
    // At once: the device must stop before anything else happens (R40); it sends nothing here.
    try {
      handler.deactivate?.(ctx);
    } catch (err) {
      session.reportError(`${short} deactivate`, err);
    }
  };

  session.on('controlType', ({ controlType }) => {
    deactivate();
    const short = shortOfControlType(controlType);
    const handler = short ? (handlers[short] as AnyHandler | undefined) : undefined;
    if (!short || !handler) return;
    const ctx = {
      session,
      active: true,
      send: (message: Outgoing) => session.send(message),
      status: (instructionId: string, status: ExecutionStatus) => {
        if (!EXECUTION_STATUSES.has(status)) {
          throw new S2Error(
            'INVALID_STATE',
            `ctx.status reports execution only (STARTED, SUCCEEDED, ABORTED), not ${String(status)}: s2-engine sends ACCEPTED/REJECTED from onInstruction's decision and REVOKED on RevokeObject`,
          );
        }
        return sendStatus(instructionId, status);
      },
    } as RmControlContext<ControlTypeShort> & { active: boolean };
    current = { short, handler, ctx };
    run(`${short} activate`, () => handler.activate(ctx));
  });
  session.on('close', deactivate);

  session.on('notice', (notice: ControlTypeNotice) => {
    if (!current) return;
    const { handler, ctx } = current;
    switch (notice.kind) {
      case 'instruction': {
        const instruction = notice.instruction;
        const id = (instruction as { id: string }).id;
        instructions.set(id.toLowerCase(), instruction);
        if (notice.rejection !== undefined) {
          // Q14: well-referenced but not acceptable (e.g. R50): answered OK, then REJECTED.
          session.report('instruction-rejected', `${instruction.message_type} ${id}: ${notice.rejection}`);
          run('status REJECTED', () => sendStatus(id, 'REJECTED'));
          return;
        }
        let decided = false;
        run(
          `${instruction.message_type} onInstruction`,
          async () => {
            const decision = handler.onInstruction ? await handler.onInstruction(instruction as never, ctx) : 'accept';
            decided = true;
            if (!ctx.active) return;
            if (decision && typeof decision === 'object') {
              session.report('instruction-rejected', `${instruction.message_type} ${id}: ${decision.reject}`);
              await sendStatus(id, 'REJECTED');
            } else {
              await sendStatus(id, 'ACCEPTED');
            }
          },
          // The application could not decide: the instruction will not be carried out, and
          // REJECTED says exactly that (R48) instead of leaving the CEM waiting for a status.
          () => {
            if (decided) return;
            session.report('instruction-rejected', `${instruction.message_type} ${id}: onInstruction failed`);
            settleFailed(ctx, id, 'REJECTED');
          },
        );
        return;
      }
      case 'due': {
        const instruction = instructions.get(notice.instructionId.toLowerCase());
        const id = notice.instructionId;
        // An execution that failed did not happen as instructed: ABORTED, unless already final.
        if (instruction && handler.execute)
          run(
            `${instruction.message_type} execute`,
            () => handler.execute!(instruction as never, ctx),
            () => settleFailed(ctx, id, 'ABORTED'),
          );
        return;
      }
      case 'revoked': {
        const instruction = instructions.get(notice.instructionId.toLowerCase());
        run('status REVOKED', () => sendStatus(notice.instructionId, 'REVOKED'));
        if (instruction && handler.onRevoked)
          run(`${instruction.message_type} onRevoked`, () => handler.onRevoked!(instruction as never, ctx));
        return;
      }
      case 'status':
        if (notice.status && FINAL_STATUSES.has(notice.status)) instructions.delete(notice.instructionId.toLowerCase());
        return;
    }
  });
}
