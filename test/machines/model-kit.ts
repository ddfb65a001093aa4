/**
 * Shared machinery of the model-based session tests:
 *
 * - {@link generatePaths}: paths through a test model (xstate/graph) that reach every model state
 *   and take every model transition at least once;
 * - {@link TransitionCoverage}: which transitions of a REAL session machine the runs took, seen
 *   through XState's inspection API (see inspection-hook.ts);
 * - {@link SessionHarness}: one real `S2Session` over an in-memory pair, a `SimulatedClock` and a
 *   scripted peer, with the bookkeeping the assertions need (pending messages, the R11/R12
 *   ledger, the close code the rules demand).
 */
import {
  SimulatedClock,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type EventObject,
} from 'xstate';
import { adjacencyMapToArray, getStateNodes, type StatePath, type TestModel } from 'xstate/graph';
import { expect } from 'vitest';
import { codecFor, NIL_UUID } from '../../src/codec/index.js';
import type { SessionRole } from '../../src/machines/events.js';
import { connectSession, statePath, type S2Session, type SessionOptions } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { HeldCloseTransport, ScriptedPeer, type CloseRecord } from '../support/scripted-peer.js';
import { receptionStatus, TEST_EPOCH_MS } from '../support/session-messages.js';

export { NIL_UUID };

// ---------------------------------------------------------------------------------------------
// Paths

export type ModelPath = StatePath<AnyMachineSnapshot, EventObject>;
export type AnyTestModel = TestModel<AnyMachineSnapshot, EventObject, unknown>;

export interface ModelEdge {
  readonly from: string;
  readonly event: EventObject;
  readonly to: string;
}

export const leafOf = (snapshot: AnyMachineSnapshot): string => statePath(snapshot.value);
export const eventLabel = (event: EventObject): string => {
  const { type, ...rest } = event as EventObject & Record<string, unknown>;
  const args = Object.values(rest).map(String);
  return args.length ? `${type}(${args.join(',')})` : type;
};
const edgeKey = (from: string, event: EventObject): string => `${from} ${JSON.stringify(event)}`;

/**
 * Paths that together take every transition of the test model: for every (state, event) edge of
 * the model's adjacency map, the shortest path to that state followed by the edge. Paths that are
 * a prefix of another path are dropped (the longer one checks the same steps). Because every
 * state is the target of some edge, every state is reached too; `getShortestPaths` alone would
 * miss self-loops, which are most of the ReceptionStatus rules.
 */
export function generatePaths(model: AnyTestModel): { paths: ModelPath[]; edges: ModelEdge[]; states: string[] } {
  const shortest = new Map<string, ModelPath>();
  for (const path of model.getShortestPaths({ allowDuplicatePaths: true })) {
    const leaf = leafOf(path.state);
    const known = shortest.get(leaf);
    if (!known || path.steps.length < known.steps.length) shortest.set(leaf, path);
  }
  const edges = new Map<string, { from: AnyMachineSnapshot; event: EventObject; to: AnyMachineSnapshot }>();
  for (const { state, event, nextState } of adjacencyMapToArray(model.getAdjacencyMap())) {
    const key = edgeKey(leafOf(state), event);
    if (!edges.has(key)) edges.set(key, { from: state, event, to: nextState });
  }
  const candidates: ModelPath[] = [...edges.values()].map(({ from, event, to }) => {
    const head = shortest.get(leafOf(from));
    if (!head) throw new Error(`no path to model state ${leafOf(from)}`);
    return { state: to, steps: [...head.steps, { state: to, event }], weight: head.weight + 1 };
  });
  const sequence = (p: ModelPath) => p.steps.map((s) => JSON.stringify(s.event));
  candidates.sort((a, b) => b.steps.length - a.steps.length);
  const kept: ModelPath[] = [];
  const keptSequences: string[][] = [];
  for (const path of candidates) {
    const seq = sequence(path);
    if (keptSequences.some((longer) => seq.every((e, i) => longer[i] === e))) continue;
    kept.push(path);
    keptSequences.push(seq);
  }
  kept.sort((a, b) => a.steps.length - b.steps.length || titleOf(a).localeCompare(titleOf(b)));
  return {
    paths: kept,
    edges: [...edges.values()].map(({ from, event, to }) => ({ from: leafOf(from), event, to: leafOf(to) })),
    states: [...shortest.keys()],
  };
}

/** The (state, event) edges a path takes, as keys comparable with {@link ModelEdge}. */
export function edgesOf(path: ModelPath): string[] {
  const keys: string[] = [];
  for (let i = 1; i < path.steps.length; i++) {
    const before = path.steps[i - 1];
    const step = path.steps[i];
    if (before && step) keys.push(edgeKey(leafOf(before.state), step.event));
  }
  return keys;
}
export const keyOfEdge = (edge: ModelEdge): string => edgeKey(edge.from, edge.event);

/** `RM_HANDSHAKE → PEER_DETAILS ⇒ connected.selecting` */
export function titleOf(path: ModelPath): string {
  const events = path.steps.slice(1).map((s) => eventLabel(s.event));
  return `${events.join(' → ')} ⇒ ${leafOf(path.state)}`;
}

// ---------------------------------------------------------------------------------------------
// Coverage of the real machine

export interface DefinedTransition {
  readonly definition: AnyTransitionDefinition;
  readonly label: string;
}

/** Which inspected actors a {@link TransitionCoverage} counts (default: those running its very machine). */
export type InspectedActorFilter = (actor: { readonly logic?: unknown; readonly id?: string }, snapshot: AnyMachineSnapshot) => boolean;

/**
 * A transition's place in its machine: source state node, event type, index among that event's
 * transitions. It is the same for every machine built from the same config, so transitions taken by
 * a machine built elsewhere (e.g. `createControlTypeMachine(rules)` inside a test harness) can be
 * matched with the definitions of another instance.
 */
export function transitionKey(definition: AnyTransitionDefinition): string {
  // AnyTransitionDefinition types the event type `any`; it is the string the transition is keyed by.
  const eventType = definition.eventType as string;
  const index = definition.source.transitions.get(eventType)?.indexOf(definition) ?? -1;
  return `${definition.source.id} ${eventType} #${index}`;
}

function guardName(guard: unknown): string {
  if (guard === undefined) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    const { type, params } = guard as { type: string; params?: unknown };
    // Our guards take a wire name (`selects('FILL_RATE_BASED_CONTROL')`); anything else reads as JSON.
    return params === undefined ? type : `${type}(${typeof params === 'string' ? params : JSON.stringify(params)})`;
  }
  if (typeof guard === 'function') {
    const inner = (guard as { guards?: unknown[]; check?: unknown; name?: string }).guards;
    if (Array.isArray(inner)) return `not(${inner.map(guardName).join(',')})`;
    return (guard as { name?: string }).name || 'inline';
  }
  return '?';
}

export class TransitionCoverage {
  readonly taken = new Set<AnyTransitionDefinition>();
  /** {@link transitionKey}s of the transitions taken, by whichever instance of the machine. */
  readonly takenKeys = new Set<string>();
  readonly visited = new Set<string>();

  /**
   * @param machine the machine whose transitions are to be covered
   * @param accepts which inspected actors count; by default the actors running `machine` itself.
   *   Pass a filter to count actors of an equal machine built elsewhere (matched by
   *   {@link transitionKey}), or only some of them (e.g. one role).
   */
  constructor(
    readonly machine: AnyStateMachine,
    private readonly accepts: InspectedActorFilter = (actor) => actor.logic === machine,
  ) {}

  /** Every transition the machine defines, root-level handlers once, `after` ones included. */
  defined(): DefinedTransition[] {
    const nodes: AnyStateNode[] = [this.machine.root, ...getStateNodes(this.machine.root)];
    return nodes.flatMap((node) =>
      [...node.transitions.entries()].flatMap(([eventType, definitions]) =>
        definitions.map((definition, i) => {
          const guard = guardName(definition.guard);
          const targets = definition.target?.map((t) => t.id).join(',') ?? '(stay)';
          return {
            definition,
            label: `${node.id} ── ${eventType}${definitions.length > 1 ? ` #${i}` : ''}${guard ? ` [${guard}]` : ''} → ${targets}`,
          };
        }),
      ),
    );
  }

  /** Whether a run took this transition (by identity, or by {@link transitionKey} for equal machines). */
  wasTaken(defined: DefinedTransition): boolean {
    return this.taken.has(defined.definition) || this.takenKeys.has(transitionKey(defined.definition));
  }

  stateNodeIds(): string[] {
    return [this.machine.root, ...getStateNodes(this.machine.root)].map((n) => n.id);
  }

  readonly listener = (event: { readonly type: string } & Record<string, unknown>): void => {
    if (event.type !== '@xstate.microstep' && event.type !== '@xstate.snapshot') return;
    const actor = event.actorRef as { logic?: unknown; id?: string } | undefined;
    const snapshot = event.snapshot as AnyMachineSnapshot | undefined;
    if (!actor || !snapshot || !this.accepts(actor, snapshot)) return;
    if (event.type === '@xstate.microstep') {
      for (const t of event._transitions as AnyTransitionDefinition[]) {
        this.taken.add(t);
        this.takenKeys.add(transitionKey(t));
      }
    }
    const path = statePath(snapshot.value);
    this.visited.add(this.machine.id);
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) this.visited.add(`${this.machine.id}.${parts.slice(0, i).join('.')}`);
  };
}

// ---------------------------------------------------------------------------------------------
// The harness around one real session

/** Timers chosen so that only the model's time events fire them (no stray ReceptionStatus timeouts). */
export const TIMING = { handshakeTimeoutMs: 30_000, receptionTimeoutMs: 100_000, closeGraceMs: 2_000 } as const;

/** A message the session sent and the peer has not answered yet. */
export interface SentMessage {
  readonly id: string;
  readonly type: string;
  readonly message: Record<string, unknown>;
}

const codec = codecFor();

export function summarize(frame: Record<string, unknown>): string {
  switch (frame.message_type) {
    case 'ReceptionStatus':
      return `ReceptionStatus(${String(frame.status)}, ${String(frame.subject_message_id)})`;
    case 'Handshake':
      return `Handshake(${String(frame.role)}, ${JSON.stringify(frame.supported_protocol_versions)})`;
    case 'HandshakeResponse':
      return `HandshakeResponse(${String(frame.selected_protocol_version)})`;
    case 'SelectControlType':
      return `SelectControlType(${String(frame.control_type)})`;
    case 'SessionRequest':
      return `SessionRequest(${String(frame.request)})`;
    case 'ResourceManagerDetails':
      return `ResourceManagerDetails(${(frame.available_control_types as string[]).join(',')})`;
    default:
      return String(frame.message_type);
  }
}
export const rsFrame = (subject: string, status: string): string => `ReceptionStatus(${status}, ${subject})`;

export class SessionHarness {
  readonly clock = new SimulatedClock();
  readonly transport: HeldCloseTransport;
  readonly peer: ScriptedPeer;
  readonly session: S2Session;
  readonly reports: { kind: string; detail: string }[] = [];
  /** The session's own `close` events (exactly one once it is closed). */
  readonly sessionCloses: CloseRecord[] = [];
  /** Sent by the session, waiting for a ReceptionStatus, oldest first. */
  readonly pending: SentMessage[] = [];
  /** What the rules say the close code must be (first reason wins); set by the drivers. */
  expectedCloseCode: number | undefined;
  /** The next delivered message makes the application handler throw. */
  throwInHandler = false;
  /** R11/R12 ledger: one entry per frame the session must answer exactly once (nil UUID for unreadable frames). */
  readonly owed: string[] = [];
  private frameCursor = 0;
  private reportCursor = 0;
  private peerSeq = 0;

  constructor(
    readonly role: SessionRole,
    extra: Pick<SessionOptions, 'details' | 'policy' | 'versions'> = {},
  ) {
    const [sessionEnd, peerEnd] = createMemoryPair({ a: role.toLowerCase(), b: 'scripted-peer' });
    this.transport = new HeldCloseTransport(sessionEnd);
    this.peer = new ScriptedPeer(peerEnd);
    let n = 0;
    const prefix = role === 'CEM' ? 'c' : 'd';
    this.session = connectSession(this.transport, {
      role,
      clock: this.clock,
      ...TIMING,
      ...extra,
      // The same simulated time for instructions' execution_time (R43) as for the timers.
      now: () => TEST_EPOCH_MS + this.clock.now(),
      newId: () => `${prefix}0000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
      onMessage: () => {
        if (this.throwInHandler) {
          this.throwInHandler = false;
          throw new Error('handler failure injected by the test');
        }
      },
    });
    this.session.on('report', (r) => this.reports.push(r));
    this.session.on('close', (c) => this.sessionCloses.push(c));
  }

  /** Lets queued microtasks (memory transport deliveries, promise callbacks) run. Not a timer. */
  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  nextPeerId(): string {
    return `e0000000-0000-4000-8000-${String(++this.peerSeq).padStart(12, '0')}`;
  }

  /** The peer sends a well-formed message; unless it is a ReceptionStatus it is owed one RS. */
  peerSends(message: { readonly message_type: string; readonly message_id?: string }): void {
    this.peer.send(message);
    if (message.message_type !== 'ReceptionStatus') this.owed.push(message.message_id ?? NIL_UUID);
  }

  /** The peer sends a raw frame the session must answer with subject `subject` (nil UUID if unreadable). */
  peerSendsRaw(text: string, subject: string | undefined): void {
    this.peer.sendRaw(text);
    if (subject !== undefined) this.owed.push(subject);
  }

  /** The peer answers one of the session's messages (`upperCase`: the subject id in upper case, R4). */
  answer(sent: SentMessage, status: 'OK' | 'INVALID_CONTENT' | 'PERMANENT_ERROR', upperCase = false): void {
    const i = this.pending.indexOf(sent);
    if (i < 0) throw new Error(`harness: ${sent.type} ${sent.id} is not pending`);
    this.pending.splice(i, 1);
    this.peer.send(receptionStatus(upperCase ? sent.id.toUpperCase() : sent.id, status));
  }

  latestPending(predicate: (m: SentMessage) => boolean = () => true): SentMessage {
    const found = [...this.pending].reverse().find(predicate);
    if (!found)
      throw new Error(
        `harness: no pending message of the session matches (pending: ${this.pending.map((p) => p.type).join(', ') || 'none'})`,
      );
    return found;
  }

  /** Frames the session sent since the last call, summarised; each must be valid S2 (the codec decodes it). */
  takeFrames(): string[] {
    const frames = this.peer.received.slice(this.frameCursor);
    const raws = this.peer.raw.slice(this.frameCursor);
    this.frameCursor = this.peer.received.length;
    raws.forEach((raw) => {
      const decoded = codec.decode(raw);
      expect(decoded.ok ? 'valid' : JSON.stringify(decoded.error.problems), `the session sent invalid S2: ${raw}`).toBe('valid');
    });
    for (const frame of frames) {
      if (frame.message_type !== 'ReceptionStatus') {
        this.pending.push({ id: String(frame.message_id), type: String(frame.message_type), message: frame });
      }
    }
    return frames.map(summarize);
  }

  takeReports(): string[] {
    const kinds = this.reports.slice(this.reportCursor).map((r) => r.kind);
    this.reportCursor = this.reports.length;
    return kinds;
  }

  /** After a step: exactly these frames and reports, in this order. */
  expectStep(what: string, frames: readonly string[], reports: readonly string[] = []): void {
    expect(this.takeFrames(), `frames the session sent after ${what}`).toEqual(frames);
    expect(this.takeReports(), `reports after ${what}`).toEqual(reports);
  }

  /** R11, R12: every frame the peer sent was answered exactly once, and no ReceptionStatus was answered. */
  expectLedgerBalanced(): void {
    const answered = this.peer.received.filter((f) => f.message_type === 'ReceptionStatus').map((f) => String(f.subject_message_id));
    expect([...answered].sort(), 'ReceptionStatus subjects sent by the session (R11, R12)').toEqual([...this.owed].sort());
  }

  /** Sets the close code the rules demand, unless an earlier reason already set it (first wins). */
  closeBecause(code: number): void {
    this.expectedCloseCode ??= code;
  }

  async dispose(): Promise<void> {
    if (!this.session.isClosed) {
      void this.session.close();
      if (this.transport.closeRequests.length) this.transport.confirmClose();
      else this.peer.close(1000, 'test over');
      await this.flush();
    }
  }
}
