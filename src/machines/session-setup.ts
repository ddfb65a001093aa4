import { assign, emit, enqueueActions, setup } from 'xstate';
import type { ControlType, ReceptionStatusValues } from '../typebox/common/enums.js';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import type { MessageArea } from '../typebox/message-spec.js';
import { messageSpec, shortOfControlType, type IdentifiedMessage, type MessageOf } from '../typebox/registry.js';
import { CloseCode } from './close-codes.js';
import type { InboundEvent, SessionRole, SessionEmitted, SessionEvent } from './events.js';
import { verdictWithoutActivation, type ControlTypeContext, type ControlTypeEvent } from './control-type.js';
import { CONTROL_TYPE_MACHINES, CONTROL_TYPE_RULES } from './control-types.js';
import { IdSet } from './id-set.js';
import { refusal, type Phase } from './permissions.js';
import type { ControlTypePolicy, RmDetailsInput } from './types.js';

// Declared in types.ts (no XState there, so the public declarations never load xstate's).
export { S2_VERSION, defaultControlTypePolicy, type ControlTypePolicy, type RmDetailsInput } from './types.js';

/**
 * Injected so that machines stay pure: no clocks, no randomness inside (docs/design.md §Statecharts).
 * Plain functions, not methods: the machines call them detached (`Date.now` is a valid `now`).
 */
export interface SessionDeps {
  /** A fresh message id; s2-engine's default is a lowercase UUID v4. */
  newId: () => string;
  /** Milliseconds since the epoch (the same clock that drives the timers). */
  now: () => number;
}

export interface SessionInput {
  readonly role: SessionRole;
  readonly deps: SessionDeps;
  /** Protocol versions we support, most preferred first. Default [S2_VERSION]. */
  readonly versions: readonly string[];
  readonly handshakeTimeoutMs: number;
  readonly receptionTimeoutMs: number;
  /** How long we wait for the peer to close after a SessionRequest, and for the transport to confirm a close. */
  readonly closeGraceMs: number;
  /** RM: the details it announces (message_type and message_id are filled per send). */
  readonly details?: RmDetailsInput;
  /** CEM: which control type to select. */
  readonly policy?: ControlTypePolicy;
  /** Finished instructions each activation keeps readable (default INSTRUCTION_HISTORY_DEFAULT in control-type.ts). */
  readonly instructionHistory?: number;
  /**
   * Given by the session's owner, it times the ReceptionStatus waits instead of one delayed
   * `outgoing.timeout` event per sent message: one timer for all of them (they share one timeout),
   * and it sends `outgoing.timeout` itself for a message still in `pending` when its time is up
   * (R21; bench/RESULTS.md §5.2). Absent: the machine schedules the delayed event per message.
   */
  readonly receptionTimer?: ReceptionTimer;
  /**
   * A control-type message that cannot change the activation (see `verdictWithoutActivation`) is
   * judged here with the activation's own functions instead of a round trip to it (two actor
   * events fewer, bench/RESULTS.md §5.5). The session turns it off to prove both ways equivalent.
   */
  readonly fastPaths?: boolean;
  /**
   * Observe mode, for the checking proxy's shadow sessions: the session never generates a message
   * of its own (no Handshake, HandshakeResponse, details, policy selection or TERMINATE); what the
   * real side of its role sends arrives as `observed.send` and drives the same states. It still
   * answers what it receives (its ReceptionStatuses are the proxy's expected answers).
   */
  readonly observe?: boolean;
}

export interface SessionContext extends SessionInput {
  readonly phase: Phase;
  readonly activeArea: MessageArea | undefined;
  /** Wire value of the selected control type; NO_SELECTION until one is selected. */
  readonly controlType: ControlType;
  readonly version: string | undefined;
  /** CEM: the RM's Handshake has arrived. RM: the CEM's Handshake has arrived. */
  readonly peerHandshake: boolean;
  /** CEM: the RM's latest details. RM: its own current details. */
  readonly rmDetails: ResourceManagerDetails | undefined;
  /** CEM: a SelectControlType waiting for its ReceptionStatus (R41). */
  readonly pendingSelection: { readonly messageId: string; readonly controlType: ControlType } | undefined;
  /**
   * Ids (lowercase, R4) of sent messages still waiting for a ReceptionStatus → their type. A
   * mutable map on purpose: copying it on every send would cost O(in-flight) per message.
   */
  readonly pending: Map<string, string>;
  /**
   * Every instruction id seen in this session, lowercase (R42: unique for at least the session,
   * across control-type switches — an activation's own memory ends with it). Mutable for the same
   * reason as `pending`; compact, as it keeps one entry per instruction for the whole session.
   */
  readonly instructionIds: IdSet;
  readonly closeCode: number | undefined;
  readonly closeReason: string | undefined;
  /** Observe mode: our own side's Handshake has been observed (R22, R30). */
  readonly ownHandshake: boolean;
  /** CEM: the versions the RM's Handshake offered (observe mode checks the observed HandshakeResponse against them, R27). */
  readonly peerVersions: readonly string[] | undefined;
}

const peerOf = (role: SessionRole): SessionRole => (role === 'CEM' ? 'RM' : 'CEM');
/** The `observing` guard, also read by the actions that take `unless: 'observing'` (entry actions have no guards). */
export const isObserving = (context: SessionContext): boolean => context.observe === true;
const inbound = (event: SessionEvent) => event as InboundEvent;

function rs(subject: string, status: ReceptionStatusValues, label?: string): MessageOf<'ReceptionStatus'> {
  return label === undefined
    ? { message_type: 'ReceptionStatus', subject_message_id: subject, status }
    : { message_type: 'ReceptionStatus', subject_message_id: subject, status, diagnostic_label: label };
}

function subjectOf(event: InboundEvent): string {
  return (event.message as IdentifiedMessage).message_id;
}

/** The part of XState's action enqueuer the helpers below use. */
export interface Enqueue {
  emit(event: SessionEmitted): void;
  raise(event: SessionEvent, options?: { delay?: number; id?: string }): void;
  assign(values: Partial<SessionContext>): void;
}

/** Times ReceptionStatus waits for the session's owner (see {@link SessionInput.receptionTimer}). */
export interface ReceptionTimer {
  /** A message was sent and now waits for its ReceptionStatus (`messageId` as sent). */
  start(messageId: string, messageType: string): void;
}

/**
 * Sent message types whose ReceptionStatus the statecharts read beyond "it was answered": the
 * answer to a SelectControlType commits or drops the selection (R41), and the session's own
 * messages belong to its phases. For any other message, an answer other than PERMANENT_ERROR (R18)
 * takes the last branch of `outgoing.answered` in every state (forgetPending, emitAnswered), so the
 * session's owner may settle it without a macrostep (bench/RESULTS.md §5.2). Unknown subjects still
 * go to the machine (R12 report).
 */
export const ANSWER_READ_BY_MACHINE: ReadonlySet<string> = new Set([
  'SelectControlType',
  'Handshake',
  'HandshakeResponse',
  'ResourceManagerDetails',
  'SessionRequest',
]);

/**
 * With `fastPaths`: the active control type's verdict on a message that cannot change it,
 * computed from its current context (see `verdictWithoutActivation`); undefined: send it the message.
 */
function verdictHere(
  context: SessionContext,
  self: { getSnapshot(): { children: Record<string, unknown> } },
  message: IdentifiedMessage,
  direction: 'in' | 'out',
): { readonly refusal: string | undefined } | undefined {
  if (!context.fastPaths || !context.activeArea || context.activeArea === 'common') return undefined;
  const child = self.getSnapshot().children['controlType'] as { getSnapshot(): { context: ControlTypeContext } } | undefined;
  if (!child) return undefined;
  return verdictWithoutActivation(CONTROL_TYPE_RULES[context.activeArea], child.getSnapshot().context, message, direction);
}

/** The id of the delayed `outgoing.timeout` event of one sent message (cancelled by its ReceptionStatus). */
const waitId = (lowercaseMessageId: string) => `rs-wait:${lowercaseMessageId}`;

/**
 * Emits the message and starts waiting for its ReceptionStatus (R11, R21): the message id goes
 * into `pending` and a delayed `outgoing.timeout` is scheduled under a per-message id. Its
 * ReceptionStatus cancels that event and raises `outgoing.answered` instead. (An actor per sent
 * message cost O(messages in flight) per send in XState — see bench/RESULTS.md §5.1.)
 */
export function enqueueSend(context: SessionContext, enqueue: Enqueue, message: IdentifiedMessage): void {
  enqueue.emit({ type: 'send', message });
  enqueueTrack(context, enqueue, message);
}

/**
 * What sending a message does to the session besides putting it on the wire: its ReceptionStatus
 * wait (R11, R21) and, for a SelectControlType, the pending selection (R41). Observe mode applies
 * only this to what the real side sent.
 */
export function enqueueTrack(context: SessionContext, enqueue: Enqueue, message: IdentifiedMessage): void {
  const id = message.message_id.toLowerCase();
  context.pending.set(id, message.message_type);
  if (context.receptionTimer) {
    context.receptionTimer.start(message.message_id, message.message_type);
  } else {
    enqueue.raise(
      { type: 'outgoing.timeout', messageId: message.message_id, messageType: message.message_type },
      { delay: context.receptionTimeoutMs, id: waitId(id) },
    );
  }
  if (message.message_type === 'SelectControlType') {
    enqueue.assign({ pendingSelection: { messageId: message.message_id, controlType: message.control_type } });
  }
}

/**
 * `app.send` has one handler, at the root (`sendApp`), whatever the state, and for every message
 * but a SelectControlType (whose pending selection is an assign, R41) it changes the context only
 * in place: the message's ReceptionStatus wait (R11, R21) and instruction id (R42); it emits the
 * message and, when the active control type must learn from it (see `verdictWithoutActivation`),
 * tells the control type. With `fastPaths` and a `receptionTimer` this does the same without a
 * macrostep of the session (bench/RESULTS.md §9.8) — the control type's own statechart still runs —
 * and returns true; false: nothing was done, send the machine `app.send`. For an idle actor only:
 * inside a macrostep an event waits its turn in the mailbox.
 */
export function sendInPlace(
  context: SessionContext,
  self: { getSnapshot(): { children: Record<string, unknown> } },
  message: IdentifiedMessage,
  put: (message: IdentifiedMessage) => void,
): boolean {
  if (!context.fastPaths || !context.receptionTimer || context.observe || message.message_type === 'SelectControlType') return false;
  const tell =
    context.activeArea !== undefined &&
    concernsControlType(message, context.activeArea) &&
    verdictHere(context, self, message, 'out') === undefined
      ? (self.getSnapshot().children['controlType'] as { send(event: ControlTypeEvent): void } | undefined)
      : undefined;
  context.pending.set(message.message_id.toLowerCase(), message.message_type);
  context.receptionTimer.start(message.message_id, message.message_type);
  const instructionId = instructionIdOf(message);
  if (instructionId) context.instructionIds.add(instructionId);
  // As the machine's deferred actions run: the emitted message first, then the control type's event.
  put(message);
  tell?.send({ type: 'ct.message', direction: 'out', message });
  return true;
}

export function enqueueRefuse(enqueue: Enqueue, event: InboundEvent, status: ReceptionStatusValues, reason: string): void {
  enqueue.emit({ type: 'send', message: rs(subjectOf(event), status, reason) });
  enqueue.emit({ type: 'refused', message: event.message, status, reason });
}

/** Everything both session machines share: types, guards, actions, delays. */
export const sessionSetup = setup({
  types: {
    context: {} as SessionContext,
    input: {} as SessionInput,
    events: {} as SessionEvent,
    emitted: {} as SessionEmitted,
  },
  actors: { ...CONTROL_TYPE_MACHINES },
  delays: {
    handshakeTimeout: ({ context }) => context.handshakeTimeoutMs,
    closeGrace: ({ context }) => context.closeGraceMs,
  },
  guards: {
    /** R24: the peer's Handshake names the opposite role. */
    peerRoleOk: ({ context, event }) => (inbound(event).message as MessageOf<'Handshake'>).role === peerOf(context.role),
    peerHandshakeSeen: ({ context }) => context.peerHandshake,
    /** Observe mode: a shadow of the checking proxy, which never sends a message of its own. */
    observing: ({ context }) => isObserving(context),
    /** Observe mode: the real side of our role sent a message of this type (`observed.send`). */
    observes: ({ event }, type: string) => event.type === 'observed.send' && event.message.message_type === type,
    /** R25/R27: the RM's list and ours share a version (exact string match). */
    hasCommonVersion: ({ context, event }) => {
      const theirs = (inbound(event).message as MessageOf<'Handshake'>).supported_protocol_versions ?? [];
      return context.versions.some((v) => theirs.includes(v));
    },
    /** R27: the CEM selected a version we offered. */
    offeredVersion: ({ context, event }) =>
      context.versions.includes((inbound(event).message as MessageOf<'HandshakeResponse'>).selected_protocol_version),
    /** The message comes from the role that may send it (docs/rules.md#senders). */
    sentByPeer: ({ context, event }) => {
      const sender = inbound(event).spec.sender;
      return sender === 'both' || sender === peerOf(context.role);
    },
    /** R35, Q8: SelectControlType names a type the RM offered, or NO_SELECTION. */
    offeredControlType: ({ context, event }) => {
      const ct = (inbound(event).message as MessageOf<'SelectControlType'>).control_type;
      return ct === 'NO_SELECTION' || (context.rmDetails?.available_control_types.includes(ct) ?? false);
    },
    selects: ({ event }, ct: ControlType) => (inbound(event).message as MessageOf<'SelectControlType'>).control_type === ct,
    selectsNoControl: ({ event }) => {
      const ct = (inbound(event).message as MessageOf<'SelectControlType'>).control_type;
      return ct === 'NO_SELECTION' || ct === 'NOT_CONTROLABLE';
    },
    /** R41: our SelectControlType(ct) was answered OK. */
    selectionAccepted: ({ context, event }, ct: ControlType) =>
      event.type === 'outgoing.answered' &&
      event.status === 'OK' &&
      context.pendingSelection?.messageId === event.messageId &&
      context.pendingSelection.controlType === ct,
    selectionRefused: ({ context, event }) =>
      event.type === 'outgoing.answered' && event.status !== 'OK' && context.pendingSelection?.messageId === event.messageId,
    /** R18: the peer answered PERMANENT_ERROR: the session is over. */
    isPermanentError: ({ event }) => event.type === 'outgoing.answered' && event.status === 'PERMANENT_ERROR',
  },
  actions: {
    /** Put a message on the wire and, unless it is a ReceptionStatus, wait for its status. */
    send: enqueueActions(({ context, enqueue }, message: IdentifiedMessage) => enqueueSend(context, enqueue, message)),
    sendApp: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'app.send' && event.type !== 'observed.send') return;
      // Observe mode: the real side put it on the wire already; only its effects are ours.
      if (event.type === 'observed.send') enqueueTrack(context, enqueue, event.message);
      else enqueueSend(context, enqueue, event.message);
      const instructionId = instructionIdOf(event.message);
      if (instructionId) context.instructionIds.add(instructionId);
      // The active control type learns from what we send (descriptions, instructions, statuses).
      if (context.activeArea && concernsControlType(event.message, context.activeArea)) {
        if (!verdictHere(context, self, event.message, 'out'))
          enqueue.sendTo('controlType', { type: 'ct.message', direction: 'out', message: event.message });
      }
    }),
    /** A received message of the active control type: the control type judges it (R37–R58). */
    forwardToControlType: enqueueActions(({ context, event, enqueue, self }) => {
      const message = inbound(event).message as IdentifiedMessage;
      const instructionId = instructionIdOf(message);
      if (instructionId && context.instructionIds.has(instructionId)) {
        enqueueRefuse(
          enqueue,
          inbound(event),
          'INVALID_CONTENT',
          `instruction id ${(message as { id: string }).id} was already used in this session (R42)`,
        );
        return;
      }
      // What cannot change the activation gets its verdict here, as `ct.refused` / `ct.accepted` would give it.
      const verdict = verdictHere(context, self, message, 'in');
      if (verdict?.refusal !== undefined) enqueueRefuse(enqueue, inbound(event), 'INVALID_CONTENT', verdict.refusal);
      else if (verdict) enqueue.emit({ type: 'deliver', message });
      // The id is used only once the control type accepts the instruction: a refused one changes nothing (R16).
      else enqueue.sendTo('controlType', { type: 'ct.message', direction: 'in', message });
    }),
    deliverAccepted: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ct.accepted') throw new Error('deliverAccepted outside ct.accepted');
      // R42: an accepted instruction's id stays used for the rest of the session.
      const instructionId = instructionIdOf(event.message);
      if (instructionId) context.instructionIds.add(instructionId);
      enqueue.emit({ type: 'deliver', message: event.message });
    }),
    refuseFromControlType: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'ct.refused') return;
      enqueue.emit({ type: 'send', message: rs(event.message.message_id, 'INVALID_CONTENT', event.reason) });
      enqueue.emit({ type: 'refused', message: event.message, status: 'INVALID_CONTENT', reason: event.reason });
    }),
    emitNotice: emit(({ event }) => {
      if (event.type !== 'ct.notice') throw new Error('emitNotice outside ct.notice');
      return { type: 'notice' as const, notice: event.notice };
    }),
    /** R22: our Handshake, at once; `unless: 'observing'` skips it in observe mode (the real side's is observed). */
    sendOwnHandshake: enqueueActions(({ context, enqueue }, params: { unless?: 'observing' } | undefined) => {
      if (params?.unless === 'observing' && isObserving(context)) return;
      enqueueSend(context, enqueue, {
        message_type: 'Handshake',
        message_id: context.deps.newId(),
        role: context.role,
        supported_protocol_versions: [...context.versions],
      });
    }),
    /** Observe mode: our side's own Handshake; the versions it lists are the ones we support from now on (R25, R27). */
    storeOwnHandshake: assign(({ context, event }) => {
      if (event.type !== 'observed.send' || event.message.message_type !== 'Handshake') return {};
      const listed = event.message.supported_protocol_versions;
      return { ownHandshake: true, versions: listed?.length ? [...listed] : context.versions };
    }),
    /** Observe mode (CEM): the RM's Handshake is in; the answer is the real CEM's HandshakeResponse, observed later. */
    storePeerOffer: assign(({ event }) => ({
      peerHandshake: true,
      peerVersions: [...((inbound(event).message as MessageOf<'Handshake'>).supported_protocol_versions ?? [])],
    })),
    refuseSecondHandshake: enqueueActions(({ event, enqueue }) =>
      enqueueRefuse(enqueue, inbound(event), 'INVALID_CONTENT', 'a second Handshake in one session (R30)'),
    ),
    /** Hand an accepted message to the application; roles answer it with the handler's status. */
    deliver: emit(({ event }) => ({ type: 'deliver' as const, message: inbound(event).message as IdentifiedMessage })),
    /** Answer with a refusal and change nothing else (R16). */
    refuse: enqueueActions(({ event, enqueue }, params: { status: ReceptionStatusValues; reason: string }) =>
      enqueueRefuse(enqueue, inbound(event), params.status, params.reason),
    ),
    /** The root catch-all: a valid message that is not allowed here (Q6 ⇒ INVALID_CONTENT). */
    refuseNotAllowed: enqueueActions(({ context, event, enqueue }) => {
      const ev = inbound(event);
      const type = ev.message.message_type;
      const reason = refusal(peerOf(context.role), ev.spec, type, context) ?? `${type} is not allowed in this state of the session (Q6)`;
      enqueueRefuse(enqueue, ev, 'INVALID_CONTENT', reason);
    }),
    /** A frame the codec refused: send the reply it prepared (none for a ReceptionStatus, R11). */
    replyDecodeError: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'frame.invalid') return;
      if (event.error.reply) enqueue.emit({ type: 'send', message: event.error.reply });
      enqueue.emit({ type: 'refused', message: undefined, status: event.error.status, reason: event.error.diagnosticLabel });
    }),
    /** R14: a ReceptionStatus goes straight to the message it answers, never through a queue. */
    routeReceptionStatus: enqueueActions(({ context, event, enqueue }) => {
      const status = inbound(event).message as MessageOf<'ReceptionStatus'>;
      const id = status.subject_message_id.toLowerCase();
      const messageType = context.pending.get(id);
      if (messageType !== undefined) {
        if (!context.receptionTimer) enqueue.cancel(waitId(id));
        enqueue.raise({
          type: 'outgoing.answered',
          messageId: status.subject_message_id,
          messageType,
          status: status.status,
          diagnosticLabel: status.diagnostic_label,
        });
      } else {
        enqueue.emit({
          type: 'report',
          kind: 'unknown-reception-status',
          detail: `ReceptionStatus ${status.status} for ${status.subject_message_id}, which is not awaiting one (unknown, answered before, or timed out) (R12)`,
        });
      }
    }),
    /** A SelectControlType that was never answered is no longer pending (R41): new details may select again. */
    dropTimedOutSelection: assign(({ context, event }) =>
      event.type === 'outgoing.timeout' && context.pendingSelection?.messageId === event.messageId ? { pendingSelection: undefined } : {},
    ),
    /** The message is answered (or timed out): it no longer waits. */
    forgetPending: ({ context, event }) => {
      if (event.type === 'outgoing.answered' || event.type === 'outgoing.timeout') context.pending.delete(event.messageId.toLowerCase());
    },
    emitAnswered: emit(({ event }) => {
      if (event.type !== 'outgoing.answered') throw new Error('emitAnswered outside outgoing.answered');
      return {
        type: 'answered' as const,
        messageId: event.messageId,
        messageType: event.messageType,
        status: event.status,
        diagnosticLabel: event.diagnosticLabel,
      };
    }),
    emitTimeout: emit(({ event }) => {
      if (event.type !== 'outgoing.timeout') throw new Error('emitTimeout outside outgoing.timeout');
      return { type: 'timeout' as const, messageId: event.messageId, messageType: event.messageType };
    }),
    emitHandshake: emit(({ context }) => ({ type: 'handshake' as const, version: context.version ?? '' })),
    emitControlType: emit(({ context }) => ({ type: 'controlType' as const, controlType: context.controlType })),
    setPhase: assign((_, phase: Phase) => ({ phase })),
    setActiveArea: assign(({ context }) => ({ activeArea: shortOfControlType(context.controlType) })),
    clearActiveArea: assign({ activeArea: undefined }),
    markPeerHandshake: assign({ peerHandshake: true }),
    storeOfferedVersion: assign(({ context, event }) => {
      const theirs = (inbound(event).message as MessageOf<'Handshake'>).supported_protocol_versions ?? [];
      return { peerHandshake: true, version: context.versions.find((v) => theirs.includes(v)) };
    }),
    storeSelectedVersion: assign(({ event }) => ({
      version: (inbound(event).message as MessageOf<'HandshakeResponse'>).selected_protocol_version,
    })),
    /** Record why the session ends (first reason wins). */
    setClose: assign(({ context }, params: { code: number; reason: string }) =>
      context.closeCode === undefined ? { closeCode: params.code, closeReason: params.reason } : {},
    ),
    setCloseFromEvent: assign(({ context, event }) => {
      if (context.closeCode !== undefined) return {};
      switch (event.type) {
        case 'transport.closed':
        case 'app.close':
          return { closeCode: event.code, closeReason: event.reason };
        case 'outgoing.answered':
          return {
            closeCode: CloseCode.PERMANENT_ERROR,
            closeReason: `peer answered PERMANENT_ERROR to ${event.messageType}${event.diagnosticLabel ? `: ${event.diagnosticLabel}` : ''}`,
          };
        case 's2.SessionRequest': {
          const req = (event.message as MessageOf<'SessionRequest'>).request;
          return { closeCode: CloseCode.NORMAL, closeReason: `peer sent SessionRequest ${req}` };
        }
        case 'observed.send':
          return event.message.message_type === 'SessionRequest'
            ? { closeCode: CloseCode.NORMAL, closeReason: `sent SessionRequest ${event.message.request}` }
            : {};
        default:
          return {};
      }
    }),
    sendSessionRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'app.sessionRequest') return;
      const message: MessageOf<'SessionRequest'> = {
        message_type: 'SessionRequest',
        message_id: context.deps.newId(),
        request: event.request,
      };
      enqueueSend(context, enqueue, event.reason ? { ...message, diagnostic_label: event.reason } : message);
      enqueueClose(context, enqueue, CloseCode.NORMAL, `sent SessionRequest ${event.request}`);
    }),
    emitClose: emit(({ context }) => ({
      type: 'close' as const,
      code: context.closeCode ?? CloseCode.NORMAL,
      reason: context.closeReason ?? '',
    })),
    reportTimeout: emit(({ event }) => ({
      type: 'report' as const,
      kind: 'reception-status-timeout' as const,
      detail: event.type === 'outgoing.timeout' ? `no ReceptionStatus for ${event.messageType} ${event.messageId} in time (R21)` : '',
    })),
  },
});

/** Root-level transitions both roles share: ReceptionStatus routing, endings, the catch-all. */
export const sharedRootHandlers = {
  's2.ReceptionStatus': { actions: 'routeReceptionStatus' },
  'frame.invalid': { actions: 'replyDecodeError' },
  'outgoing.answered': [
    { guard: 'isPermanentError', actions: ['forgetPending', 'emitAnswered', 'setCloseFromEvent'], target: '.closing' },
    { actions: ['forgetPending', 'emitAnswered'] },
  ],
  'outgoing.timeout': { actions: ['forgetPending', 'dropTimedOutSelection', 'emitTimeout', 'reportTimeout'] },
  // Q11, Q22: a SessionRequest is acknowledged and ends the session in any phase.
  's2.SessionRequest': { guard: 'sentByPeer', actions: ['deliver', 'setCloseFromEvent'], target: '.closing' },
  'app.send': { actions: 'sendApp' },
  // Observe mode: what our real side sent; a SessionRequest ends the session as `app.sessionRequest` does (Q11).
  'observed.send': [
    { guard: { type: 'observes', params: 'SessionRequest' }, actions: ['sendApp', 'setCloseFromEvent'], target: '.ending' },
    { actions: 'sendApp' },
  ],
  'ct.accepted': { actions: 'deliverAccepted' },
  'ct.refused': { actions: 'refuseFromControlType' },
  'ct.notice': { actions: 'emitNotice' },
  'app.sessionRequest': { actions: 'sendSessionRequest', target: '.ending' },
  'app.close': { actions: 'setCloseFromEvent', target: '.closing' },
  'transport.closed': { actions: 'setCloseFromEvent', target: '.closed' },
  // Q6: anything valid that no state above accepted gets INVALID_CONTENT and changes nothing.
  's2.*': { actions: 'refuseNotAllowed' },
} as const;

/** Both roles: no finished handshake within `handshakeTimeoutMs` closes with 4000. */
export const handshakeTimeout = {
  handshakeTimeout: {
    target: 'closing',
    actions: { type: 'setClose', params: { code: CloseCode.HANDSHAKE_TIMEOUT, reason: 'handshake timeout' } },
  },
} as const;

/** The states every session ends in. */
export const endingStates = {
  /** We asked the peer to go (SessionRequest); it should close; if it does not, we do (Q11). */
  ending: {
    entry: [{ type: 'setPhase', params: 'closing' }],
    after: { closeGrace: { target: 'closing' } },
    // One SessionRequest per session: a second request changes nothing.
    on: { 'app.sessionRequest': {} },
  },
  /** We close the transport and wait for it to confirm. */
  closing: {
    entry: [{ type: 'setPhase', params: 'closing' }, 'emitClose'],
    after: { closeGrace: { target: 'closed' } },
    // Already closing: neither a SessionRequest nor another close restarts it.
    on: { 'app.sessionRequest': {}, 'app.close': {} },
  },
  /** All session state is dropped: nothing survives a session (docs/rules.md#phases). */
  closed: { type: 'final' },
} as const;

/** Records why the session ends; the first reason wins. */
export function enqueueClose(context: SessionContext, enqueue: Enqueue, code: number, reason: string): void {
  if (context.closeCode === undefined) enqueue.assign({ closeCode: code, closeReason: reason });
}

/** Initial context shared by both roles. */
export function initialContext(input: SessionInput): SessionContext {
  return {
    ...input,
    phase: 'handshake',
    activeArea: undefined,
    controlType: 'NO_SELECTION',
    version: undefined,
    peerHandshake: false,
    rmDetails: undefined,
    pendingSelection: undefined,
    pending: new Map(),
    instructionIds: new IdSet(),
    closeCode: undefined,
    closeReason: undefined,
    ownHandshake: false,
    peerVersions: undefined,
  };
}

/** The lowercase id of an instruction message, undefined for other messages. */
export function instructionIdOf(message: IdentifiedMessage): string | undefined {
  return messageSpec(message.message_type)?.instruction ? (message as { id: string }).id.toLowerCase() : undefined;
}

/** Messages a control-type actor sees besides its own area's: statuses of and revocations of its objects. */
export function concernsControlType(message: IdentifiedMessage, area: MessageArea): boolean {
  const t = message.message_type;
  return t === 'InstructionStatusUpdate' || t === 'RevokeObject' || messageSpec(t)?.area === area;
}

type ControlTypeActor = keyof typeof CONTROL_TYPE_MACHINES;

/**
 * The `active.<short>` state of either role: on entry the control type's activation actor is
 * started, on exit (switch, NO_SELECTION, close) it is stopped and its knowledge and instructions
 * are dropped (R36, R40). The peer's messages of the type go to it for judgement.
 */
export function activeState(short: string, peerTypes: readonly string[]) {
  const handle = { guard: 'sentByPeer', actions: 'forwardToControlType' } as const;
  return {
    entry: ['setActiveArea', 'emitControlType'],
    exit: 'clearActiveArea',
    invoke: {
      id: 'controlType',
      src: `ct.${short}` as ControlTypeActor,
      input: ({ context }: { context: SessionContext }) => ({
        role: context.role,
        now: context.deps.now,
        instructionHistory: context.instructionHistory,
        usedIds: context.instructionIds,
      }),
    },
    on: Object.fromEntries([`s2.${short}.*`, ...peerTypes].map((t) => [t, handle])),
  } as const;
}

/** The five real control types, by the name of their `active` substate. */
export const ACTIVE_STATES = [
  ['FRBC', 'FILL_RATE_BASED_CONTROL'],
  ['PPBC', 'POWER_PROFILE_BASED_CONTROL'],
  ['OMBC', 'OPERATION_MODE_BASED_CONTROL'],
  ['PEBC', 'POWER_ENVELOPE_BASED_CONTROL'],
  ['DDBC', 'DEMAND_DRIVEN_BASED_CONTROL'],
] as const;
