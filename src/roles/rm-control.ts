import type { ControlTypeNotice } from '../machines/control-type.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import { shortOfControlType, type IdentifiedMessage, type MessageFrom } from '../typebox/registry.js';
import type { Outgoing, S2Session, SendResult } from './session.js';

/** What an RM's control-type handler can do while its type is active. */
export interface RmControlContext<A extends ControlTypeShort> {
  readonly session: S2Session;
  /** Sends a message of this control type, or a common RM message (measurements, forecasts). */
  send(message: Outgoing<Extract<MessageFrom<A, 'RM'> | MessageFrom<'common', 'RM'>, IdentifiedMessage>>): Promise<SendResult>;
  /** Reports an instruction's status (R44); the timestamp is now. */
  status(instructionId: string, status: InstructionStatus): Promise<SendResult>;
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
 */
export interface RmControlTypeHandler<A extends ControlTypeShort> {
  activate(ctx: RmControlContext<A>): void | Promise<void>;
  onInstruction?(instruction: MessageFrom<A, 'CEM'>, ctx: RmControlContext<A>): InstructionDecision | Promise<InstructionDecision>;
  execute?(instruction: MessageFrom<A, 'CEM'>, ctx: RmControlContext<A>): void | Promise<void>;
  onRevoked?(instruction: MessageFrom<A, 'CEM'>, ctx: RmControlContext<A>): void;
  deactivate?(ctx: RmControlContext<A>): void;
}

/** The control types an RM implements; a user who implements only FRBC writes only `{ FRBC: … }`. */
export type RmControlTypes = { readonly [A in ControlTypeShort]?: RmControlTypeHandler<A> };

type AnyHandler = RmControlTypeHandler<ControlTypeShort>;

/**
 * Connects control-type handlers to an RM session: activation on selection, deactivation on a
 * switch (R36, R40), instructions through to their final status.
 */
export function attachRmControlTypes(session: S2Session, handlers: RmControlTypes): void {
  let current: { handler: AnyHandler; ctx: RmControlContext<ControlTypeShort> & { active: boolean } } | undefined;
  const instructions = new Map<string, IdentifiedMessage>();

  const fail = (what: string, err: unknown) =>
    session.report('handler-error', `${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  // Handlers run in a microtask, after the session has finished the step that called for them:
  // several sends in a row are then each judged against what the one before taught the session.
  const run = (what: string, f: () => unknown) =>
    queueMicrotask(() => {
      try {
        const r = f();
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch((err: unknown) => fail(what, err));
      } catch (err) {
        fail(what, err);
      }
    });
  const deactivate = () => {
    if (!current) return;
    const { handler, ctx } = current;
    ctx.active = false;
    current = undefined;
    instructions.clear();
    // At once: the device must stop before anything else happens (R40); it sends nothing here.
    try {
      handler.deactivate?.(ctx);
    } catch (err) {
      fail('deactivate', err);
    }
  };

  session.on('controlType', ({ controlType }) => {
    deactivate();
    const short = shortOfControlType(controlType);
    const handler = short ? (handlers[short] as AnyHandler | undefined) : undefined;
    if (!handler) return;
    const ctx = {
      session,
      active: true,
      send: (message: Outgoing) => session.send(message),
      status: (instructionId: string, status: InstructionStatus) =>
        session.send({ message_type: 'InstructionStatusUpdate', instruction_id: instructionId, status_type: status, timestamp: session.now().toISOString() }),
    } as RmControlContext<ControlTypeShort> & { active: boolean };
    current = { handler, ctx };
    run('activate', () => handler.activate(ctx));
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
          run('status REJECTED', () => ctx.status(id, 'REJECTED'));
          return;
        }
        run('onInstruction', async () => {
          const decision = handler.onInstruction ? await handler.onInstruction(instruction as never, ctx) : 'accept';
          if (!ctx.active) return;
          if (decision && typeof decision === 'object') {
            session.report('instruction-rejected', `${instruction.message_type} ${id}: ${decision.reject}`);
            await ctx.status(id, 'REJECTED');
          } else {
            await ctx.status(id, 'ACCEPTED');
          }
        });
        return;
      }
      case 'due': {
        const instruction = instructions.get(notice.instructionId.toLowerCase());
        if (instruction && handler.execute) run('execute', () => handler.execute!(instruction as never, ctx));
        return;
      }
      case 'revoked': {
        const instruction = instructions.get(notice.instructionId.toLowerCase());
        run('status REVOKED', () => ctx.status(notice.instructionId, 'REVOKED'));
        if (instruction && handler.onRevoked) run('onRevoked', () => handler.onRevoked!(instruction as never, ctx));
        return;
      }
      case 'status':
        return;
    }
  });
}
