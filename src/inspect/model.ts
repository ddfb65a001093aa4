/**
 * What the inspector page shows, as plain JSON: per session a header, a bounded message log and
 * the instruction list. Collectors describe changes as {@link InspectorOp}s; a {@link ViewStore}
 * applies them, keeps the current picture for pages that connect later, and passes every batch
 * on to its listeners (the page's event stream, or a remote `s2 inspect`).
 *
 * Everything here has already been through the sanitising hook: a view holds no message object
 * of the engine, only text and numbers made for display.
 */

/** One actor as drawn: which chart, and the state node ids to highlight there. */
export interface ActorView {
  /** The machine's id (`cemSession`, `FRBC`, `instruction`). */
  readonly machine: string;
  /** The chart's file base name under `/charts/` (`cem-session`), as in docs/statecharts/. */
  readonly chart: string | undefined;
  /** The dotted state path (`connected.active.FRBC`). */
  readonly state: string;
  /** Ids of the active state nodes (`cemSession.connected`, …); the SVG has `state:<id>` for each. */
  readonly active: readonly string[];
  /** The actor's status: `active`, `done`, `stopped`, `error`. */
  readonly status: string;
}

/** One state change of the session actor, for the timeline. */
export interface StateStep {
  readonly at: string;
  readonly state: string;
}

export interface SessionHeader {
  /** Unique among the sessions of one page: the session id, or `actor:…` for an actor seen only through `inspect`. */
  readonly key: string;
  readonly sessionId: string | undefined;
  readonly role: string;
  readonly peer: string | undefined;
  /** The RM's name (or resource id) from its ResourceManagerDetails. */
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly controlType: string | undefined;
  readonly startedAt: string;
  readonly session: ActorView;
  /** The active control type's activation actor (only with the `inspect` hook). */
  readonly controlTypeActor: ActorView | undefined;
  /** The session actor's last state changes, oldest first. */
  readonly history: readonly StateStep[];
  /** Non-fatal reports (ReceptionStatus timeouts, unknown subjects …), newest last. */
  readonly reports: readonly { readonly at: string; readonly kind: string; readonly detail: string }[];
  readonly counts: { readonly sent: number; readonly received: number; readonly refused: number };
  readonly closed: { readonly code: number; readonly reason: string } | undefined;
  /** The S2Session was attached (messages are logged). */
  readonly attached: boolean;
  /** Inspection events arrive for it (child actors are shown). */
  readonly inspected: boolean;
}

/** A problem of an invalid frame, as the codec found it (path, sentence, value, rule). */
export interface ProblemView {
  readonly path: string;
  readonly message: string;
  readonly value?: string;
  readonly rule?: string;
}

/** One frame sent or received. */
export interface MessageEntry {
  /** Increasing within the session. */
  readonly seq: number;
  readonly at: string;
  readonly dir: 'sent' | 'received';
  /** `message_type`, or `(invalid frame)`. */
  readonly type: string;
  readonly messageId: string | undefined;
  readonly summary: string;
  /** The sanitised message as JSON text (clipped), or the sanitised raw frame. */
  readonly body: string;
  /** For a message other than ReceptionStatus: the ReceptionStatus that answered it. */
  readonly reception?: { readonly status: string; readonly label?: string; readonly seq: number };
  /** For a ReceptionStatus: the entry it answers. */
  readonly answers?: number;
  /** The frame did not decode (INVALID_DATA / INVALID_MESSAGE). */
  readonly invalid?: boolean;
  /** We refused it: the status we answered and why. */
  readonly refused?: { readonly status: string; readonly reason: string; readonly problems?: readonly ProblemView[] };
}

export interface InstructionView {
  readonly id: string;
  readonly messageType: string;
  /** The last InstructionStatus, `VOID` when the control type or session ended first (Q12), undefined before the first. */
  readonly status: string | undefined;
  readonly final: boolean;
  /** Seq of the log entry that carried the instruction. */
  readonly seq: number | undefined;
  /** Its instruction actor (only with the `inspect` hook). */
  readonly actor: ActorView | undefined;
}

/** A change, as sent to pages and remote inspectors. */
export type InspectorOp =
  | { readonly op: 'session'; readonly key: string; readonly header: SessionHeader }
  | { readonly op: 'message'; readonly key: string; readonly entry: MessageEntry }
  | { readonly op: 'instruction'; readonly key: string; readonly instruction: InstructionView }
  | { readonly op: 'drop'; readonly key: string };

/** One session as a page receives it on connecting. */
export interface SessionSnapshot {
  readonly header: SessionHeader;
  readonly messages: readonly MessageEntry[];
  readonly instructions: readonly InstructionView[];
}

export interface ViewLimits {
  /** Log entries kept per session (default 500); older ones are dropped. */
  readonly maxMessages: number;
  /** Instructions kept per session (default 200). */
  readonly maxInstructions: number;
  /** Closed sessions kept (default 50); the oldest closed ones are dropped. */
  readonly maxClosedSessions: number;
}

export const DEFAULT_LIMITS: ViewLimits = { maxMessages: 500, maxInstructions: 200, maxClosedSessions: 50 };

interface StoredSession {
  header: SessionHeader;
  readonly messages: Map<number, MessageEntry>;
  readonly instructions: Map<string, InstructionView>;
  owner: string | undefined;
}

/** Keeps the last `max` keys of an insertion-ordered map. */
function trim<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}

/**
 * The current picture of every session, built from ops. The same ops reach the listeners, so a
 * page that connected earlier and one that connects now (snapshot) see the same.
 */
export class ViewStore {
  private readonly sessions = new Map<string, StoredSession>();
  private readonly listeners = new Set<(ops: readonly InspectorOp[]) => void>();

  constructor(private readonly limits: ViewLimits = DEFAULT_LIMITS) {}

  /** Applies a batch (from this process, or from a feed named `owner`) and passes it on. */
  apply(ops: readonly InspectorOp[], owner?: string): void {
    if (ops.length === 0) return;
    const out: InspectorOp[] = [];
    for (const op of ops) {
      if (op.op === 'drop') {
        if (this.sessions.delete(op.key)) out.push(op);
        continue;
      }
      let s = this.sessions.get(op.key);
      if (!s) {
        // Message or instruction ops only follow their session's header.
        if (op.op !== 'session') continue;
        s = { header: op.header, messages: new Map(), instructions: new Map(), owner };
        this.sessions.set(op.key, s);
      }
      if (op.op === 'session') s.header = op.header;
      else if (op.op === 'message') {
        s.messages.set(op.entry.seq, op.entry);
        trim(s.messages, this.limits.maxMessages);
      } else {
        s.instructions.set(op.instruction.id, op.instruction);
        trim(s.instructions, this.limits.maxInstructions);
      }
      out.push(op);
    }
    out.push(...this.dropOldClosed());
    this.emit(out);
  }

  /** A feed went away: its sessions that were still open are shown as closed. */
  ownerGone(owner: string, reason: string): void {
    const ops: InspectorOp[] = [];
    for (const [key, s] of this.sessions) {
      if (s.owner !== owner || s.header.closed) continue;
      s.header = { ...s.header, closed: { code: 1006, reason } };
      ops.push({ op: 'session', key, header: s.header });
    }
    ops.push(...this.dropOldClosed());
    this.emit(ops);
  }

  snapshot(): SessionSnapshot[] {
    return [...this.sessions.values()].map((s) => ({
      header: s.header,
      messages: [...s.messages.values()],
      instructions: [...s.instructions.values()],
    }));
  }

  /** The whole picture as ops (to replay into another store). */
  snapshotOps(): InspectorOp[] {
    const ops: InspectorOp[] = [];
    for (const [key, s] of this.sessions) {
      ops.push({ op: 'session', key, header: s.header });
      for (const entry of s.messages.values()) ops.push({ op: 'message', key, entry });
      for (const instruction of s.instructions.values()) ops.push({ op: 'instruction', key, instruction });
    }
    return ops;
  }

  subscribe(listener: (ops: readonly InspectorOp[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private dropOldClosed(): InspectorOp[] {
    const closed = [...this.sessions.entries()].filter(([, s]) => s.header.closed);
    const ops: InspectorOp[] = [];
    for (const [key] of closed.slice(0, Math.max(0, closed.length - this.limits.maxClosedSessions))) {
      this.sessions.delete(key);
      ops.push({ op: 'drop', key });
    }
    return ops;
  }

  private emit(ops: readonly InspectorOp[]): void {
    if (ops.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(ops);
      } catch {
        // A listener (a page's stream) failing must not stop the others.
      }
    }
  }
}
