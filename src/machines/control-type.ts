import { enqueueActions, setup } from 'xstate';
import { FINAL_STATUSES } from '../rules/instruction-status.js';
import { emptyMap, emptySet } from '../rules/knowledge/shared-empty.js';
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

/** The instruction bookkeeping an activation updates in place, its own from its first instruction on. */
interface Bookkeeping {
  readonly instructions: Map<string, InstructionRecord>;
  readonly finished: Set<string>;
  readonly actors: Map<string, string>;
  readonly freeSlots: number[];
}

const NO_SLOTS: readonly number[] = Object.freeze([]);

/**
 * Until its first instruction an activation holds the shared, read-only empties, so an activation
 * that is never instructed keeps no hash tables of its own for them (bench/RESULTS.md §5.6 B). The
 * in-place updates all start from an instruction's record, so they only ever reach the
 * activation's own collections; a write into a shared one would throw (shared-empty.ts).
 */
const SHARED_BOOKKEEPING: Pick<ControlTypeContext, keyof Bookkeeping> = {
  instructions: emptyMap(),
  finished: emptySet(),
  actors: emptyMap(),
  freeSlots: NO_SLOTS,
};

/** New bookkeeping when the activation still holds the shared empties, else undefined. */
const bookkeepingToOwn = (context: ControlTypeContext): Bookkeeping | undefined =>
  context.instructions === SHARED_BOOKKEEPING.instructions
    ? { instructions: new Map(), finished: new Set(), actors: new Map(), freeSlots: [] }
    : undefined;
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
 * The last `learn` result (see `learnOnce`): a guard and the action after it, in one macrostep, ask
 * for the same one. One entry, not a map keyed by message: knowledge holds messages (the latest
 * statuses), so a map from message to the knowledge it was learnt from would chain every earlier
 * knowledge to the current one and keep them all alive (the soak test caught exactly that). One
 * entry keeps at most one earlier knowledge alive, process-wide.
 */
let learnt: { rules: unknown; knowledge: unknown; message: unknown; result: unknown } | undefined;

/**
 * `rules.learn`, or `rules.revoke` for a RevokeObject, computed once per (knowledge, message): the
 * `describedAfter` guard, the `accept` action and the session's fast path (below) all need it,
 * and for a description it builds the actuator maps (bench/RESULTS.md §5.5). Pure, so the memo
 * cannot change an answer.
 */
function learnOnce(rules: ControlTypeRules<unknown>, knowledge: unknown, m: IdentifiedMessage): unknown {
  if (learnt && learnt.message === m && learnt.rules === rules && learnt.knowledge === knowledge) return learnt.result;
  const result = m.message_type === 'RevokeObject' ? rules.revoke(knowledge, m.object_type, m.object_id) : rules.learn(knowledge, m);
  learnt = { rules, knowledge, message: m, result };
  return result;
}

/**
 * Fast path of the session (bench/RESULTS.md §5.5): the activation's verdict on a message that
 * cannot change it — not an instruction, InstructionStatusUpdate or RevokeObject, and `learn`
 * returns the same knowledge — computed with the functions its own transitions use (the `refused`
 * guard, `learn`). For such a message the activation takes `refuse`, or `accept` without a state
 * change, and its only effect is the answer it sends to the session; the session may skip the
 * round trip. `{ refusal }` (undefined: accepted), or undefined when the activation must see it.
 */
export function verdictWithoutActivation(
  rules: ControlTypeRules<unknown>,
  ctx: ControlTypeContext,
  message: IdentifiedMessage,
  direction: 'in' | 'out',
): { readonly refusal: string | undefined } | undefined {
  const type = message.message_type;
  if (type === 'InstructionStatusUpdate' || type === 'RevokeObject' || rules.instructions.has(type)) return undefined;
  if (direction === 'in') {
    const refusal = controlTypeRefusal(rules, ctx, message, ctx.role === 'CEM' ? 'RM' : 'CEM');
    if (refusal !== undefined) return { refusal };
  }
  return learnOnce(rules, ctx.knowledge, message) === ctx.knowledge ? { refusal: undefined } : undefined;
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
        // An instruction is written into the bookkeeping below: own it first (see SHARED_BOOKKEEPING).
        const own = isInstruction(m) ? bookkeepingToOwn(context) : undefined;
        enqueue.assign(own ? { knowledge: learn(context, m), ...own } : { knowledge: learn(context, m) });
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
          const book = own ?? (context as unknown as Bookkeeping);
          book.instructions.set(key, { messageType: m.message_type, status: undefined, revoked: false });
          const actor = `instruction:${book.freeSlots.pop() ?? book.actors.size}`;
          book.actors.set(key, actor);
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
      ...SHARED_BOOKKEEPING,
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
    return learnOnce(rules, context.knowledge, m);
  }
}
