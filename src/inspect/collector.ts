import { randomBytes } from 'node:crypto';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { DecodeFailure } from '../codec/codec.js';
import type { S2Session } from '../roles/session.js';
import type { InspectorOp, ViewLimits } from './model.js';
import type { Sanitizer } from './sanitize.js';
import { SessionTracker, type SnapshotLike } from './session-tracker.js';

/** One session actor seen through the inspection hook, with the children we draw. */
interface RootRecord {
  readonly rootId: string;
  readonly root: AnyActorRef;
  controlType: AnyActorRef | undefined;
  readonly instructions: Set<AnyActorRef>;
  tracker: SessionTracker | undefined;
}

export interface CollectorOptions {
  readonly sanitize: Sanitizer | undefined;
  readonly limits: ViewLimits;
  /** Receives each batch of changes. */
  readonly output: (ops: InspectorOp[]) => void;
  /** How often changes are batched (default 100 ms): a burst of messages is one update. */
  readonly flushMs?: number;
}

const CONTROL_TYPE_CHILD = 'controlType';
const INSTRUCTION_CHILD = 'instruction:';

const machineIdOf = (ref: AnyActorRef): string => {
  const id = (ref as { logic?: { id?: unknown } }).logic?.id;
  return typeof id === 'string' ? id : ref.id;
};

/**
 * Collects what the inspector shows, from two sources that may be used together or alone:
 *
 * - `attach(session)` follows an S2Session's events: messages (with the ReceptionStatus pairing),
 *   refusals, the session state, the close.
 * - `inspect` is an XState inspection observer for `SessionOptions.inspect`: the session actor
 *   and its control-type and instruction children, so their states can be highlighted.
 *
 * The two are joined at `attach`: the session actor is created in the S2Session constructor, so
 * the newest session actor not yet claimed whose role matches is that session's, as long as
 * `attach` is called right after construction (the role API's `onSession` does this). A session
 * actor nobody attaches within one batch is shown on its own.
 *
 * Observing must never disturb a session: every hook is wrapped, nothing is sent to any actor.
 */
export class Collector {
  private readonly trackers = new Map<string, SessionTracker>();
  private readonly roots = new Map<string, RootRecord>();
  private unclaimed: RootRecord[] = [];
  private readonly following = new Map<S2Session, () => void>();
  private readonly drops: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Makes the keys of sessions seen only as actors unique across processes (remote feeds). */
  private readonly tag = randomBytes(3).toString('hex');

  constructor(private readonly options: CollectorOptions) {}

  /** The observer for `SessionOptions.inspect` (and `CemServerOptions.inspect`, `RmClientOptions.inspect`). */
  readonly inspect = (event: InspectionEvent): void => {
    if (this.stopped) return;
    try {
      this.onInspection(event);
    } catch {
      // An inspector bug must never reach the actor that is being observed.
    }
  };

  /** Follows a session's messages and state. Call it before `session.start()`, e.g. in `onSession`. */
  attach(session: S2Session): void {
    if (this.stopped || this.following.has(session)) return;
    const root = this.claim(session.role);
    let tracker: SessionTracker;
    if (root?.tracker) {
      // Already followed as an actor (its first snapshots came before this call): now by its id.
      tracker = root.tracker;
      this.trackers.delete(tracker.key);
      const old = tracker.rekey(session.id);
      if (old !== undefined) this.drops.push(old);
      this.trackers.set(session.id, tracker);
    } else {
      tracker = this.track(session.id, session.role);
      if (root) {
        root.tracker = tracker;
        this.replay(root);
      }
    }
    this.following.set(session, tracker.follow(session));
    void session.closed.then(() => {
      this.following.get(session)?.();
      this.following.delete(session);
    });
  }

  /** Sends what is pending now and stops listening (the inspect hook stays installed but does nothing). */
  stop(): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    clearTimeout(this.timer);
    for (const off of this.following.values()) off();
    this.following.clear();
    this.roots.clear();
    this.unclaimed = [];
  }

  /** Sends pending changes now (also done every `flushMs`). */
  flush(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Session actors that nobody attached: shown from their actors alone.
    for (const root of this.unclaimed) this.adopt(root);
    this.unclaimed = [];
    const ops: InspectorOp[] = this.drops.splice(0).map((key) => ({ op: 'drop' as const, key }));
    for (const [key, tracker] of this.trackers) {
      ops.push(...tracker.drain());
      // A closed session's picture lives on in the store; the tracker is done.
      if (tracker.isClosed) this.trackers.delete(key);
    }
    if (ops.length) this.options.output(ops);
  }

  private track(key: string, role: string): SessionTracker {
    const tracker = new SessionTracker(key, role, {
      sanitize: this.options.sanitize,
      limits: this.options.limits,
      changed: () => this.schedule(),
    });
    this.trackers.set(key, tracker);
    this.schedule();
    return tracker;
  }

  /** The tracker of a session actor, made on its first snapshot so that nothing before an `attach` is lost. */
  private adopt(root: RootRecord): SessionTracker {
    if (root.tracker) return root.tracker;
    const role = (root.root.getSnapshot() as { context?: { role?: unknown } } | undefined)?.context?.role;
    root.tracker = this.track(`actor:${this.tag}:${root.rootId}`, role === 'RM' ? 'RM' : 'CEM');
    this.replay(root);
    return root.tracker;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => this.flush(), this.options.flushMs ?? 100);
    this.timer.unref();
  }

  /** The newest session actor of this role created since the last batch and not yet attached. */
  private claim(role: string): RootRecord | undefined {
    for (let i = this.unclaimed.length - 1; i >= 0; i--) {
      const root = this.unclaimed[i]!;
      const ctx = (root.root.getSnapshot() as { context?: { role?: unknown } }).context;
      if (ctx?.role !== role) continue;
      this.unclaimed.splice(i, 1);
      return root;
    }
    return undefined;
  }

  /** A tracker that joins late reads the actors' current snapshots. */
  private replay(root: RootRecord): void {
    const tracker = root.tracker;
    if (!tracker) return;
    tracker.sessionSnapshot(root.root.getSnapshot() as SnapshotLike);
    if (root.controlType) tracker.controlTypeSnapshot(machineIdOf(root.controlType), root.controlType.getSnapshot() as SnapshotLike);
    for (const ref of root.instructions) tracker.instructionSnapshot(ref.getSnapshot() as SnapshotLike);
  }

  private onInspection(event: InspectionEvent): void {
    switch (event.type) {
      case '@xstate.actor': {
        const ref = event.actorRef as AnyActorRef;
        if (ref.sessionId === event.rootId) {
          const root: RootRecord = { rootId: event.rootId, root: ref, controlType: undefined, instructions: new Set(), tracker: undefined };
          this.roots.set(event.rootId, root);
          this.unclaimed.push(root);
          this.schedule();
          return;
        }
        const root = this.roots.get(event.rootId);
        if (!root) return;
        if (ref.id === CONTROL_TYPE_CHILD) root.controlType = ref;
        else if (ref.id.startsWith(INSTRUCTION_CHILD)) root.instructions.add(ref);
        return;
      }
      case '@xstate.snapshot': {
        const root = this.roots.get(event.rootId);
        if (!root) return;
        const ref = event.actorRef as AnyActorRef;
        const snapshot = event.snapshot as SnapshotLike;
        const tracker = this.adopt(root);
        if (ref === root.root) {
          tracker.sessionSnapshot(snapshot);
          if (snapshot.status !== 'active') this.roots.delete(event.rootId);
        } else if (ref === root.controlType) {
          tracker.controlTypeSnapshot(machineIdOf(ref), snapshot);
          if (snapshot.status !== 'active') root.controlType = undefined;
        } else if (root.instructions.has(ref)) {
          tracker.instructionSnapshot(snapshot);
          if (snapshot.status !== 'active') root.instructions.delete(ref);
        }
        return;
      }
      case '@xstate.event': {
        if (event.event.type !== 'frame.invalid') return;
        const root = this.roots.get(event.rootId);
        if (root && event.actorRef === root.root) root.tracker?.invalidFrame((event.event as unknown as { error: DecodeFailure }).error);
        return;
      }
      default:
        return;
    }
  }
}
