import type { DecodeFailure } from '../codec/codec.js';
import { cemSessionMachine } from '../machines/cem-session.js';
import { rmSessionMachine } from '../machines/rm-session.js';
import type { S2Session } from '../roles/session.js';
import { FINAL_STATUSES } from '../rules/instruction-status.js';
import type { InstructionStatus } from '../typebox/common/enums.js';
import { messageSpec, type S2Message } from '../typebox/registry.js';
import { actorView, actorViewFromPath } from './charts.js';
import type { InspectorOp, InstructionView, MessageEntry, ProblemView, SessionHeader, StateStep, ViewLimits } from './model.js';
import { clip, redact, showFrame, showMessage, summarize, type Sanitizer, type Shown } from './sanitize.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the inspection hook passes for one actor's snapshot (the parts we read). */
export interface SnapshotLike {
  readonly status: string;
  readonly value?: unknown;
  readonly context?: unknown;
}

const NIL_ID = '00000000-0000-0000-0000-000000000000';
const MAX_HISTORY = 40;
const MAX_REPORTS = 20;
const MAX_REASON_CHARS = 300;
const SESSION_MACHINE = { CEM: cemSessionMachine.id, RM: rmSessionMachine.id } as const;

const text = (s: string, max = MAX_REASON_CHARS) => redact(clip(s, max));
/** A message id as shown and as the pairing key: lowercase (R4), clipped, never a token. */
const idKey = (id: string) => redact(clip(id.toLowerCase(), 100));
const isFinal = (status: string | undefined) =>
  status === 'VOID' || (status !== undefined && FINAL_STATUSES.has(status as InstructionStatus));

/** The raw frame's message_id, for pairing with our ReceptionStatus; undefined when it has none readable. */
function rawMessageId(frame: string): string | undefined {
  if (frame.length > 1_000_000) return undefined;
  try {
    const parsed: unknown = JSON.parse(frame);
    const id = parsed && typeof parsed === 'object' ? (parsed as { message_id?: unknown }).message_id : undefined;
    return typeof id === 'string' ? idKey(id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Everything the inspector knows of one session, from its S2Session events (messages, state,
 * close) and, when the `inspect` hook is installed, from its actors (session, control type,
 * instructions). Changes are collected and handed out as ops by {@link drain}.
 */
export class SessionTracker {
  private readonly header: Mutable<SessionHeader>;
  private headerDirty = true;
  private seq = 0;
  private readonly entries = new Map<number, Mutable<MessageEntry>>();
  private readonly dirtyEntries = new Set<Mutable<MessageEntry>>();
  /** Sent / received entries by lowercase message_id, for the ReceptionStatus pairing (R12, R13). */
  private readonly sentById = new Map<string, Mutable<MessageEntry>>();
  private readonly receivedById = new Map<string, Mutable<MessageEntry>>();
  /** The latest frame that did not decode: the refusal and the codec's problems that follow belong to it. */
  private lastInvalid: Mutable<MessageEntry> | undefined;
  private readonly instructions = new Map<string, Mutable<InstructionView>>();
  private readonly dirtyInstructions = new Set<Mutable<InstructionView>>();
  private rootSnapshot: SnapshotLike | undefined;
  private readonly history: StateStep[] = [];
  private readonly reports: { at: string; kind: string; detail: string }[] = [];

  private published = false;

  constructor(
    private keyValue: string,
    role: string,
    private readonly options: { readonly sanitize: Sanitizer | undefined; readonly limits: ViewLimits; readonly changed: () => void },
  ) {
    const machine = role === 'RM' ? SESSION_MACHINE.RM : SESSION_MACHINE.CEM;
    this.header = {
      key: keyValue,
      sessionId: undefined,
      role,
      peer: undefined,
      name: undefined,
      version: undefined,
      controlType: undefined,
      startedAt: new Date().toISOString(),
      session: actorViewFromPath(machine, '', 'active'),
      controlTypeActor: undefined,
      history: [],
      reports: [],
      counts: { sent: 0, received: 0, refused: 0 },
      closed: undefined,
      attached: false,
      inspected: false,
    };
  }

  get key(): string {
    return this.keyValue;
  }

  /**
   * A session first seen as an actor gets its S2Session's id once attached. Returns the old key
   * when pages already know the session by it (they must drop it); everything is sent again.
   */
  rekey(key: string): string | undefined {
    const old = this.keyValue;
    this.keyValue = key;
    this.header.key = key;
    this.touch();
    if (!this.published) return undefined;
    this.published = false;
    for (const entry of this.entries.values()) this.dirtyEntries.add(entry);
    for (const record of this.instructions.values()) this.dirtyInstructions.add(record);
    return old;
  }

  get isClosed(): boolean {
    return this.header.closed !== undefined;
  }

  /** Follows an S2Session's events; returns the function that stops following. */
  follow(session: S2Session): () => void {
    this.header.sessionId = session.id;
    this.header.peer = session.peer;
    this.header.attached = true;
    if (!this.rootSnapshot) this.stateChanged(session.state);
    this.touch();
    const offs = [
      session.on('sent', ({ message }) => this.sent(message)),
      session.on('received', ({ frame, message }) => this.received(frame, message)),
      session.on('refused', ({ message, status, reason }) => this.refused(message, status, reason)),
      session.on('state', ({ state }) => this.stateChanged(state)),
      session.on('handshake', ({ version }) => this.set({ version })),
      session.on('controlType', ({ controlType }) => this.controlTypeChanged(controlType)),
      session.on('notice', (n) => n.kind === 'status' && this.instructionStatus(n.instructionId, n.status)),
      session.on('report', ({ kind, detail }) => this.report(kind, detail)),
      session.on('close', ({ code, reason }) => this.closed(code, reason)),
    ];
    return () => offs.forEach((off) => off());
  }

  // ---- from the session's events ----

  private sent(message: S2Message): void {
    const { entry, shown } = this.add('sent', message);
    this.header.counts = { ...this.header.counts, sent: this.header.counts.sent + 1 };
    if (message.message_type === 'ReceptionStatus') this.pair(entry, this.receivedById, message.subject_message_id, message.status, shown);
    else this.sentById.set(idKey(message.message_id), entry);
  }

  private received(frame: string, message: S2Message | undefined): void {
    this.header.counts = { ...this.header.counts, received: this.header.counts.received + 1 };
    if (!message) {
      const shown = showFrame(frame, this.options.sanitize);
      const id = rawMessageId(frame);
      const entry = this.push({
        dir: 'received',
        type: '(invalid frame)',
        messageId: id,
        summary: `invalid frame${shown.message ? `: ${summarize(shown.message, 'not an S2 message')}` : ` (${frame.length} characters)`}`,
        body: shown.body,
        invalid: true,
      });
      this.receivedById.set(id ?? NIL_ID, entry);
      this.lastInvalid = entry;
      return;
    }
    const { entry, shown } = this.add('received', message);
    if (message.message_type === 'ReceptionStatus') this.pair(entry, this.sentById, message.subject_message_id, message.status, shown);
    else this.receivedById.set(idKey(message.message_id), entry);
  }

  private refused(message: S2Message | undefined, status: string, reason: string): void {
    this.header.counts = { ...this.header.counts, refused: this.header.counts.refused + 1 };
    const entry = message && 'message_id' in message ? this.receivedById.get(idKey(message.message_id)) : this.lastInvalid;
    if (!entry) return;
    entry.refused = entry.refused?.problems
      ? { status, reason: text(reason), problems: entry.refused.problems }
      : { status, reason: text(reason) };
    this.dirtyEntries.add(entry);
    // A refused instruction never gets a status (R16, R49) — unless the refusal was of a reused
    // id (R42): then the record belongs to the earlier instruction, which goes on.
    if (message && messageSpec(message.message_type)?.instruction) {
      const id = (message as { id: string }).id;
      if (this.instructions.get(idKey(id))?.seq === entry.seq) this.instructionStatus(id, 'VOID');
    }
    this.options.changed();
  }

  private stateChanged(state: string): void {
    if (!state || this.history.at(-1)?.state === state) return;
    this.history.push({ at: new Date().toISOString(), state });
    if (this.history.length > MAX_HISTORY) this.history.shift();
    // With the inspection hook the actor's own snapshot is drawn; without it, the path is enough.
    if (!this.rootSnapshot)
      this.header.session = actorViewFromPath(this.header.session.machine, state, this.header.closed ? 'stopped' : 'active');
    this.touch();
  }

  private controlTypeChanged(controlType: string): void {
    this.header.controlType = controlType;
    // Q12: switching control type drops the previous one's open instructions.
    this.voidOpenInstructions();
    this.touch();
  }

  private report(kind: string, detail: string): void {
    this.reports.push({ at: new Date().toISOString(), kind: text(kind, 80), detail: text(detail) });
    if (this.reports.length > MAX_REPORTS) this.reports.shift();
    this.touch();
  }

  closed(code: number, reason: string): void {
    if (this.header.closed) return;
    this.header.closed = { code, reason: text(reason) };
    this.header.session = { ...this.header.session, status: 'stopped' };
    this.header.controlTypeActor = undefined;
    this.voidOpenInstructions();
    this.touch();
  }

  // ---- from the inspection hook ----

  /** The session actor's snapshot (every event it takes): its state path feeds the history; its highlight is computed once per batch. */
  sessionSnapshot(snapshot: SnapshotLike): void {
    this.rootSnapshot = snapshot;
    this.header.inspected = true;
    const ctx = snapshot.context as { version?: unknown; controlType?: unknown; closeCode?: unknown; closeReason?: unknown } | undefined;
    if (typeof ctx?.version === 'string') this.header.version = ctx.version;
    const path = actorView(this.header.session.machine, snapshot.value, snapshot.status).state;
    if (path !== this.history.at(-1)?.state) this.stateChanged(path);
    // A session seen only through the hook has no close event: its actor's end is the close.
    if (!this.header.attached && snapshot.status !== 'active')
      this.closed(typeof ctx?.closeCode === 'number' ? ctx.closeCode : 1006, typeof ctx?.closeReason === 'string' ? ctx.closeReason : '');
    this.touch();
  }

  controlTypeSnapshot(machine: string, snapshot: SnapshotLike): void {
    this.header.controlTypeActor = snapshot.status === 'stopped' ? undefined : actorView(machine, snapshot.value, snapshot.status);
    this.touch();
  }

  instructionSnapshot(snapshot: SnapshotLike): void {
    const ctx = snapshot.context as { instructionId?: unknown; messageType?: unknown; status?: unknown } | undefined;
    if (typeof ctx?.instructionId !== 'string') return;
    const record = this.instruction(ctx.instructionId, typeof ctx.messageType === 'string' ? ctx.messageType : '?', undefined);
    record.actor = actorView('instruction', snapshot.value, snapshot.status);
    if (typeof ctx.status === 'string' && !isFinal(record.status)) record.status = ctx.status;
    // Stopped before a final status: the control type or the session ended first (Q12).
    if (snapshot.status === 'stopped' && !isFinal(record.status)) record.status = 'VOID';
    record.final = isFinal(record.status);
    this.dirtyInstructions.add(record);
    this.options.changed();
  }

  /** The codec's verdict on the latest frame that did not decode: its problems go with the entry. */
  invalidFrame(error: DecodeFailure): void {
    const entry = this.lastInvalid;
    if (!entry) return;
    const problems: ProblemView[] = error.problems.slice(0, 20).map((p) => ({
      path: clip(p.path, 200),
      message: text(p.message),
      ...(p.value === undefined ? {} : { value: text(p.value, 120) }),
      ...(p.rule === undefined ? {} : { rule: p.rule }),
    }));
    entry.refused = { status: error.status, reason: text(error.diagnosticLabel), problems };
    this.dirtyEntries.add(entry);
    this.options.changed();
  }

  // ---- ops ----

  /** The changes since the last call, header first (a page learns of a session before its messages). */
  drain(): InspectorOp[] {
    const ops: InspectorOp[] = [];
    if (this.headerDirty) {
      if (this.rootSnapshot)
        this.header.session = actorView(
          this.header.session.machine,
          this.rootSnapshot.value,
          this.header.closed ? 'stopped' : this.rootSnapshot.status,
        );
      this.header.history = [...this.history];
      this.header.reports = [...this.reports];
      ops.push({ op: 'session', key: this.key, header: { ...this.header } });
      this.headerDirty = false;
      this.published = true;
    }
    for (const entry of this.dirtyEntries) if (this.entries.has(entry.seq)) ops.push({ op: 'message', key: this.key, entry: { ...entry } });
    for (const record of this.dirtyInstructions)
      if (this.instructions.get(record.id) === record) ops.push({ op: 'instruction', key: this.key, instruction: { ...record } });
    this.dirtyEntries.clear();
    this.dirtyInstructions.clear();
    return ops;
  }

  // ---- helpers ----

  private set(fields: Partial<Mutable<SessionHeader>>): void {
    Object.assign(this.header, fields);
    this.touch();
  }

  private touch(): void {
    this.headerDirty = true;
    this.options.changed();
  }

  private add(dir: 'sent' | 'received', message: S2Message): { entry: Mutable<MessageEntry>; shown: Shown } {
    const shown = showMessage(message, this.options.sanitize);
    const entry = this.push({
      dir,
      type: message.message_type,
      messageId: 'message_id' in message ? idKey(message.message_id) : undefined,
      summary: summarize(shown.message, message.message_type),
      body: shown.body,
    });
    // The RM's name from its details, as sanitised for the log.
    if (message.message_type === 'ResourceManagerDetails' && shown.message) {
      const { name, resource_id: rid } = shown.message;
      const label = typeof name === 'string' ? name : typeof rid === 'string' ? rid : undefined;
      if (label !== undefined) this.set({ name: text(label, 80) });
    }
    const spec = messageSpec(message.message_type);
    if (spec?.instruction) {
      const id = (message as { id: string }).id;
      this.instruction(id, message.message_type, entry.seq);
    }
    return { entry, shown };
  }

  private push(fields: Omit<MessageEntry, 'seq' | 'at'>): Mutable<MessageEntry> {
    const entry: Mutable<MessageEntry> = { seq: ++this.seq, at: new Date().toISOString(), ...fields };
    this.entries.set(entry.seq, entry);
    this.dirtyEntries.add(entry);
    for (const [seq, old] of this.entries) {
      if (this.entries.size <= this.options.limits.maxMessages) break;
      this.entries.delete(seq);
      this.dirtyEntries.delete(old);
      if (old.messageId !== undefined) {
        const byId = old.dir === 'sent' ? this.sentById : this.receivedById;
        if (byId.get(old.messageId) === old) byId.delete(old.messageId);
      }
      if (this.lastInvalid === old) this.lastInvalid = undefined;
    }
    this.options.changed();
    return entry;
  }

  /**
   * A ReceptionStatus and the message it answers point at each other (R12: one per message). The
   * status value is protocol vocabulary; the diagnostic label is taken as sanitised.
   */
  private pair(
    status: Mutable<MessageEntry>,
    candidates: Map<string, Mutable<MessageEntry>>,
    subject: string,
    value: string,
    shown: Shown,
  ): void {
    const target = candidates.get(idKey(subject));
    if (!target || target.reception) return;
    const label = shown.message?.diagnostic_label;
    target.reception =
      typeof label === 'string' ? { status: value, label: text(label), seq: status.seq } : { status: value, seq: status.seq };
    status.answers = target.seq;
    this.dirtyEntries.add(target);
    // An instruction the peer did not take at reception level never gets a status (R16, R49).
    if (value !== 'OK' && target.dir === 'sent') {
      for (const record of this.instructions.values()) if (record.seq === target.seq) this.instructionStatus(record.id, 'VOID');
    }
  }

  private instruction(id: string, messageType: string, seq: number | undefined): Mutable<InstructionView> {
    const key = idKey(id);
    let record = this.instructions.get(key);
    if (!record) {
      record = { id: key, messageType, status: undefined, final: false, seq, actor: undefined };
      this.instructions.set(key, record);
      for (const [k, old] of this.instructions) {
        if (this.instructions.size <= this.options.limits.maxInstructions) break;
        this.instructions.delete(k);
        this.dirtyInstructions.delete(old);
      }
    } else if (seq !== undefined && record.seq === undefined) {
      record.seq = seq;
    }
    this.dirtyInstructions.add(record);
    this.options.changed();
    return record;
  }

  private instructionStatus(id: string, status: string | undefined): void {
    const record = this.instructions.get(idKey(id));
    if (!record || isFinal(record.status) || status === undefined) return;
    record.status = status;
    record.final = isFinal(status);
    this.dirtyInstructions.add(record);
    this.options.changed();
  }

  private voidOpenInstructions(): void {
    for (const record of this.instructions.values()) if (!record.final) this.instructionStatus(record.id, 'VOID');
  }
}
