import { createActor, type Actor } from 'xstate';
import { codecFor, type Codec, type CodecOptions, type DecodeFailure } from '../codec/index.js';
import { cemSessionMachine } from '../machines/cem-session.js';
import { CloseCode } from '../machines/close-codes.js';
import type { SessionEmitted } from '../machines/events.js';
import { handshakeRefusal, refusal } from '../machines/permissions.js';
import { controlTypeRefusal, INSTRUCTION_HISTORY_DEFAULT, type ControlTypeContext } from '../machines/control-type.js';
import { CONTROL_TYPE_RULES } from '../machines/control-types.js';
import { statusTransitionRefusal } from '../rules/instruction-status.js';
import { rmSessionMachine } from '../machines/rm-session.js';
import {
  ANSWER_READ_BY_MACHINE,
  concernsControlType,
  instructionIdOf,
  sendInPlace,
  type SessionContext,
  type SessionInput,
} from '../machines/session-setup.js';
// The public types come from the XState-free modules (machines/types.ts, ./types.ts), so that this
// file's declarations never import xstate, whose own do not compile under exactOptionalPropertyTypes
// with skipLibCheck false (statelyai/xstate#4613).
import {
  type ControlTypeNotice,
  type ControlTypePolicy,
  type ReportKind,
  type RmDetailsInput,
  type SessionRole,
  type SessionStatePath,
} from '../machines/types.js';
import type { ControlType, InstructionStatus, ReceptionStatusValues, SessionRequestType } from '../typebox/common/enums.js';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import { S2Error } from '../typebox/errors.js';
import { messageSpec, type IdentifiedMessage, type MessageOf, type S2Message } from '../typebox/registry.js';
import { DEFAULT_VERSIONS, isS2Version, type S2Version } from '../typebox/versions.js';
import type { Transport } from '../transport/transport.js';
import { newUuid } from './ids.js';
import { resolveLogger, type Logger } from './logger.js';
import { checkSessionOptions, throwIfProblems } from './options.js';
import type { SessionClock, SessionInspector } from './types.js';
import { sessionClock } from './long-clock.js';
import { FifoReceptionTimer } from './reception-timer.js';

/** See {@link setFastPaths}. */
let fastPathsOn = true;

/**
 * Internal, for the equivalence tests (test/roles/fast-path-equivalence.test.ts): turns every
 * fast path of the sessions created afterwards off (`false`) or on (`true`, the default). The
 * fast paths (bench/RESULTS.md §5.2, §5.5) settle a ReceptionStatus of an application message
 * without a macrostep, time all ReceptionStatus waits with one timer, and judge control-type
 * messages that change nothing in the activation without sending them to it; the tests prove
 * that sessions behave the same either way. Not exported from the package.
 */
export function setFastPaths(on: boolean): void {
  fastPathsOn = on;
}

/** Documented defaults of a session's limits. */
export const SESSION_DEFAULTS = {
  /** Time from connection to a finished handshake. */
  handshakeTimeoutMs: 30_000,
  /** Time a sent message waits for its ReceptionStatus; 5 s matches the reference Python RM (Q5). */
  receptionTimeoutMs: 5_000,
  /** Time the peer gets to close after our SessionRequest, and the transport to confirm a close. */
  closeGraceMs: 2_000,
  /** Finished instructions whose final status stays readable (`instructionStatus`); older ones keep only their id (R42). */
  instructionHistory: INSTRUCTION_HISTORY_DEFAULT,
  /**
   * S2 JSON versions offered, most preferred first, by role (`DEFAULT_VERSIONS`): a CEM both, newest
   * preferred; an RM 0.0.2-beta only, so that an RM written before 1.0.0-beta keeps the version it
   * was written for. An RM written for 1.0.0-beta says `versions: ['1.0.0-beta']` (or both).
   */
  versions: DEFAULT_VERSIONS,
} as const;

/** What `send` resolves with: the peer's ReceptionStatus, or why there is none. */
export interface SendResult {
  readonly messageId: string;
  readonly status: ReceptionStatusValues | 'TIMEOUT' | 'CLOSED';
  readonly diagnosticLabel?: string;
}

/**
 * A status from a handler: the ReceptionStatus to answer with (default OK). `PERMANENT_ERROR`
 * also ends the session after the answer (R18: the side that sends it closes; code 4002).
 */
export type HandlerStatus = 'OK' | 'TEMPORARY_ERROR' | 'PERMANENT_ERROR';
const HANDLER_STATUSES: ReadonlySet<unknown> = new Set<HandlerStatus>(['OK', 'TEMPORARY_ERROR', 'PERMANENT_ERROR']);

/**
 * Called for every message that passed all protocol checks; its result becomes the ReceptionStatus.
 * A handler that throws (or rejects, or returns something that is not a HandlerStatus) is a fault
 * of this side, not of the peer: the message is answered `TEMPORARY_ERROR` ("the receiver could
 * not process it", R15), the session goes on, and the failure is raised as the session's `error`
 * event, a `handler-error` report and a logger error. Return a status yourself to answer otherwise.
 */
export type MessageHandler = (message: IdentifiedMessage, session: S2Session) => HandlerStatus | void | Promise<HandlerStatus | void>;

/**
 * Options of one session. Every optional field also accepts `undefined`, which means the same as
 * leaving it out (so `{ logger: config.logger }` works under `exactOptionalPropertyTypes`).
 */
export interface SessionOptions extends Omit<CodecOptions, 'version' | 'ceilings'> {
  readonly role: SessionRole;
  /**
   * S2 JSON versions offered (RM) or accepted (CEM), most preferred first; each one of
   * `S2_VERSIONS` (anything else is an options error). Default {@link SESSION_DEFAULTS}.versions:
   * both for a CEM (it selects the first of its own list that the RM also offers), 0.0.2-beta for
   * an RM. Every frame after the handshake is decoded and encoded with the selected version's
   * message set (see {@link S2Session.version}).
   */
  readonly versions?: readonly string[] | undefined;
  /** Time from connection to a finished handshake, default {@link SESSION_DEFAULTS}.handshakeTimeoutMs. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Time a sent message waits for its ReceptionStatus, default {@link SESSION_DEFAULTS}.receptionTimeoutMs. */
  readonly receptionTimeoutMs?: number | undefined;
  /** Time the peer gets to close after our SessionRequest, default {@link SESSION_DEFAULTS}.closeGraceMs. */
  readonly closeGraceMs?: number | undefined;
  /**
   * How many finished instructions of the active control type stay readable through
   * {@link S2Session.instructionStatus} (and in its statechart's context), newest kept; default
   * {@link SESSION_DEFAULTS}.instructionHistory, 0 keeps none. Beyond that a finished instruction
   * leaves only its id, which stays used for the whole session (R42): memory and time per
   * instruction stay flat however long the session runs.
   */
  readonly instructionHistory?: number | undefined;
  /** RM: the details announced after the handshake (message_id is filled in). */
  readonly details?: RmDetailsInput | undefined;
  /** CEM: which control type to select from the RM's offer. */
  readonly policy?: ControlTypePolicy | undefined;
  readonly onMessage?: MessageHandler | undefined;
  /**
   * Where warnings and errors go. Default: a shared stderr logger that prints the first entry of
   * each kind and then a count per minute (see `createStderrLogger`); `false` silences it.
   */
  readonly logger?: Logger | false | undefined;
  /** XState clock for every timer of the session (tests inject `SimulatedClock`). */
  readonly clock?: SessionClock | undefined;
  /** Wall-clock milliseconds; give `() => clock.now()` together with a SimulatedClock. Default Date.now. */
  readonly now?: (() => number) | undefined;
  /** Id generator; default lowercase UUID v4. */
  readonly newId?: (() => string) | undefined;
  /**
   * XState inspection hook (XState v5's inspection API): receives every actor, event, snapshot
   * and microstep of this session's actors (session, control type, instructions). Off by
   * default; it observes only and never changes protocol behaviour.
   */
  readonly inspect?: SessionInspector | undefined;
  /** A name for logs and traces; default a fresh UUID. */
  readonly sessionId?: string | undefined;
  /**
   * Observe mode, used by the checking proxy (`s2 proxy`, src/proxy/judge.ts) for its shadow
   * sessions: the session never generates a message of its own (no Handshake, HandshakeResponse,
   * details, policy selection or TERMINATE) and `send` refuses; what the real side of its role
   * sent is given to {@link S2Session.observeSent}. Received frames are judged and answered as
   * usual: its ReceptionStatuses are what a correct peer would answer. An observing RM needs no
   * `details` (it learns them from the observed ResourceManagerDetails). Default false.
   */
  readonly observe?: boolean | undefined;
}

export interface SessionEvents {
  handshake: { version: string };
  details: { details: ResourceManagerDetails };
  controlType: { controlType: ControlType };
  /** A message accepted by the protocol engine (before the application's handler runs). */
  message: { message: IdentifiedMessage };
  /** A frame refused with the given status (its ReceptionStatus is already sent). */
  refused: { message: S2Message | undefined; status: ReceptionStatusValues; reason: string };
  sent: { message: S2Message };
  /** Every text frame as it arrived, with the decoded message when it decoded. */
  received: { frame: string; message: S2Message | undefined };
  state: { state: SessionStatePath };
  /** From the active control type: an instruction arrived (RM), a status changed, an instruction is due (RM) or revoked (RM). */
  notice: ControlTypeNotice;
  /** Something non-fatal worth knowing (see {@link ReportKind}). */
  report: { kind: ReportKind; detail: string };
  /**
   * The application's own code failed: a message handler, a control-type handler (activate,
   * execute, onInstruction …) or an event listener threw or rejected, or a message it sent from
   * such a handler was refused by s2-engine (an `S2Error` with its `problems`). `source` says
   * which. The session goes on; the same failure is also reported (`handler-error`) and logged.
   */
  error: { error: Error; source: string };
  close: { code: number; reason: string };
}

/** @inline */
type Listener<K extends keyof SessionEvents> = (event: SessionEvents[K]) => void;
type SessionMachine = typeof cemSessionMachine | typeof rmSessionMachine;

/**
 * A message as the application writes it for `send()`: the message type `M` with `message_id`
 * optional — left out, `send()` fills in a fresh UUID. `Outgoing<FRBCSystemDescription>` is an
 * FRBC.SystemDescription to send; `Outgoing` alone is any message but a ReceptionStatus (the
 * library sends those). It distributes over a union, so each member keeps its own fields.
 *
 * ```ts
 * import type { Outgoing } from 's2-engine';
 * import type { FRBCStorageStatus } from 's2-engine/frbc';
 * const status: Outgoing<FRBCStorageStatus> = { message_type: 'FRBC.StorageStatus', present_fill_level: 42 };
 * ```
 */
export type Outgoing<M extends IdentifiedMessage = IdentifiedMessage> = M extends IdentifiedMessage
  ? Omit<M, 'message_id'> & { message_id?: string }
  : never;

/** The dotted path of a snapshot value: `connected.active.FRBC`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    for (const key in value) {
      const rest = statePath((value as Record<string, unknown>)[key]);
      return rest ? `${key}.${rest}` : key;
    }
  }
  return '';
}

/**
 * One S2 session over one transport: wires the session statechart to the codec, the transport
 * and the application. Every received frame gets exactly one ReceptionStatus (R11, R12): the
 * statechart answers refusals itself, and accepted messages are answered here with the
 * handler's status. A handler that throws answers TEMPORARY_ERROR and the session goes on: the
 * peer's message was valid, so the peer is not told it was wrong (see {@link MessageHandler}).
 */
export class S2Session {
  readonly id: string;
  readonly role: SessionRole;
  readonly peer: string;
  /** Resolves when the session is over, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private readonly actor: Actor<SessionMachine>;
  /** The codec of versions[0] until the handshake selects a version, then that version's (see `onEmitted`). */
  private codec: Codec;
  private readonly codecOptions: CodecOptions;
  private readonly logger: Logger;
  private readonly newId: () => string;
  private readonly listeners = new Map<keyof SessionEvents, Set<Listener<never>>>();
  private readonly waiting = new Map<string, (result: SendResult) => void>();
  /** Fast paths on (see {@link setFastPaths}); off while an inspector watches, which then sees every event. */
  private readonly fast: boolean;
  /** With the fast paths: the one timer of every ReceptionStatus wait (the machine's `receptionTimer`). */
  private readonly receptionTimer: FifoReceptionTimer | undefined;
  /** The machine's `pending` map (one Map object for the session's life, mutated in place by the machine). */
  private readonly pending: Map<string, string>;
  private lastState: SessionStatePath | '' = '';
  private readonly handlers: MessageHandler[] = [];
  /** Messages send() has validated, so put() does not validate them again. */
  private readonly checked = new WeakSet<object>();
  private receivedRequest: SessionRequestType | undefined;
  /**
   * > 0 while the actor delivers a snapshot or an emitted event: the application's code then runs
   * inside a macrostep, and a message it sends queues in the actor's mailbox (see `dispatchSend`).
   */
  private inActor = 0;
  /** While `dispatchSend` puts messages itself: the later ones, in order, as the actor's mailbox would queue them. */
  private sendQueue: IdentifiedMessage[] | undefined;
  /** > 0 while reportError emits: a listener failing then is logged, not raised again. */
  private raising = 0;
  private done = false;
  private resolveClosed!: (v: { code: number; reason: string }) => void;

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions,
  ) {
    throwIfProblems('session options', checkSessionOptions(options));
    this.id = options.sessionId ?? newUuid();
    this.role = options.role;
    this.peer = transport.peer;
    this.logger = resolveLogger(options.logger);
    this.newId = options.newId ?? newUuid;
    const versions = options.versions ?? SESSION_DEFAULTS.versions[options.role];
    this.codecOptions = {
      ...(options.ids ? { ids: options.ids } : {}),
      ...(options.rules === undefined ? {} : { rules: options.rules }),
      // A peer's frame above its type's size ceiling is refused before it is parsed (INVALID_MESSAGE).
      ceilings: true,
    };
    // Handshake and HandshakeResponse are the same in every version: until one is selected, the
    // codec of the most preferred one reads and writes them.
    this.codec = this.codecOf(versions[0]);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    if (options.onMessage) this.handlers.push(options.onMessage);
    this.fast = fastPathsOn && !options.inspect;
    // Delays of any length (R43: an execution_time months ahead); the real clock also reads pending I/O before a timer's event.
    const clock = sessionClock(options.clock);
    const clockNow = (options.clock as { now?: () => number } | undefined)?.now;
    // One timer needs the time line of its clock: a SimulatedClock's own, or the monotonic clock of
    // the real timers. An injected clock that cannot tell the time keeps a timer per message.
    const now = !options.clock ? () => performance.now() : typeof clockNow === 'function' ? () => clockNow.call(options.clock) : undefined;
    this.receptionTimer =
      this.fast && now
        ? new FifoReceptionTimer({
            clock,
            now,
            timeoutMs: options.receptionTimeoutMs ?? SESSION_DEFAULTS.receptionTimeoutMs,
            isPending: (key) => this.pending.has(key),
            onDue: (messageId, messageType) => {
              if (!this.done) this.actor.send({ type: 'outgoing.timeout', messageId, messageType });
            },
          })
        : undefined;
    const input: SessionInput = {
      role: options.role,
      deps: { newId: this.newId, now: options.now ?? Date.now },
      versions,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? SESSION_DEFAULTS.handshakeTimeoutMs,
      receptionTimeoutMs: options.receptionTimeoutMs ?? SESSION_DEFAULTS.receptionTimeoutMs,
      closeGraceMs: options.closeGraceMs ?? SESSION_DEFAULTS.closeGraceMs,
      instructionHistory: options.instructionHistory ?? SESSION_DEFAULTS.instructionHistory,
      ...(options.details ? { details: options.details } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.observe ? { observe: true } : {}),
      ...(this.receptionTimer ? { receptionTimer: this.receptionTimer } : {}),
      ...(this.fast ? { fastPaths: true } : {}),
    };
    const machine: SessionMachine = options.role === 'CEM' ? cemSessionMachine : rmSessionMachine;
    this.actor = createActor(machine as typeof cemSessionMachine, {
      input,
      clock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.pending = this.actor.getSnapshot().context.pending;
    this.wire();
  }

  /** Starts the session: sends our Handshake and begins reading frames. Attach listeners before. */
  start(): this {
    this.actor.start();
    this.transport.start({
      text: (frame) => this.onFrame(frame),
      close: (code, reason) => this.actor.send({ type: 'transport.closed', code, reason }),
      error: (err) => this.logger.warn({ kind: 'transport-error', session: this.id, err }, 'transport error'),
    });
    return this;
  }

  /** The session's current state path, e.g. `connected.active.FRBC`. */
  get state(): SessionStatePath {
    return statePath(this.actor.getSnapshot().value) as SessionStatePath;
  }
  private get context(): SessionContext {
    return this.actor.getSnapshot().context;
  }
  /**
   * The negotiated S2 JSON version (one of `S2_VERSIONS`), once the handshake is done; from then on
   * every frame is decoded and encoded with that version's message set, so a message of the other
   * version is refused at the edge (INVALID_MESSAGE received, S2Error INVALID_OUTGOING_MESSAGE sent).
   */
  get version(): S2Version | undefined {
    const v = this.context.version;
    return isS2Version(v) ? v : undefined;
  }
  /** The selected control type (NO_SELECTION until one is active). */
  get controlType(): ControlType {
    return this.context.controlType;
  }
  /** CEM: the RM's latest details. RM: its own. */
  get rmDetails(): ResourceManagerDetails | undefined {
    return this.context.rmDetails;
  }
  /** Messages sent and still waiting for their ReceptionStatus. */
  get pendingCount(): number {
    return this.context.pending.size;
  }
  get isClosed(): boolean {
    return this.done;
  }
  /** The SessionRequest the peer sent, if any (an RM client reconnects at once on RECONNECT). */
  get peerRequest(): SessionRequestType | undefined {
    return this.receivedRequest;
  }

  on<K extends keyof SessionEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Sends a message. `message_id` is filled in when omitted. Resolves with the peer's
   * ReceptionStatus, `TIMEOUT` after the reception timeout, or `CLOSED` if the session ends
   * first. Throws S2Error when the message is invalid (INVALID_OUTGOING_MESSAGE, with every
   * problem's path) or not allowed now (INVALID_STATE), so nothing wrong ever reaches the wire.
   * The throw is synchronous, not a rejected promise: a refusal is a bug in the caller and must
   * not become an unhandled rejection when the result is not awaited; `await session.send(…)`
   * still rejects. (Inside the role helpers' handlers an escaping throw raises `error`.)
   */
  send(outgoing: Outgoing): Promise<SendResult> {
    const message = (outgoing.message_id ? outgoing : { ...outgoing, message_id: this.newId() }) as IdentifiedMessage;
    const problems = this.codec.check(message);
    if (problems.length) {
      throw new S2Error(
        'INVALID_OUTGOING_MESSAGE',
        `refusing to send an invalid ${message.message_type}: ${problems[0]?.path} ${problems[0]?.message}`,
        { problems },
      );
    }
    const why = this.whyNotNow(message);
    if (why) throw new S2Error('INVALID_STATE', why);
    this.checked.add(message);
    const result = new Promise<SendResult>((resolve) => this.waiting.set(message.message_id.toLowerCase(), resolve));
    this.dispatchSend(message);
    return result;
  }

  /**
   * Fast path (bench/RESULTS.md §9.8): `sendInPlace` does what `app.send` would, without a
   * macrostep of the session, when the actor is idle (inside a macrostep the event queues behind
   * it, so it goes to the machine). Messages sent meanwhile (from a `sent` listener) wait their
   * turn, as in the actor's mailbox.
   */
  private dispatchSend(message: IdentifiedMessage): void {
    if (this.sendQueue) {
      this.sendQueue.push(message);
      return;
    }
    if (!this.fast || this.inActor > 0) {
      this.actor.send({ type: 'app.send', message });
      return;
    }
    const queue = (this.sendQueue = [message]);
    try {
      for (let i = 0; i < queue.length && !this.done; i++) {
        const next = queue[i]!;
        if (!sendInPlace(this.context, this.actor, next, this.putMessage)) this.actor.send({ type: 'app.send', message: next });
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.sendQueue = undefined;
    }
  }

  private readonly putMessage = (message: S2Message): void => this.put(message);

  /** Why this message may not be sent now, or undefined (one permission table for both directions). */
  whyNotNow(message: IdentifiedMessage): string | undefined {
    if (this.options.observe) return 'an observing session sends nothing of its own: give what its side sent to observeSent';
    return this.refusalToSend(message, false);
  }

  /**
   * Observe mode (the checking proxy's shadows): the real side of this session's role sent `text`.
   * It is decoded with the session's codec and checked against the same permissions as `send`
   * ({@link S2Session.whyNotNow}); when it may be sent now it is applied as `send` applies a message
   * (its ReceptionStatus wait and timeout, instruction ids, what the control type learns, the
   * selection, and Handshake / HandshakeResponse / ResourceManagerDetails / SessionRequest effects),
   * without putting anything on the wire. Returns undefined when applied, the reason it may not be
   * sent now (it names rule ids), or the codec's problems when it does not decode. `onAnswer`
   * receives what `send` would resolve with: the peer's ReceptionStatus, TIMEOUT or CLOSED.
   */
  observeSent(text: string, onAnswer?: (result: SendResult) => void): string | DecodeFailure | undefined {
    if (!this.options.observe) throw new S2Error('INVALID_STATE', 'observeSent is for sessions with the observe option');
    const result = this.codec.decode(text);
    if (!result.ok) return result.error;
    if (result.message.message_type === 'ReceptionStatus') return 'a ReceptionStatus is an answer, not a message to observe (R11)';
    const message = result.message;
    const why = this.refusalToSend(message, true);
    if (why) return why;
    if (onAnswer) this.waiting.set(message.message_id.toLowerCase(), onAnswer);
    this.actor.send({ type: 'observed.send', message });
    return undefined;
  }

  /** Observe mode generates no message of its own (select, updateDetails, request). */
  private ownMessagesAllowed(): void {
    if (this.options.observe) throw new S2Error('INVALID_STATE', 'an observing session sends nothing of its own (observe mode)');
  }

  /** The one permission check of both `send` (whyNotNow) and `observeSent` (observing: the real side's own Handshake and HandshakeResponse too). */
  private refusalToSend(message: IdentifiedMessage, observing: boolean): string | undefined {
    if (this.done) return 'the session is closed';
    const spec = messageSpec(message.message_type);
    if (!spec) return `unknown message_type ${message.message_type}`;
    const ctx = this.context;
    if (message.message_type === 'Handshake' || message.message_type === 'HandshakeResponse') {
      if (!observing) return `${message.message_type} is sent by the session itself`;
      return refusal(this.role, spec, message.message_type, ctx) ?? handshakeRefusal(this.role, message, ctx);
    }
    // R22: an observed side opens with its Handshake (a SessionRequest may still end the session first, Q22).
    if (observing && !ctx.ownHandshake && message.message_type !== 'SessionRequest')
      return `${message.message_type} before the ${this.role}'s own Handshake (R22)`;
    const why = refusal(this.role, spec, message.message_type, ctx);
    if (why) return why;
    if (message.message_type === 'SelectControlType' && !ctx.rmDetails) return 'SelectControlType before the RM details arrived (R34)';
    const instructionId = instructionIdOf(message);
    if (instructionId && ctx.instructionIds.has(instructionId))
      return `instruction id ${instructionId} was already used in this session (R42)`;
    const ct = this.controlTypeContext();
    const rules = ctx.activeArea && ctx.activeArea !== 'common' ? CONTROL_TYPE_RULES[ctx.activeArea] : undefined;
    if (ct && rules && ctx.activeArea && concernsControlType(message, ctx.activeArea)) {
      const why = controlTypeRefusal(rules, ct, message, this.role);
      if (why) return why;
      if (message.message_type === 'InstructionStatusUpdate') {
        return statusTransitionRefusal(ct.instructions.get(message.instruction_id.toLowerCase())?.status, message.status_type);
      }
    }
    return undefined;
  }

  /** The codec of one version, with this session's options (compiled once per process and option set). */
  private codecOf(version: string | undefined): Codec {
    return codecFor({ ...this.codecOptions, ...(isS2Version(version) ? { version } : {}) });
  }

  /** The active control type's knowledge and instructions, when it has an activation actor. */
  private controlTypeContext(): ControlTypeContext | undefined {
    const child = this.actor.getSnapshot().children['controlType' as never] as
      { getSnapshot(): { context: ControlTypeContext } } | undefined;
    return child?.getSnapshot().context;
  }

  /**
   * The last status the RM reported for an instruction of the active control type (undefined: none
   * yet, unknown, or finished longer ago than the `instructionHistory` latest).
   */
  instructionStatus(instructionId: string): InstructionStatus | undefined {
    return this.controlTypeContext()?.instructions.get(instructionId.toLowerCase())?.status;
  }

  /** CEM: select a control type now (it takes effect when the RM answers OK, R41). */
  select(controlType: ControlType): void {
    this.ownMessagesAllowed();
    if (this.role !== 'CEM') throw new S2Error('INVALID_STATE', 'only the CEM selects a control type');
    const details = this.context.rmDetails;
    if (!details) throw new S2Error('INVALID_STATE', 'SelectControlType before the RM details arrived (R34)');
    if (controlType !== 'NO_SELECTION' && !details.available_control_types.includes(controlType)) {
      throw new S2Error(
        'INVALID_STATE',
        `control type ${controlType} was not offered by the RM (offered: ${details.available_control_types.join(', ')}) (R34)`,
      );
    }
    this.actor.send({ type: 'app.select', controlType });
  }

  /** RM: announce changed details (docs/rules.md#control-types). */
  updateDetails(details: RmDetailsInput): void {
    this.ownMessagesAllowed();
    if (this.role !== 'RM') throw new S2Error('INVALID_STATE', 'only the RM has details');
    this.actor.send({ type: 'app.updateDetails', details });
  }

  /**
   * Adds a message handler after the ones already there (the `onMessage` option is the first).
   * Handlers run in order for every accepted message; the first that returns a status (or a
   * promise) decides the ReceptionStatus. A throw answers TEMPORARY_ERROR and raises the `error`
   * event; the session goes on (see {@link MessageHandler}).
   */
  use(handler: MessageHandler): this {
    this.handlers.push(handler);
    return this;
  }

  /** The session's clock (the injected `now`, or the system clock). */
  now(): Date {
    return new Date(this.options.now ? this.options.now() : Date.now());
  }

  /** Reports something non-fatal to the 'report' listeners and the logger (used by the role helpers). */
  report(kind: ReportKind, detail: string): void {
    // A rejection is the RM application's own decision, not a fault: information, not a warning.
    if (kind === 'instruction-rejected') this.logger.info({ kind, session: this.id }, detail);
    else this.logger.warn({ kind, session: this.id }, detail);
    this.emitEvent('report', { kind, detail });
  }

  /**
   * Raises a failure of the application's own code (`source` names it, e.g. `FRBC activate`): the
   * `error` event, a `handler-error` report and a logger error. The session goes on. The role
   * helpers call it for every handler that throws; an application may call it for its own faults.
   */
  reportError(source: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err), { cause: err });
    const detail = `${source} failed: ${error.message}`;
    this.logger.error({ kind: 'handler-error', session: this.id, source, err: error }, `${source} failed`);
    this.raising++;
    try {
      this.emitEvent('report', { kind: 'handler-error', detail });
      this.emitEvent('error', { error, source });
    } finally {
      this.raising--;
    }
  }

  /** Asks the peer to reconnect or terminate (SessionRequest), then closes (Q11). */
  request(request: SessionRequestType, reason?: string): void {
    this.ownMessagesAllowed();
    this.actor.send(reason === undefined ? { type: 'app.sessionRequest', request } : { type: 'app.sessionRequest', request, reason });
  }

  /** Closes without a SessionRequest. */
  close(code: number = CloseCode.NORMAL, reason = 'closed by the application'): Promise<{ code: number; reason: string }> {
    if (!this.done) this.actor.send({ type: 'app.close', code, reason });
    return this.closed;
  }

  private emitEvent<K extends keyof SessionEvents>(event: K, payload: SessionEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of set) {
      try {
        (l as Listener<K>)(payload);
      } catch (err) {
        // A listener is application code: its failure is raised like a handler's, except while an
        // error is being raised (a failing 'report' or 'error' listener would only loop): logged.
        if (this.raising > 0) this.logger.error({ kind: 'handler-error', session: this.id, err }, `'${event}' listener threw`);
        else this.reportError(`'${event}' listener`, err);
      }
    }
  }

  private onFrame(frame: string): void {
    if (this.done) return;
    const result = this.codec.decode(frame);
    this.emitEvent('received', { frame, message: result.ok ? result.message : undefined });
    if (result.ok) {
      if (this.fast && result.message.message_type === 'ReceptionStatus' && this.settleAtOnce(result.message)) return;
      this.actor.send({ type: `s2.${result.message.message_type}`, message: result.message, spec: result.spec });
    } else {
      this.actor.send({ type: 'frame.invalid', error: result.error });
    }
  }

  /**
   * Fast path (bench/RESULTS.md §5.2): a ReceptionStatus whose answer the statecharts do not read
   * (not PERMANENT_ERROR, R18; not for a message in ANSWER_READ_BY_MACHINE, e.g. SelectControlType,
   * R41) takes the last branch of `outgoing.answered` in every state: forget it, report it
   * answered. Done here, with the same `answered` handling, without a macrostep. Anything else —
   * unknown subjects (R12) included — goes to the machine. R14: it reaches its message at once.
   */
  private settleAtOnce(status: MessageOf<'ReceptionStatus'>): boolean {
    const key = status.subject_message_id.toLowerCase();
    const messageType = this.pending.get(key);
    if (messageType === undefined || status.status === 'PERMANENT_ERROR' || ANSWER_READ_BY_MACHINE.has(messageType)) return false;
    this.pending.delete(key);
    this.receptionTimer?.trim();
    try {
      this.onEmitted({
        type: 'answered',
        messageId: status.subject_message_id,
        messageType,
        status: status.status,
        diagnosticLabel: status.diagnostic_label,
      });
    } catch (err) {
      this.fail(err);
    }
    return true;
  }

  /** `valid`: built here from validated parts, so not validated again. */
  private put(message: S2Message, valid = false): void {
    // Application messages were validated in send(); the engine's own are validated here.
    const text = valid || this.checked.delete(message) ? JSON.stringify(message) : this.codec.encode(message);
    this.transport.send(text);
    this.emitEvent('sent', { message });
  }

  /** The answer to a delivered message: its id was read by the codec, the status is one of HANDLER_STATUSES, the label ours. */
  private reply(subject: string, status: HandlerStatus, label?: string): void {
    this.put(
      label === undefined
        ? { message_type: 'ReceptionStatus', subject_message_id: subject, status }
        : { message_type: 'ReceptionStatus', subject_message_id: subject, status, diagnostic_label: label },
      true,
    );
  }

  private deliver(message: IdentifiedMessage): void {
    if (message.message_type === 'SessionRequest') this.receivedRequest = message.request;
    this.emitEvent('message', { message });
    let result: ReturnType<MessageHandler> = undefined;
    try {
      // The first handler that returns something decides the ReceptionStatus.
      for (const handler of this.handlers) {
        result = handler(message, this);
        if (result !== undefined) break;
      }
    } catch (err) {
      this.handlerFailed(message, err);
      return;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<HandlerStatus | void>).then(
        (status) => this.answer(message, status),
        (err: unknown) => this.handlerFailed(message, err),
      );
    } else {
      this.answer(message, result as HandlerStatus | undefined);
    }
  }

  /** Answers a delivered message with its handler's status; PERMANENT_ERROR then closes (R18). */
  private answer(message: IdentifiedMessage, status: HandlerStatus | void | undefined): void {
    if (this.done) return;
    if (status !== undefined && !HANDLER_STATUSES.has(status)) {
      this.handlerFailed(
        message,
        new S2Error(
          'INVALID_STATE',
          `the handler returned ${JSON.stringify(status)}; expected 'OK', 'TEMPORARY_ERROR', 'PERMANENT_ERROR' or nothing`,
        ),
      );
      return;
    }
    this.reply(message.message_id, status ?? 'OK');
    if (status === 'PERMANENT_ERROR') {
      // R18: the side that sends PERMANENT_ERROR ends the session too, not only its peer.
      this.actor.send({
        type: 'app.close',
        code: CloseCode.PERMANENT_ERROR,
        reason: `answered PERMANENT_ERROR to ${message.message_type} (R18)`,
      });
    }
  }

  /**
   * Our handler failed on a valid message: the fault is ours, so the peer gets TEMPORARY_ERROR
   * ("the receiver could not process it now", R15), never a status that blames its message or
   * ends the session. The exception stays local: the label says nothing about our code.
   */
  private handlerFailed(message: IdentifiedMessage, err: unknown): void {
    if (!this.done) this.reply(message.message_id, 'TEMPORARY_ERROR', 'the receiving application failed to process this message');
    this.reportError(`handler for ${message.message_type}`, err);
  }

  private settle(id: string, result: SendResult): void {
    const key = id.toLowerCase();
    const resolve = this.waiting.get(key);
    if (resolve) {
      this.waiting.delete(key);
      resolve(result);
    }
  }

  private onEmitted(e: SessionEmitted): void {
    switch (e.type) {
      case 'send':
        this.put(e.message);
        break;
      case 'deliver':
        this.deliver(e.message);
        break;
      case 'refused':
        this.emitEvent('refused', { message: e.message, status: e.status, reason: e.reason });
        break;
      case 'answered':
        if (e.status !== 'OK') {
          // The peer refused one of our messages: a bug on one side or the other, worth seeing.
          this.logger.warn(
            { kind: 'send-refused', session: this.id, ...(e.diagnosticLabel ? { label: e.diagnosticLabel } : {}) },
            `the peer answered ${e.status} to our ${e.messageType} ${e.messageId}`,
          );
        }
        this.settle(
          e.messageId,
          e.diagnosticLabel === undefined
            ? { messageId: e.messageId, status: e.status }
            : { messageId: e.messageId, status: e.status, diagnosticLabel: e.diagnosticLabel },
        );
        break;
      case 'timeout':
        this.settle(e.messageId, { messageId: e.messageId, status: 'TIMEOUT' });
        break;
      case 'report':
        this.logger.warn({ session: this.id, kind: e.kind }, e.detail);
        this.emitEvent('report', { kind: e.kind, detail: e.detail });
        break;
      case 'handshake':
        // The version is settled: every later frame is read and written with its message set.
        this.codec = this.codecOf(e.version);
        this.emitEvent('handshake', { version: e.version });
        break;
      case 'details':
        this.emitEvent('details', { details: e.details });
        break;
      case 'controlType':
        this.emitEvent('controlType', { controlType: e.controlType });
        break;
      case 'notice':
        this.emitEvent('notice', e.notice);
        break;
      case 'close':
        this.transport.close(e.code, e.reason);
        break;
    }
  }

  private wire(): void {
    // One listener for every emitted event (onEmitted dispatches): a listener per type cost a Set
    // and a bound function each, ~3 KiB per session (bench/RESULTS.md §5.6).
    this.actor.on('*', (e) => {
      this.inActor++;
      try {
        this.onEmitted(e);
      } catch (err) {
        this.fail(err);
      } finally {
        this.inActor--;
      }
    });
    this.actor.subscribe({
      next: (snapshot) => {
        this.inActor++;
        try {
          const path = statePath(snapshot.value) as SessionStatePath;
          if (path !== this.lastState) {
            this.lastState = path;
            this.emitEvent('state', { state: path });
          }
          if (snapshot.status === 'done') this.finish();
        } finally {
          this.inActor--;
        }
      },
      // The root error subscriber: an exception inside the session ends this session only.
      error: (err) => this.fail(err),
    });
  }

  private fail(err: unknown): void {
    this.logger.error({ kind: 'internal-error', session: this.id, err }, 'session failed');
    this.emitEvent('report', { kind: 'internal-error', detail: err instanceof Error ? err.message : String(err) });
    this.transport.close(CloseCode.INTERNAL_ERROR, 'internal error');
    if (!this.done) this.finish(CloseCode.INTERNAL_ERROR, 'internal error');
  }

  private finish(code?: number, reason?: string): void {
    if (this.done) return;
    this.done = true;
    const ctx = this.actor.getSnapshot().context;
    const close = { code: code ?? ctx.closeCode ?? CloseCode.ABNORMAL, reason: reason ?? ctx.closeReason ?? '' };
    for (const [id, resolve] of this.waiting) resolve({ messageId: id, status: 'CLOSED' });
    this.waiting.clear();
    this.receptionTimer?.stop();
    if (this.transport.isOpen) this.transport.close(close.code, close.reason);
    this.actor.stop();
    this.emitEvent('close', close);
    this.resolveClosed(close);
  }
}

/** Runs a session of either role over any transport (in-memory, WebSocket, or your own). */
export function connectSession(transport: Transport, options: SessionOptions): S2Session {
  return new S2Session(transport, options).start();
}
