import { createActor, type Actor, type ActorOptions, type InspectionEvent } from 'xstate';
import { codecFor, type CodecOptions } from '../codec/index.js';
import { cemSessionMachine } from '../machines/cem-session.js';
import { CloseCode } from '../machines/close-codes.js';
import type { Role, SessionEmitted } from '../machines/events.js';
import { refusal } from '../machines/permissions.js';
import { controlTypeRefusal, type ControlTypeContext, type ControlTypeNotice } from '../machines/control-type.js';
import { CONTROL_TYPE_RULES } from '../machines/control-types.js';
import { statusTransitionRefusal } from '../rules/instruction-status.js';
import { rmSessionMachine } from '../machines/rm-session.js';
import { S2_VERSION, concernsControlType, instructionIdOf, type ControlTypePolicy, type RmDetailsInput, type SessionContext, type SessionInput } from '../machines/session-setup.js';
import type { ControlType, InstructionStatus, ReceptionStatusValues, SessionRequestType } from '../typebox/common/enums.js';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import { S2Error } from '../typebox/errors.js';
import { messageSpec, type IdentifiedMessage, type S2Message } from '../typebox/registry.js';
import type { Transport } from '../transport/transport.js';
import { newUuid } from './ids.js';
import { silentLogger, type Logger } from './logger.js';

/** Documented defaults of a session's limits. */
export const SESSION_DEFAULTS = {
  /** Time from connection to a finished handshake. */
  handshakeTimeoutMs: 30_000,
  /** Time a sent message waits for its ReceptionStatus; 5 s matches the reference Python RM (Q5). */
  receptionTimeoutMs: 5_000,
  /** Time the peer gets to close after our SessionRequest, and the transport to confirm a close. */
  closeGraceMs: 2_000,
} as const;

/** What `send` resolves with: the peer's ReceptionStatus, or why there is none. */
export interface SendResult {
  readonly messageId: string;
  readonly status: ReceptionStatusValues | 'TIMEOUT' | 'CLOSED';
  readonly diagnosticLabel?: string;
}

/** A status from a handler: the ReceptionStatus to answer with (default OK). */
export type HandlerStatus = 'OK' | 'TEMPORARY_ERROR' | 'PERMANENT_ERROR';

/** Called for every message that passed all protocol checks; its result becomes the ReceptionStatus. */
export type MessageHandler = (message: IdentifiedMessage, session: S2Session) => HandlerStatus | void | Promise<HandlerStatus | void>;

export interface SessionOptions extends CodecOptions {
  readonly role: Role;
  /** Protocol versions offered, most preferred first. Default ['0.0.2-beta']. */
  readonly versions?: readonly string[];
  readonly handshakeTimeoutMs?: number;
  readonly receptionTimeoutMs?: number;
  readonly closeGraceMs?: number;
  /** RM: the details announced after the handshake (message_id is filled in). */
  readonly details?: RmDetailsInput;
  /** CEM: which control type to select from the RM's offer. */
  readonly policy?: ControlTypePolicy;
  readonly onMessage?: MessageHandler;
  readonly logger?: Logger;
  /** XState clock for every timer of the session (tests inject `SimulatedClock`). */
  readonly clock?: NonNullable<ActorOptions<typeof cemSessionMachine>['clock']>;
  /** Wall-clock milliseconds; give `() => clock.now()` together with a SimulatedClock. Default Date.now. */
  readonly now?: () => number;
  /** Id generator; default lowercase UUID v4. */
  readonly newId?: () => string;
  /**
   * XState inspection hook (XState v5's inspection API): receives every actor, event, snapshot
   * and microstep of this session's actors (session, control type, instructions). Off by
   * default; it observes only and never changes protocol behaviour.
   */
  readonly inspect?: (event: InspectionEvent) => void;
  /** A name for logs and traces; default a fresh UUID. */
  readonly sessionId?: string;
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
  state: { state: string };
  /** From the active control type: an instruction arrived (RM), a status changed, an instruction is due (RM) or revoked (RM). */
  notice: ControlTypeNotice;
  report: { kind: string; detail: string };
  close: { code: number; reason: string };
}

type Listener<K extends keyof SessionEvents> = (event: SessionEvents[K]) => void;
type SessionMachine = typeof cemSessionMachine | typeof rmSessionMachine;

/** A message to send: `message_id` may be left out and is then filled in. */
export type Outgoing<M extends IdentifiedMessage = IdentifiedMessage> = M extends IdentifiedMessage
  ? Omit<M, 'message_id'> & { message_id?: string }
  : never;

/** The dotted path of a snapshot value: `connected.active.FRBC`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key, sub] = Object.entries(value)[0] ?? [];
    if (key === undefined) return '';
    const rest = statePath(sub);
    return rest ? `${key}.${rest}` : key;
  }
  return '';
}

/**
 * One S2 session over one transport: wires the session statechart to the codec, the transport
 * and the application. Every received frame gets exactly one ReceptionStatus (R11, R12): the
 * statechart answers refusals itself, and accepted messages are answered here with the
 * handler's status. A handler that throws answers PERMANENT_ERROR and closes (R18).
 */
export class S2Session {
  readonly id: string;
  readonly role: Role;
  readonly peer: string;
  /** Resolves when the session is over, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private readonly actor: Actor<SessionMachine>;
  private readonly codec;
  private readonly logger: Logger;
  private readonly newId: () => string;
  private readonly listeners = new Map<keyof SessionEvents, Set<Listener<never>>>();
  private readonly waiting = new Map<string, (result: SendResult) => void>();
  private lastState = '';
  private readonly handlers: MessageHandler[] = [];
  /** Messages send() has validated, so put() does not validate them again. */
  private readonly checked = new WeakSet<object>();
  private receivedRequest: SessionRequestType | undefined;
  private done = false;
  private resolveClosed!: (v: { code: number; reason: string }) => void;

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions,
  ) {
    this.id = options.sessionId ?? newUuid();
    this.role = options.role;
    this.peer = transport.peer;
    this.logger = options.logger ?? silentLogger;
    this.newId = options.newId ?? newUuid;
    this.codec = codecFor({ ...(options.ids ? { ids: options.ids } : {}), ...(options.rules === undefined ? {} : { rules: options.rules }) });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    if (options.onMessage) this.handlers.push(options.onMessage);
    const input: SessionInput = {
      role: options.role,
      deps: { newId: this.newId, now: options.now ?? Date.now },
      versions: options.versions ?? [S2_VERSION],
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? SESSION_DEFAULTS.handshakeTimeoutMs,
      receptionTimeoutMs: options.receptionTimeoutMs ?? SESSION_DEFAULTS.receptionTimeoutMs,
      closeGraceMs: options.closeGraceMs ?? SESSION_DEFAULTS.closeGraceMs,
      ...(options.details ? { details: options.details } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    };
    const machine: SessionMachine = options.role === 'CEM' ? cemSessionMachine : rmSessionMachine;
    this.actor = createActor(machine as typeof cemSessionMachine, {
      input,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.wire();
  }

  /** Starts the session: sends our Handshake and begins reading frames. Attach listeners before. */
  start(): this {
    this.actor.start();
    this.transport.start({
      text: (frame) => this.onFrame(frame),
      close: (code, reason) => this.actor.send({ type: 'transport.closed', code, reason }),
      error: (err) => this.logger.warn({ session: this.id, err }, 'transport error'),
    });
    return this;
  }

  /** The session's current state path, e.g. `connected.active.FRBC`. */
  get state(): string {
    return statePath(this.actor.getSnapshot().value);
  }
  private get context(): SessionContext {
    return this.actor.getSnapshot().context;
  }
  /** The negotiated protocol version, once the handshake is done. */
  get version(): string | undefined {
    return this.context.version;
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
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Sends a message. `message_id` is filled in when omitted. Resolves with the peer's
   * ReceptionStatus, `TIMEOUT` after the reception timeout, or `CLOSED` if the session ends
   * first. Throws S2Error when the message is invalid (INVALID_OUTGOING_MESSAGE) or not
   * allowed now (INVALID_STATE), so nothing wrong ever reaches the wire.
   */
  send(outgoing: Outgoing): Promise<SendResult> {
    const message = (outgoing.message_id ? outgoing : { ...outgoing, message_id: this.newId() }) as IdentifiedMessage;
    const problems = this.codec.check(message);
    if (problems.length) {
      throw new S2Error('INVALID_OUTGOING_MESSAGE', `refusing to send an invalid ${message.message_type}: ${problems[0]?.path} ${problems[0]?.message}`, { problems });
    }
    const why = this.whyNotNow(message);
    if (why) throw new S2Error('INVALID_STATE', why);
    this.checked.add(message);
    const result = new Promise<SendResult>((resolve) => this.waiting.set(message.message_id.toLowerCase(), resolve));
    this.actor.send({ type: 'app.send', message });
    return result;
  }

  /** Why this message may not be sent now, or undefined (one permission table for both directions). */
  whyNotNow(message: IdentifiedMessage): string | undefined {
    if (this.done) return 'the session is closed';
    const spec = messageSpec(message.message_type);
    if (!spec) return `unknown message_type ${message.message_type}`;
    if (message.message_type === 'Handshake' || message.message_type === 'HandshakeResponse') {
      return `${message.message_type} is sent by the session itself`;
    }
    const ctx = this.context;
    const why = refusal(this.role, spec, message.message_type, ctx);
    if (why) return why;
    if (message.message_type === 'SelectControlType' && !ctx.rmDetails) return 'SelectControlType before the RM details arrived (R34)';
    const instructionId = instructionIdOf(message);
    if (instructionId && ctx.instructionIds.has(instructionId)) return `instruction id ${instructionId} was already used in this session (R42)`;
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

  /** The active control type's knowledge and instructions, when it has an activation actor. */
  private controlTypeContext(): ControlTypeContext | undefined {
    const child = this.actor.getSnapshot().children['controlType' as never] as { getSnapshot(): { context: ControlTypeContext } } | undefined;
    return child?.getSnapshot().context;
  }

  /** The last status the RM reported for an instruction of the active control type (undefined: none yet or unknown). */
  instructionStatus(instructionId: string): InstructionStatus | undefined {
    return this.controlTypeContext()?.instructions.get(instructionId.toLowerCase())?.status;
  }

  /** CEM: select a control type now (it takes effect when the RM answers OK, R41). */
  select(controlType: ControlType): void {
    if (this.role !== 'CEM') throw new S2Error('INVALID_STATE', 'only the CEM selects a control type');
    const details = this.context.rmDetails;
    if (!details) throw new S2Error('INVALID_STATE', 'SelectControlType before the RM details arrived (R34)');
    if (controlType !== 'NO_SELECTION' && !details.available_control_types.includes(controlType)) {
      throw new S2Error('INVALID_STATE', `control type ${controlType} was not offered by the RM (offered: ${details.available_control_types.join(', ')}) (R34)`);
    }
    this.actor.send({ type: 'app.select', controlType });
  }

  /** RM: announce changed details (§2.4). */
  updateDetails(details: RmDetailsInput): void {
    if (this.role !== 'RM') throw new S2Error('INVALID_STATE', 'only the RM has details');
    this.actor.send({ type: 'app.updateDetails', details });
  }

  /**
   * Adds a message handler after the ones already there (the `onMessage` option is the first).
   * Handlers run in order for every accepted message; the first that returns a status (or a
   * promise) decides the ReceptionStatus, a throw answers PERMANENT_ERROR and closes (R18).
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
  report(kind: string, detail: string): void {
    this.logger.warn({ session: this.id, kind }, detail);
    this.emitEvent('report', { kind, detail });
  }

  /** Asks the peer to reconnect or terminate (SessionRequest), then closes (Q11). */
  request(request: SessionRequestType, reason?: string): void {
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
        this.logger.error({ session: this.id, err, event }, 'session listener threw');
      }
    }
  }

  private onFrame(frame: string): void {
    if (this.done) return;
    const result = this.codec.decode(frame);
    this.emitEvent('received', { frame, message: result.ok ? result.message : undefined });
    if (result.ok) {
      this.actor.send({ type: `s2.${result.message.message_type}`, message: result.message, spec: result.spec });
    } else {
      this.actor.send({ type: 'frame.invalid', error: result.error });
    }
  }

  private put(message: S2Message): void {
    // Application messages were validated in send(); the engine's own are validated here.
    const text = this.checked.delete(message) ? JSON.stringify(message) : this.codec.encode(message);
    this.transport.send(text);
    this.emitEvent('sent', { message });
  }

  private reply(subject: string, status: ReceptionStatusValues, label?: string): void {
    this.put(label === undefined
      ? { message_type: 'ReceptionStatus', subject_message_id: subject, status }
      : { message_type: 'ReceptionStatus', subject_message_id: subject, status, diagnostic_label: label });
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
        (status) => this.done || this.reply(message.message_id, status ?? 'OK'),
        (err: unknown) => this.handlerFailed(message, err),
      );
    } else {
      this.reply(message.message_id, (result as HandlerStatus | undefined) ?? 'OK');
    }
  }

  private handlerFailed(message: IdentifiedMessage, err: unknown): void {
    this.logger.error({ session: this.id, err, message_type: message.message_type }, 'message handler threw');
    if (this.done) return;
    const reason = `handler for ${message.message_type} failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
    this.reply(message.message_id, 'PERMANENT_ERROR', reason);
    this.actor.send({ type: 'app.failed', reason });
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
        this.settle(e.messageId, e.diagnosticLabel === undefined ? { messageId: e.messageId, status: e.status } : { messageId: e.messageId, status: e.status, diagnosticLabel: e.diagnosticLabel });
        break;
      case 'timeout':
        this.settle(e.messageId, { messageId: e.messageId, status: 'TIMEOUT' });
        break;
      case 'report':
        this.logger.warn({ session: this.id, kind: e.kind }, e.detail);
        this.emitEvent('report', { kind: e.kind, detail: e.detail });
        break;
      case 'handshake':
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
      try {
        this.onEmitted(e as SessionEmitted);
      } catch (err) {
        this.fail(err);
      }
    });
    this.actor.subscribe({
      next: (snapshot) => {
        const path = statePath(snapshot.value);
        if (path !== this.lastState) {
          this.lastState = path;
          this.emitEvent('state', { state: path });
        }
        if (snapshot.status === 'done') this.finish();
      },
      // The root error subscriber: an exception inside the session ends this session only.
      error: (err) => this.fail(err),
    });
  }

  private fail(err: unknown): void {
    this.logger.error({ session: this.id, err }, 'session failed');
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
