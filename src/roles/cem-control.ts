import type { ControlTypeNotice } from '../machines/types.js';
import { FINAL_STATUSES } from '../rules/instruction-status.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import {
  messageSpec,
  shortOfControlType,
  type IdentifiedMessage,
  type MessageFrom,
  type MessageOf,
  type MessageType,
} from '../typebox/registry.js';
import { newUuid } from './ids.js';
import type { HandlerStatus, S2Session, SendResult } from './session.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Defaulted = 'message_id' | 'id' | 'execution_time' | 'abnormal_condition';

/**
 * An instruction to give: `id`, `message_id`, `execution_time` (now) and `abnormal_condition`
 * (false) may be left out (or `undefined`).
 */
export type InstructionInput<A extends ControlTypeShort> = DistributiveOmit<
  Extract<MessageFrom<A, 'CEM'>, IdentifiedMessage>,
  Defaulted
> & {
  readonly id?: string | undefined;
  readonly message_id?: string | undefined;
  readonly execution_time?: string | undefined;
  readonly abnormal_condition?: boolean | undefined;
};

/** A final status, or VOID when the control type or session ended before one arrived (Q12). */
export type FinalStatus = 'SUCCEEDED' | 'ABORTED' | 'REJECTED' | 'REVOKED' | 'VOID';

/** The instruction messages a CEM gives for control type A (`FRBC.Instruction` for FRBC; PPBC has three). */
export type CemInstruction<A extends ControlTypeShort = ControlTypeShort> = Extract<MessageFrom<A, 'CEM'>, IdentifiedMessage>;

/**
 * An instruction the CEM gave, followed through its statuses (docs/rules.md#instructions). `M` is the
 * instruction's message type: `ctx.instruct` of an FRBC handler returns
 * `InstructionHandle<FRBCInstruction>`. Without a type argument it is any instruction's handle.
 */
export interface InstructionHandle<M extends IdentifiedMessage = IdentifiedMessage> {
  readonly id: string;
  readonly message: M;
  /** The RM's ReceptionStatus for the instruction message itself (R17: OK says nothing about execution). */
  readonly sent: Promise<SendResult>;
  /** The latest status the RM reported, undefined before the first. */
  status(): InstructionStatus | undefined;
  /** Resolves with SUCCEEDED, ABORTED, REJECTED, REVOKED — or VOID (Q12). */
  readonly final: Promise<FinalStatus>;
  /** Revokes the instruction (RevokeObject, R55); the RM answers REVOKED. */
  revoke(): Promise<SendResult>;
}

/** What a CEM's control-type handler can do while its type is active. */
export interface CemControlContext<A extends ControlTypeShort> {
  readonly session: S2Session;
  readonly active: boolean;
  /**
   * Fills the defaults, checks the references against what the RM described, sends. Throws
   * S2Error (INVALID_OUTGOING_MESSAGE, INVALID_STATE) when the instruction may not be sent.
   */
  instruct<K extends CemInstruction<A>['message_type']>(
    input: InstructionInput<A> & { readonly message_type: K },
  ): InstructionHandle<Extract<CemInstruction<A>, { message_type: K }>>;
  /** The same, for an input whose message_type is not known statically (e.g. generic code). */
  instruct(input: InstructionInput<A>): InstructionHandle<CemInstruction<A>>;
}

/**
 * The message part of a {@link CemControlTypeHandler}: one optional callback per RM message of
 * control type A, named by its `message_type`. What it returns becomes the ReceptionStatus.
 */
export type RmMessageHandlers<A extends ControlTypeShort> = {
  readonly [K in Extract<MessageFrom<A, 'RM'>, IdentifiedMessage>['message_type']]?:
    ((message: MessageOf<K & MessageType>, ctx: CemControlContext<A>) => HandlerStatus | void | Promise<HandlerStatus | void>) | undefined;
};

/**
 * A CEM's handling of one control type: a typed callback per RM message of that type, plus
 * life-cycle hooks. A message callback that throws answers TEMPORARY_ERROR (the RM's message was
 * valid; the fault is ours) and raises the session's `error` event; the session goes on. A hook
 * that throws or rejects raises the `error` event too.
 */
export type CemControlTypeHandler<A extends ControlTypeShort> = RmMessageHandlers<A> & {
  readonly activate?: ((ctx: CemControlContext<A>) => void | Promise<void>) | undefined;
  readonly deactivate?: ((ctx: CemControlContext<A>) => void | Promise<void>) | undefined;
  readonly onInstructionStatus?:
    | ((
        handle: InstructionHandle<CemInstruction<A>>,
        status: InstructionStatus | undefined,
        ctx: CemControlContext<A>,
      ) => void | Promise<void>)
    | undefined;
};

export type CemControlTypes = { readonly [A in ControlTypeShort]?: CemControlTypeHandler<A> | undefined };

interface LiveHandle extends InstructionHandle<CemInstruction> {
  update(status: InstructionStatus | undefined): void;
  end(status: FinalStatus): void;
}

/**
 * A handle following `message`. `forget` runs when no status can come any more: a final status
 * arrived, or the RM refused the message itself.
 */
function makeHandle(session: S2Session, message: CemInstruction, forget: () => void): LiveHandle {
  let status: InstructionStatus | undefined;
  let resolveFinal!: (s: FinalStatus) => void;
  let done = false;
  const final = new Promise<FinalStatus>((r) => (resolveFinal = r));
  const end = (s: FinalStatus) => {
    if (done) return;
    done = true;
    resolveFinal(s);
  };
  const sent = session.send(message);
  void sent.then((r) => {
    // An instruction the RM did not accept at reception level never gets a status (R16, R49).
    // After a TIMEOUT it may still have arrived: statuses keep reaching the handle until a final one.
    if (r.status === 'OK') return;
    end('VOID');
    if (r.status !== 'TIMEOUT') forget();
  });
  return {
    id: message.id,
    message,
    sent,
    final,
    status: () => status,
    revoke: () => session.send({ message_type: 'RevokeObject', object_type: message.message_type as never, object_id: message.id }),
    update(s) {
      status = s;
      if (s && FINAL_STATUSES.has(s)) {
        end(s as FinalStatus);
        forget();
      }
    },
    end,
  };
}

/** Connects control-type handlers to a CEM session: typed callbacks, instruct helpers, instruction handles. */
export function attachCemControlTypes(session: S2Session, handlers: CemControlTypes): void {
  type Ctx = CemControlContext<ControlTypeShort> & { active: boolean };
  let current: { short: ControlTypeShort; handler: CemControlTypeHandler<ControlTypeShort>; ctx: Ctx } | undefined;
  // Open instructions only: a handle leaves at its final status (the application keeps its own
  // reference), so a long session holds nothing per finished instruction here (issue 15).
  const handles = new Map<string, LiveHandle>();

  // Application hooks: a throw or a rejection is the application's fault, raised as its error.
  const hook = (what: string, f: () => unknown) => {
    try {
      const r = f();
      if (r && typeof (r as Promise<unknown>).then === 'function')
        (r as Promise<unknown>).catch((err: unknown) => session.reportError(what, err));
    } catch (err) {
      session.reportError(what, err);
    }
  };
  const deactivate = () => {
    if (!current) return;
    const { short, handler, ctx } = current;
    ctx.active = false;
    current = undefined;
    // Q12, R40: open instructions lose their meaning with the control type.
    const open = [...handles.values()];
    handles.clear();
    for (const h of open) h.end('VOID');
    if (handler.deactivate) hook(`${short} deactivate`, () => handler.deactivate!(ctx));
  };

  session.on('controlType', ({ controlType }) => {
    deactivate();
    const short = shortOfControlType(controlType);
    const handler = short ? (handlers[short] as CemControlTypeHandler<ControlTypeShort> | undefined) : undefined;
    if (!short || !handler) return;
    const ctx: Ctx = {
      session,
      active: true,
      instruct(input: InstructionInput<ControlTypeShort>): InstructionHandle<never> {
        const message = {
          ...input,
          message_id: input.message_id ?? newUuid(),
          id: input.id ?? newUuid(),
          execution_time: input.execution_time ?? session.now().toISOString(),
          abnormal_condition: input.abnormal_condition ?? false,
        } as unknown as CemInstruction;
        const key = message.id.toLowerCase();
        const handle = makeHandle(session, message, () => {
          if (handles.get(key) === handle) handles.delete(key);
        });
        handles.set(key, handle);
        return handle as never;
      },
    };
    current = { short, handler, ctx };
    if (handler.activate) hook(`${short} activate`, () => handler.activate!(ctx));
  });
  session.on('close', deactivate);

  session.on('notice', (notice: ControlTypeNotice) => {
    if (notice.kind !== 'status' || !current) return;
    const handle = handles.get(notice.instructionId.toLowerCase());
    if (!handle) return;
    handle.update(notice.status);
    const { short, handler, ctx } = current;
    if (handler.onInstructionStatus) hook(`${short} onInstructionStatus`, () => handler.onInstructionStatus!(handle, notice.status, ctx));
  });

  session.use((message) => {
    if (!current || messageSpec(message.message_type)?.area !== current.short) return undefined;
    const callback = (current.handler as Record<string, unknown>)[message.message_type] as
      ((m: IdentifiedMessage, ctx: Ctx) => HandlerStatus | void | Promise<HandlerStatus | void>) | undefined;
    return callback?.(message, current.ctx);
  });
}
