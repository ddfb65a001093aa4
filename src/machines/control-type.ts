import { enqueueActions, setup } from 'xstate';
import { FINAL_STATUSES } from '../rules/instruction-status.js';
import type { ControlTypeRules } from '../rules/knowledge/types.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import { messageSpec, type IdentifiedMessage } from '../typebox/registry.js';
import type { SessionRole } from './types.js';
import { instructionMachine } from './instruction.js';

/** How many finished instructions an activation keeps by default ({@link ControlTypeInput.instructionHistory}). */
export const INSTRUCTION_HISTORY_DEFAULT = 100;

export interface ControlTypeInput {
  readonly role: SessionRole;
  /** Milliseconds since the epoch, from the session's injected clock. */
  readonly now: () => number;
  /**
   * How many finished instructions stay in `instructions` (their final status readable), newest
   * kept; default `INSTRUCTION_HISTORY_DEFAULT` (100). Older ones are forgotten but for their id.
   */
  readonly instructionHistory?: number | undefined;
  /**
   * The session's used instruction ids (lowercase, R42): it outlives this activation and holds
   * the ids of forgotten instructions, so a reused id or a status for a forgotten instruction is
   * still recognised. Read only; the session adds to it.
   */
  readonly usedIds?: Pick<ReadonlySet<string>, 'has'> | undefined;
}

/** What the control type knows of one instruction (as its instruction actor reports it). */
export interface InstructionRecord {
  readonly messageType: string;
  readonly status: InstructionStatus | undefined;
  /** A RevokeObject for it was accepted; the RM's REVOKED may still be on its way (R54, R58). */
  readonly revoked: boolean;
}

export interface ControlTypeContext extends ControlTypeInput {
  readonly knowledge: unknown;
  /**
   * The instructions of this activation by lowercase id: every open one, and the latest
   * `instructionHistory` finished ones. Mutated in place (like the session's `pending`): copying
   * it on every instruction and status cost O(instructions) each, so a long session slowed down
   * with every instruction it had given (issue 15).
   */
  readonly instructions: ReadonlyMap<string, InstructionRecord>;
  /** The ids of the finished instructions still in `instructions`, the oldest first (at most `instructionHistory`). */
  readonly finished: ReadonlySet<string>;
  /**
   * The actor of each open instruction (lowercase id → its child's id, `instruction:<slot>`).
   * Slots are reused once an instruction is final: XState memoises, per state node and for the
   * life of the process, the transitions for every event type it meets, and a finished child
   * sends `xstate.done.actor.<its id>`; one id per instruction made that cache grow for ever.
   */
  readonly actors: ReadonlyMap<string, string>;
  /** Slots of finished instructions, free for the next ones. */
  readonly freeSlots: readonly number[];
}

export type ControlTypeEvent =
  /** A message of this control type (or ISU / RevokeObject) sent (`out`) or received (`in`). */
  | { readonly type: 'ct.message'; readonly direction: 'in' | 'out'; readonly message: IdentifiedMessage }
  | { readonly type: 'instruction.status'; readonly instructionId: string; readonly status: InstructionStatus | undefined }
  | { readonly type: 'instruction.accepted'; readonly message: IdentifiedMessage }
  | { readonly type: 'instruction.refused'; readonly message: IdentifiedMessage; readonly reason: string }
  | { readonly type: 'instruction.due'; readonly instructionId: string };

// Declared in types.ts (no XState there, so the public declarations never load xstate's).
export type { ControlTypeNotice, ControlTypeReply } from './types.js';

/** The activation's own map, which its actions update in place (see {@link ControlTypeContext.instructions}). */
const instructionsOf = (context: ControlTypeContext) => context.instructions as Map<string, InstructionRecord>;
const RM_OBJECTS_OWNER: Record<SessionRole, string> = {
  CEM: 'the CEM revokes only its instructions',
  RM: 'the RM revokes only its own descriptions and constraints',
};

/** The reason for naming an instruction that is no longer open and no longer remembered. */
const forgotten = (id: string, finalRules: string) =>
  `instruction ${id} is not open in this activation: it reached a final status (${finalRules}), or belonged to a control type since deactivated (R40)`;

/**
 * Why a message of this control type may not be accepted now, or undefined. Shared by the
 * statechart (received messages ⇒ INVALID_CONTENT) and by the roles layer (messages the
 * application wants to send ⇒ S2Error), so both directions obey the same rules.
 */
export function controlTypeRefusal(
  rules: ControlTypeRules<unknown>,
  ctx: Pick<ControlTypeContext, 'knowledge' | 'instructions' | 'usedIds'>,
  message: IdentifiedMessage,
  sender: SessionRole,
): string | undefined {
  const k = ctx.knowledge;
  const type = message.message_type;
  if (type === 'InstructionStatusUpdate') {
    const key = message.instruction_id.toLowerCase();
    const record = ctx.instructions.get(key);
    if (!record && ctx.usedIds?.has(key)) return forgotten(message.instruction_id, 'R44, R46');
    if (!record) return `unknown instruction_id ${message.instruction_id}: no instruction with that id in this session (R45)`;
    if (record.status && FINAL_STATUSES.has(record.status))
      return `instruction ${message.instruction_id} is already final (${record.status}) (R44, R46)`;
    return undefined;
  }
  if (type === 'RevokeObject') {
    const objectType = message.object_type;
    const spec = messageSpec(objectType);
    if (!spec || spec.area !== rules.area) return `${objectType} does not belong to the active control type ${rules.area} (R57)`;
    const isInstruction = rules.instructions.has(objectType);
    if (isInstruction !== (sender === 'CEM')) return `${sender} cannot revoke a ${objectType}: ${RM_OBJECTS_OWNER[sender]} (R55)`;
    if (isInstruction) {
      const key = message.object_id.toLowerCase();
      const record = ctx.instructions.get(key);
      if (!record && ctx.usedIds?.has(key)) return forgotten(message.object_id, 'R54');
      if (!record || record.messageType !== objectType) return `no ${objectType} with id ${message.object_id} in this session (R54)`;
      if (record.status && FINAL_STATUSES.has(record.status))
        return `${objectType} ${message.object_id} is already final (${record.status}) (R54)`;
      if (record.revoked) return `${objectType} ${message.object_id} was already revoked (R54)`;
      return undefined;
    }
    return rules.hasObject(k, objectType, message.object_id)
      ? undefined
      : `no ${objectType} with id ${message.object_id} to revoke (R54, R56)`;
  }
  if (rules.instructions.has(type)) {
    if (!rules.described(k)) return `${type} before the RM described its flexibility (R39)`;
    const id = (message as { id: string }).id;
    const key = id.toLowerCase();
    if (ctx.instructions.has(key) || ctx.usedIds?.has(key)) return `instruction id ${id} was already used in this session (R42)`;
  }
  return rules.refusal(k, message);
}

/**
 * Builds the activation statechart of one control type (docs/rules.md#control-types, and #instructions to #ppbc): one actor
 * per active control type, on either side, holding what the RM has described and every
 * instruction (one child actor each). A received message is judged here and answered to the
 * session as `ct.accepted` or `ct.refused`; sent messages are learnt from.
 */
export function createControlTypeMachine(rules: ControlTypeRules<unknown>) {
  const isInstruction = (m: IdentifiedMessage) => rules.instructions.has(m.message_type);
  return setup({
    types: {
      context: {} as ControlTypeContext,
      input: {} as ControlTypeInput,
      events: {} as ControlTypeEvent,
    },
    actors: { instruction: instructionMachine },
    guards: {
      /** The message fails the references or the ownership rules (INVALID_CONTENT). */
      refused: ({ context, event }) =>
        event.type === 'ct.message' &&
        event.direction === 'in' &&
        controlTypeRefusal(rules, context, event.message, context.role === 'CEM' ? 'RM' : 'CEM') !== undefined,
      isStatusUpdate: ({ event }) => event.type === 'ct.message' && event.message.message_type === 'InstructionStatusUpdate',
      /** After this message the RM's flexibility is described (R39). */
      describedAfter: ({ context, event }) => event.type === 'ct.message' && rules.described(learn(context, event.message)),
    },
    actions: {
      refuse: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ct.message') return;
        const reason = controlTypeRefusal(rules, context, event.message, context.role === 'CEM' ? 'RM' : 'CEM') ?? 'not allowed';
        enqueue.sendParent({ type: 'ct.refused', message: event.message, reason });
      }),
      /** Update the knowledge, start instruction actors, answer OK for received messages. */
      accept: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ct.message') return;
        const m = event.message;
        enqueue.assign({ knowledge: learn(context, m) });
        if (m.message_type === 'RevokeObject' && rules.instructions.has(m.object_type)) {
          const key = m.object_id.toLowerCase();
          const record = context.instructions.get(key);
          if (record) {
            instructionsOf(context).set(key, { ...record, revoked: true });
            const actor = context.actors.get(key);
            if (actor) enqueue.sendTo(actor, { type: 'revoke' });
          }
        }
        if (isInstruction(m)) {
          const id = (m as { id: string }).id;
          const executionMs = Date.parse((m as { execution_time: string }).execution_time);
          const key = id.toLowerCase();
          instructionsOf(context).set(key, { messageType: m.message_type, status: undefined, revoked: false });
          const free = context.freeSlots as number[];
          const actor = `instruction:${free.pop() ?? context.actors.size}`;
          (context.actors as Map<string, string>).set(key, actor);
          enqueue.spawnChild('instruction', {
            id: actor,
            input: { instructionId: id, messageType: m.message_type, role: context.role, executionMs, now: context.now },
          });
        }
        if (event.direction !== 'in') return;
        enqueue.sendParent({ type: 'ct.accepted', message: m });
        if (isInstruction(m)) {
          enqueue.sendParent({
            type: 'ct.notice',
            notice: { kind: 'instruction', instruction: m, rejection: rules.rejection?.(context.knowledge, m, context.now()) },
          });
        }
        if (m.message_type === 'RevokeObject' && rules.instructions.has(m.object_type)) {
          enqueue.sendParent({ type: 'ct.notice', notice: { kind: 'revoked', instructionId: m.object_id } });
        }
      }),
      /** InstructionStatusUpdates go to their instruction's statechart, which judges R46. */
      forwardStatus: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ct.message' || event.message.message_type !== 'InstructionStatusUpdate') return;
        const m = event.message;
        const actor = context.actors.get(m.instruction_id.toLowerCase());
        if (actor) enqueue.sendTo(actor, { type: `status.${m.status_type}`, direction: event.direction, message: m });
      }),
      /**
       * A status the instruction's statechart took. A final one ends the instruction (R44): its
       * actor is stopped, and its record stays only among the latest `instructionHistory` finished
       * ones; after that only the session's used ids remember it (R42).
       */
      recordStatus: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'instruction.status') return;
        const key = event.instructionId.toLowerCase();
        const old = context.instructions.get(key);
        if (!old) return;
        const instructions = instructionsOf(context);
        instructions.set(key, { ...old, status: event.status });
        if (event.status && FINAL_STATUSES.has(event.status)) {
          const actors = context.actors as Map<string, string>;
          const actor = actors.get(key);
          if (actor) {
            enqueue.stopChild(actor);
            actors.delete(key);
            (context.freeSlots as number[]).push(Number(actor.slice('instruction:'.length)));
          }
          const finished = context.finished as Set<string>;
          finished.add(key);
          const keep = context.instructionHistory ?? INSTRUCTION_HISTORY_DEFAULT;
          for (const oldest of finished) {
            if (finished.size <= keep) break;
            finished.delete(oldest);
            instructions.delete(oldest);
          }
        }
        enqueue.sendParent({ type: 'ct.notice', notice: { kind: 'status', instructionId: event.instructionId, status: event.status } });
      }),
      relayAccepted: enqueueActions(({ event, enqueue }) => {
        if (event.type === 'instruction.accepted') enqueue.sendParent({ type: 'ct.accepted', message: event.message });
      }),
      relayRefused: enqueueActions(({ event, enqueue }) => {
        if (event.type === 'instruction.refused') enqueue.sendParent({ type: 'ct.refused', message: event.message, reason: event.reason });
      }),
      relayDue: enqueueActions(({ event, enqueue }) => {
        if (event.type === 'instruction.due')
          enqueue.sendParent({ type: 'ct.notice', notice: { kind: 'due', instructionId: event.instructionId } });
      }),
    },
  }).createMachine({
    id: rules.area,
    context: ({ input }) => ({
      ...input,
      knowledge: rules.empty(),
      instructions: new Map(),
      finished: new Set(),
      actors: new Map(),
      freeSlots: [],
    }),
    initial: 'awaitingDescription',
    on: {
      'instruction.status': { actions: 'recordStatus' },
      'instruction.accepted': { actions: 'relayAccepted' },
      'instruction.refused': { actions: 'relayRefused' },
      'instruction.due': { actions: 'relayDue' },
    },
    states: {
      /** Activated; the RM has not described its flexibility yet, so no instruction is possible (R39). */
      awaitingDescription: {
        on: {
          'ct.message': [
            { guard: 'refused', actions: 'refuse' },
            // Instructions can outlive the description they were based on (revoked since).
            { guard: 'isStatusUpdate', actions: 'forwardStatus' },
            { guard: 'describedAfter', actions: 'accept', target: 'described' },
            { actions: 'accept' },
          ],
        },
      },
      /** A valid description exists: instructions may refer to it. */
      described: {
        on: {
          'ct.message': [
            { guard: 'refused', actions: 'refuse' },
            { guard: 'isStatusUpdate', actions: 'forwardStatus' },
            { guard: 'describedAfter', actions: 'accept' },
            // A revocation removed the last description (R58).
            { actions: 'accept', target: 'awaitingDescription' },
          ],
        },
      },
    },
  });

  function learn(context: ControlTypeContext, m: IdentifiedMessage): unknown {
    if (m.message_type === 'RevokeObject') return rules.revoke(context.knowledge, m.object_type, m.object_id);
    return rules.learn(context.knowledge, m);
  }
}
