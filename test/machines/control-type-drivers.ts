/**
 * DRIVERS of the control-type and instruction test models (control-type-models.ts): what each
 * model event is as concrete S2 messages (test/support/control-type-messages.ts, every one decoded
 * by the engine's codec first), and what the REAL control-type actor must answer. The actor runs
 * under `controlTypeHarness` (a recording parent) with a SimulatedClock.
 *
 * Directions. A message sent by the peer of the role under test is received (`in`): the actor
 * must answer `ct.accepted` (+ notices) or `ct.refused` with a reason naming the rule. A message
 * the role under test sends (`out`) first passes the session's gate — the same
 * `controlTypeRefusal` (+ `statusTransitionRefusal` for InstructionStatusUpdates) that
 * `S2Session.whyNotNow` applies (src/roles/session.ts) — and reaches the actor only if the gate
 * lets it through; then the actor answers nothing but notices. So the CEM role receives
 * descriptions, statuses and InstructionStatusUpdates and sends instructions and their
 * revocations; the RM role the other way round.
 *
 * After every step: the real state (`awaitingDescription` / `described`), every instruction
 * record of the actor (id, type, status: R16 — a refused message changes nothing), no reply left
 * unchecked; in the instruction model also the real instruction actor's state.
 */
import { expect } from 'vitest';
import { SimulatedClock, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { getStateNodes, type TestParam } from 'xstate/graph';
import { controlTypeRefusal, type ControlTypeReply } from '../../src/machines/control-type.js';
import { CONTROL_TYPE_RULES } from '../../src/machines/control-types.js';
import type { SessionRole } from '../../src/machines/events.js';
import { statusTransitionRefusal } from '../../src/rules/instruction-status.js';
import type { ControlTypeRules } from '../../src/rules/knowledge/types.js';
import type { InstructionStatus } from '../../src/typebox/common/enums.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';
import { controlTypeHarness } from '../support/control-type-harness.js';
import {
  BASE_MS,
  expectDecodes,
  revokeObject,
  statusUpdate,
  uuidFor,
  type ContainerState,
  type ControlTypeMessageSet,
  type InstructionSpec,
} from '../support/control-type-messages.js';
import { addInspectionListener } from './inspection-hook.js';
import { leafOf, type ModelPath } from './model-kit.js';
import { ctAbstractOf, ctTop, FINALS, instructionAbstractOf, R46_NEXT, type CtAbstract, type CtEventType } from './control-type-models.js';
import { bugsOf, type KnownBug } from './session-drivers.js';

type Harness = ReturnType<typeof controlTypeHarness>;
/** An expected reply: exactly this text, or text matching `re` (`label` says what, in failure messages). */
type Expected = string | { readonly re: RegExp; readonly label: string };
/** A message is either refused (naming these rules) or accepted with these notices following. */
type Outcome = { readonly refused: readonly string[] } | { readonly notices: readonly Expected[] };

const MIN = 60_000;
const HOUR = 60 * MIN;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A reason that names every rule in `rules` (as a word: R4 does not match R46). */
const naming = (rules: readonly string[]): string => rules.map((r) => `(?=.*\\b${r}\\b)`).join('');

export function describeReply(r: ControlTypeReply): string {
  switch (r.type) {
    case 'ct.accepted':
      return `accepted ${r.message.message_type} ${r.message.message_id}`;
    case 'ct.refused':
      return `refused ${r.message.message_type} ${r.message.message_id} — ${r.reason}`;
    case 'ct.notice': {
      const n = r.notice;
      switch (n.kind) {
        case 'instruction':
          return `notice instruction ${(n.instruction as { id: string }).id} rejection: ${n.rejection ?? 'none'}`;
        case 'status':
          return `notice status ${n.instructionId} ${n.status ?? '-'}`;
        case 'due':
          return `notice due ${n.instructionId}`;
        case 'revoked':
          return `notice revoked ${n.instructionId}`;
      }
    }
  }
}

const refusedMatcher = (m: IdentifiedMessage, rules: readonly string[]): Expected => ({
  re: new RegExp(`^refused ${escape(m.message_type)} ${escape(m.message_id)} — ${naming(rules)}`),
  label: `refused ${m.message_type} (${rules.join(', ')})`,
});
/** What an expected reply is, in a few words (for the failure message that the known-bug symptoms match). */
const sketch = (e: Expected): string => (typeof e === 'string' ? e.split(' ').slice(0, 3).join(' ') : e.label);

/** What the driver knows of one instruction of the activation. */
interface Tracked {
  readonly id: string;
  readonly message: IdentifiedMessage;
  readonly spec: InstructionSpec;
  status: InstructionStatus | undefined;
  /** A RevokeObject for it was accepted (the RM has still to report REVOKED, R58). */
  revoked: boolean;
  /** The RM's rules judge it not executable (R50): the RM reports REJECTED (Q14). */
  rejected: boolean;
  acceptedAtMs: number | undefined;
  dueSeen: boolean;
}

/** One run of one path against one real control-type actor. */
export abstract class ControlTypeRun {
  readonly clock = new SimulatedClock();
  readonly h: Harness;
  readonly rules: ControlTypeRules<unknown>;
  /** The model state before the event being executed. */
  leaf = '';
  /** The step being executed (left set when it fails, for the known-bug check). */
  current: { readonly from: string; readonly event: EventObject } | undefined;
  protected readonly instructions = new Map<string, Tracked>();
  private cursor = 0;
  private seq = 0;

  constructor(
    readonly set: ControlTypeMessageSet,
    readonly role: SessionRole,
  ) {
    this.rules = CONTROL_TYPE_RULES[set.short];
    // The harness types its `clock` option as Node's timer functions; a SimulatedClock is what XState takes.
    this.h = controlTypeHarness(this.rules, role, { now: BASE_MS, clock: this.clock as never });
  }

  get peer(): SessionRole {
    return this.role === 'CEM' ? 'RM' : 'CEM';
  }

  nowMs(): number {
    return BASE_MS + this.clock.now();
  }

  protected messageId(): string {
    return uuidFor(`${this.set.short}:${this.role}:message:${++this.seq}`);
  }

  protected freshId(what: string): string {
    return uuidFor(`${this.set.short}:${this.role}:${what}:${++this.seq}`);
  }

  /** Time passes (the harness' `now` follows the SimulatedClock that runs the instruction timers). */
  protected advance(ms: number): void {
    this.h.setNow(this.nowMs() + ms);
    this.clock.increment(ms);
  }

  /** The session's gate for a message the role under test wants to send (S2Session.whyNotNow). */
  protected gate(m: IdentifiedMessage): string | undefined {
    const ctx = this.h.context;
    const why = controlTypeRefusal(this.rules, ctx, m, this.role);
    if (why || m.message_type !== 'InstructionStatusUpdate') return why;
    return statusTransitionRefusal(ctx.instructions.get(m.instruction_id.toLowerCase())?.status, m.status_type);
  }

  /**
   * `sender` sends `m`: received by the actor if the peer sent it, otherwise through the session's
   * gate. Then zero time passes (timers due now run, R43) and the replies must be exactly these.
   */
  protected offer(sender: SessionRole, m: IdentifiedMessage, outcome: Outcome): void {
    expectDecodes(m);
    let expected: Expected[];
    if (sender !== this.role) {
      this.h.send('in', m);
      this.advance(0);
      expected =
        'refused' in outcome ? [refusedMatcher(m, outcome.refused)] : [`accepted ${m.message_type} ${m.message_id}`, ...outcome.notices];
    } else if ('refused' in outcome) {
      const why = this.gate(m);
      expect(why ?? 'allowed', `the session must refuse to send ${m.message_type} (${outcome.refused.join(', ')})`).toMatch(
        new RegExp(naming(outcome.refused)),
      );
      expected = [];
    } else {
      expect(this.gate(m), `the session must let the ${this.role} send ${m.message_type}`).toBeUndefined();
      this.h.send('out', m);
      this.advance(0);
      expected = [...outcome.notices];
    }
    this.expectReplies(`${sender} sent ${m.message_type}`, expected);
  }

  /** Defence in depth: a message the gate refused reaches the actor anyway; it must change nothing and answer nothing. */
  protected sendPastTheGate(m: IdentifiedMessage): void {
    this.h.send('out', m);
    this.advance(0);
    this.expectReplies(`${m.message_type} sent past the session's gate`, []);
  }

  protected takeReplies(): string[] {
    const fresh = this.h.replies.slice(this.cursor);
    this.cursor = this.h.replies.length;
    return fresh.map(describeReply);
  }

  protected expectReplies(what: string, expected: readonly Expected[]): void {
    expect(
      this.takeReplies(),
      `replies of the control type after: ${what} — expected: ${expected.map(sketch).join('; ') || 'none'}`,
    ).toEqual(expected.map((e): unknown => (typeof e === 'string' ? e : expect.stringMatching(e.re))));
  }

  // -- instructions ---------------------------------------------------------------------------

  protected track(message: IdentifiedMessage, spec: InstructionSpec, rejected: boolean): Tracked {
    const t: Tracked = { id: spec.id, message, spec, status: undefined, revoked: false, rejected, acceptedAtMs: undefined, dueSeen: false };
    this.instructions.set(spec.id.toLowerCase(), t);
    return t;
  }

  /** The notices after instruction `m` was accepted: on the RM, the application hears of it (with the rules' verdict, Q14). */
  protected instructionNotices(m: IdentifiedMessage, rejection: readonly string[] | undefined): Expected[] {
    if (this.role !== 'RM') return [];
    const id = (m as { id: string }).id;
    if (!rejection) return [`notice instruction ${id} rejection: none`];
    return [
      {
        re: new RegExp(`^notice instruction ${escape(id)} rejection: ${naming(rejection)}`),
        label: `notice instruction (rejection: ${rejection.join(', ')})`,
      },
    ];
  }

  /** The RM reports `status` for `t`, which R46 allows: the notices that must follow (incl. `due`, R43). */
  protected reportStatus(t: Tracked, status: InstructionStatus): void {
    const notices: Expected[] = [`notice status ${t.id} ${status}`];
    t.status = status;
    if (status === 'ACCEPTED') t.acceptedAtMs = this.nowMs();
    notices.push(...this.dueNotices());
    this.offer('RM', statusUpdate(this.messageId(), t.id, status, this.nowMs()), { notices });
  }

  /**
   * R43: on the RM, an ACCEPTED instruction is due at its execution_time, at once when that has
   * passed — i.e. at max(execution_time, time of ACCEPTED) — and only once; R58: not once the CEM
   * has revoked it (it is no longer valid, the RM is to report REVOKED). The notices due now.
   */
  protected dueNotices(): string[] {
    if (this.role !== 'RM') return [];
    const due: string[] = [];
    for (const t of this.instructions.values()) {
      if (t.status !== 'ACCEPTED' || t.dueSeen || t.revoked || t.acceptedAtMs === undefined) continue;
      if (this.nowMs() >= Math.max(t.spec.executionMs, t.acceptedAtMs)) {
        t.dueSeen = true;
        due.push(`notice due ${t.id}`);
      }
    }
    return due;
  }

  protected revokeInstruction(t: Tracked, outcome: 'accepted' | readonly string[]): void {
    const m = revokeObject(this.messageId(), this.set.instructionType, t.id);
    if (outcome === 'accepted') {
      this.offer('CEM', m, { notices: this.role === 'RM' ? [`notice revoked ${t.id}`] : [] });
      t.revoked = true;
    } else {
      this.offer('CEM', m, { refused: outcome });
    }
  }

  // -- checks ---------------------------------------------------------------------------------

  protected checkCommon(expectedTop: string): void {
    expect(this.takeReplies(), 'replies nobody checked').toEqual([]);
    expect(this.h.state, 'real control-type state').toBe(expectedTop);
    const actual = [...this.h.context.instructions].map(([id, r]) => `${id} ${r.messageType} ${r.status ?? '-'}`).sort();
    const wanted = [...this.instructions.values()].map((t) => `${t.id.toLowerCase()} ${t.message.message_type} ${t.status ?? '-'}`).sort();
    expect(actual, 'instructions the control type knows (R16: refused ones change nothing)').toEqual(wanted);
  }

  abstract step(event: EventObject): void;
  abstract checkState(snapshot: AnyMachineSnapshot): void;

  /** Parameters for TestModel.testPath: every model event runs through `step`. */
  params(model: AnyStateMachine): TestParam<AnyMachineSnapshot, EventObject> {
    const types = new Set([model.root, ...getStateNodes(model.root)].flatMap((n) => [...n.transitions.keys()]));
    const exec = (step: { event: EventObject }) => {
      this.current = { from: this.leaf, event: step.event };
      this.step(step.event);
    };
    return {
      events: Object.fromEntries([...types].map((t) => [t, exec])),
      states: { '*': (state) => this.checkState(state) },
    };
  }

  dispose(): void {
    this.h.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The control-type model

interface LiveDescription {
  readonly n: number;
  readonly message: IdentifiedMessage;
  readonly objectId: string;
}

export class ControlTypeModelRun extends ControlTypeRun {
  /** Description objects sent and not revoked, oldest first (the last one is the latest). */
  private readonly live: LiveDescription[] = [];
  private readonly revokedObjectIds: string[] = [];
  private lastN = 0;
  /** PPBC: containers taken per description (each schedule its own, R103). */
  private readonly slots = new Map<number, number>();

  private spec(n: number, accepted: boolean, id = this.freshId('instruction')): InstructionSpec {
    let slot = 0;
    if (accepted) {
      slot = this.slots.get(n) ?? 0;
      this.slots.set(n, slot + 1);
    }
    // R43: every instruction of this model is due at once (execution_time a minute ago).
    return { id, executionMs: this.nowMs() - MIN, n, slot };
  }

  /** The description instructions and statuses name: the latest one (in force when described). */
  private get latestN(): number {
    return this.live.at(-1)?.n ?? Math.max(this.lastN, 1);
  }

  private open(): Tracked[] {
    return [...this.instructions.values()].filter((t) => !t.status || !FINALS.has(t.status));
  }

  private containers(n: number): Map<number, ContainerState> {
    const states = new Map<number, ContainerState>();
    for (const t of this.instructions.values()) {
      const sequence = (t.message as { power_sequence_id?: string }).power_sequence_id;
      if (t.spec.n !== n || !sequence || t.revoked || t.rejected) continue;
      if (t.status === 'SUCCEEDED') states.set(t.spec.slot, { sequence, status: 'FINISHED' });
      else if (!t.status || !FINALS.has(t.status)) states.set(t.spec.slot, { sequence, status: 'SCHEDULED' });
    }
    return states;
  }

  step(event: EventObject): void {
    const s: CtAbstract = ctAbstractOf(this.leaf);
    const set = this.set;
    switch (event.type as CtEventType) {
      case 'DESCRIBE': {
        const n = ++this.lastN;
        const m = set.describe(this.messageId(), n);
        this.offer('RM', m, { notices: [] });
        this.live.push({ n, message: m, objectId: set.objectIdOf(m) });
        return;
      }
      case 'REVOKE_DESCRIPTION':
      case 'REVOKE_OLDER': {
        const target = event.type === 'REVOKE_OLDER' ? this.live.shift() : this.live.pop();
        if (!target) throw new Error(`driver: ${event.type} without a description`);
        // R4: ids compare case-insensitively, so the RM may name it in upper case.
        this.offer('RM', revokeObject(this.messageId(), set.descriptionType, target.objectId.toUpperCase()), { notices: [] });
        this.revokedObjectIds.push(target.objectId);
        return;
      }
      case 'STATUS': {
        const refusal = s.inForce ? undefined : set.refusals.statusWithoutDescription;
        const m = set.status(this.messageId(), this.latestN, this.containers(this.latestN));
        this.offer('RM', m, refusal?.length ? { refused: refusal } : { notices: [] });
        return;
      }
      case 'STATUS_UNKNOWN': {
        if (!set.statusUnknown) throw new Error(`driver: ${set.short} has no status with references`);
        this.offer('RM', set.statusUnknown(this.messageId(), this.latestN), { refused: set.refusals.statusUnknown });
        return;
      }
      case 'INSTRUCT':
      case 'INSTRUCT_REJECTED': {
        const rejected = event.type === 'INSTRUCT_REJECTED';
        if (!s.inForce) {
          // R39: no instruction before the RM described its flexibility.
          this.offer('CEM', set.instruction(this.messageId(), this.spec(this.latestN, false)), { refused: ['R39'] });
          return;
        }
        const spec = this.spec(this.latestN, true);
        const m = rejected ? set.abnormalOnlyInstruction(this.messageId(), spec) : set.instruction(this.messageId(), spec);
        this.offer('CEM', m, { notices: this.instructionNotices(m, rejected ? ['R50'] : undefined) });
        this.track(m, spec, rejected);
        return;
      }
      case 'INSTRUCT_UNKNOWN':
        this.offer('CEM', set.unknownInstruction(this.messageId(), this.spec(this.latestN, false)), {
          refused: set.refusals.instructionUnknown,
        });
        return;
      case 'INSTRUCT_OLD_REF': {
        const older = this.live[0];
        if (!older || this.live.length !== 2) throw new Error('driver: INSTRUCT_OLD_REF needs two descriptions');
        if (set.kind === 'supersede') {
          // R72: the latest description supersedes the older one; its modes are no longer in force.
          this.offer('CEM', set.instruction(this.messageId(), this.spec(older.n, false)), { refused: set.refusals.instructionSuperseded });
        } else {
          // Q21: PowerConstraints / PowerProfileDefinitions coexist; the older one is still valid.
          const spec = this.spec(older.n, true);
          const m = set.instruction(this.messageId(), spec);
          this.offer('CEM', m, { notices: this.instructionNotices(m, undefined) });
          this.track(m, spec, false);
        }
        return;
      }
      case 'INSTRUCT_REUSED_ID': {
        const earlier = [...this.instructions.values()][0];
        if (!earlier) throw new Error('driver: INSTRUCT_REUSED_ID without an earlier instruction');
        this.offer('CEM', set.instruction(this.messageId(), this.spec(this.latestN, false, earlier.id)), { refused: ['R42'] });
        return;
      }
      case 'REVOKE_INSTRUCTION':
        for (const t of this.open().filter((i) => !i.revoked)) this.revokeInstruction(t, 'accepted');
        return;
      case 'REVOKE_INSTRUCTION_AGAIN': {
        // R54: object_id must name an object "not yet revoked".
        const t = this.open().find((i) => i.revoked);
        if (!t) throw new Error('driver: REVOKE_INSTRUCTION_AGAIN without a revoked instruction');
        this.revokeInstruction(t, ['R54']);
        return;
      }
      case 'REVOKE_INSTRUCTION_FINAL': {
        const t = [...this.instructions.values()].find((i) => i.status && FINALS.has(i.status));
        if (!t) throw new Error('driver: REVOKE_INSTRUCTION_FINAL without a final instruction');
        this.revokeInstruction(t, ['R54']);
        return;
      }
      case 'STATUS_UPDATE':
        // R44: every instruction ends in a final status; R46: through ACCEPTED when it succeeds.
        for (const t of this.open()) {
          if (t.revoked) this.reportStatus(t, 'REVOKED');
          else if (t.rejected && t.status === undefined) this.reportStatus(t, 'REJECTED');
          else {
            if (t.status !== 'ACCEPTED' && t.status !== 'STARTED') this.reportStatus(t, 'ACCEPTED');
            this.reportStatus(t, 'SUCCEEDED');
          }
        }
        return;
      case 'STATUS_UPDATE_ILLEGAL': {
        // A first status if there is none (ACCEPTED; NEW for a revoked instruction, whose due time
        // the instruction model checks), then NEW, which may not follow any status (R46).
        const open = this.open();
        const t = open.find((i) => !i.revoked) ?? open[0];
        if (!t) throw new Error('driver: STATUS_UPDATE_ILLEGAL without an open instruction');
        if (t.status === undefined) this.reportStatus(t, t.revoked ? 'NEW' : 'ACCEPTED');
        this.offer('RM', statusUpdate(this.messageId(), t.id, 'NEW', this.nowMs()), { refused: ['R46'] });
        return;
      }
      case 'STATUS_UPDATE_AFTER_FINAL': {
        const t = [...this.instructions.values()].find((i) => i.status && FINALS.has(i.status));
        if (!t) throw new Error('driver: STATUS_UPDATE_AFTER_FINAL without a final instruction');
        this.offer('RM', statusUpdate(this.messageId(), t.id, 'ABORTED', this.nowMs()), { refused: ['R44', 'R46'] });
        return;
      }
      case 'STATUS_UPDATE_UNKNOWN':
        this.offer('RM', statusUpdate(this.messageId(), this.freshId('never-sent-instruction'), 'ACCEPTED', this.nowMs()), {
          refused: ['R45'],
        });
        return;
      case 'REVOKE_UNKNOWN':
        if (this.peer === 'RM') {
          // The RM revokes a description it never sent, or one already revoked (R54).
          const objectId = this.revokedObjectIds[0] ?? this.freshId('never-sent-description');
          this.offer('RM', revokeObject(this.messageId(), set.descriptionType, objectId), { refused: ['R54'] });
        } else {
          this.offer('CEM', revokeObject(this.messageId(), set.instructionType, this.freshId('never-sent-instruction')), {
            refused: ['R54'],
          });
        }
        return;
      case 'REVOKE_BY_WRONG_ROLE':
        if (this.peer === 'RM') {
          // R55: the RM may not revoke the CEM's instruction.
          const objectId = [...this.instructions.values()][0]?.id ?? this.freshId('instruction');
          this.offer('RM', revokeObject(this.messageId(), set.instructionType, objectId), { refused: ['R55'] });
        } else {
          // R55: the CEM may not revoke the RM's description.
          const objectId = this.live.at(-1)?.objectId ?? this.freshId('description');
          this.offer('CEM', revokeObject(this.messageId(), set.descriptionType, objectId), { refused: ['R55'] });
        }
        return;
      case 'REVOKE_OTHER_TYPE':
        // R57: only objects of the active control type.
        this.offer(this.peer, revokeObject(this.messageId(), set.foreignType, this.freshId('foreign-object')), { refused: ['R57'] });
        return;
      default:
        throw new Error(`driver: no mapping for model event ${event.type}`);
    }
  }

  checkState(snapshot: AnyMachineSnapshot): void {
    const leaf = leafOf(snapshot);
    const s = ctAbstractOf(leaf);
    this.checkCommon(ctTop(s));
    // The model's description facts against the real knowledge: what is live is revocable, what
    // was revoked is not (R54, R58).
    const { knowledge } = this.h.context;
    expect(this.live.length, 'description objects live (model vs driver)').toBe(s.live);
    for (const d of this.live)
      expect(this.rules.hasObject(knowledge, this.set.descriptionType, d.objectId), `description ${d.n} is known (R54)`).toBe(true);
    for (const id of this.revokedObjectIds)
      expect(this.rules.hasObject(knowledge, this.set.descriptionType, id), `revoked ${id} is gone (R58)`).toBe(false);
    // The model's instruction facts against the real records.
    const records = [...this.h.context.instructions.values()];
    const open = records.filter((r) => !r.status || !FINALS.has(r.status)).length;
    const real = records.length === 0 ? 'uninstructed' : open === 0 ? 'final' : 'open or revoked';
    expect(real, 'instructions of the activation (model vs real)').toBe(
      s.ins === 'open' || s.ins === 'revoked' ? 'open or revoked' : s.ins,
    );
    const revokedPending = this.open().filter((t) => t.revoked).length;
    expect(
      s.ins === 'revoked' ? revokedPending === open : s.ins !== 'open' || revokedPending < open,
      'open instructions all revoked iff the model says `revoked`',
    ).toBe(true);
    this.leaf = leaf;
  }
}

// ---------------------------------------------------------------------------------------------
// The instruction model

/** Drives the instruction model; the control type (its messages) is chosen per path. */
export class InstructionModelRun extends ControlTypeRun {
  private instruction: Tracked | undefined;
  /** The latest snapshot of the real instruction actor (seen through the inspection API). */
  private snapshot: { value: unknown; status: string } | undefined;
  private readonly unlisten: () => void;

  constructor(set: ControlTypeMessageSet, role: SessionRole) {
    super(set, role);
    this.unlisten = addInspectionListener((e) => {
      // Instruction actors are named by a reused slot (`instruction:<n>`); the instruction's id is in their context.
      const actor = e.actorRef as { id?: string } | undefined;
      const snapshot =
        e.type === '@xstate.snapshot'
          ? (e.snapshot as { value: unknown; status: string; context?: { instructionId?: unknown } })
          : undefined;
      if (
        snapshot &&
        this.instruction &&
        actor?.id?.startsWith('instruction:') &&
        snapshot.context?.instructionId === this.instruction.id
      ) {
        this.snapshot = snapshot;
      }
    });
  }

  private get t(): Tracked {
    if (!this.instruction) throw new Error('driver: no instruction yet');
    return this.instruction;
  }

  /** The model's initial state `received.early.valid`: the RM described, the CEM instructed (execution in 1 h). */
  private setUp(): void {
    const description = this.set.describe(this.messageId(), 1);
    this.offer('RM', description, { notices: [] });
    const spec: InstructionSpec = { id: this.freshId('instruction'), executionMs: this.nowMs() + HOUR, n: 1, slot: 0 };
    const m = this.set.instruction(this.messageId(), spec);
    // The probe must know the id before the actor starts.
    this.instruction = {
      id: spec.id,
      message: m,
      spec,
      status: undefined,
      revoked: false,
      rejected: false,
      acceptedAtMs: undefined,
      dueSeen: false,
    };
    this.offer('CEM', m, { notices: this.instructionNotices(m, undefined) });
    this.instructions.set(spec.id.toLowerCase(), this.instruction);
  }

  step(event: EventObject): void {
    const { status: from, revoked } = instructionAbstractOf(this.leaf);
    const t = this.t;
    switch (event.type) {
      case 'STATUS': {
        const to = (event as unknown as { status: InstructionStatus }).status;
        if (R46_NEXT[from].includes(to)) {
          this.reportStatus(t, to);
        } else if (from !== 'received' && FINALS.has(from)) {
          this.offer('RM', statusUpdate(this.messageId(), t.id, to, this.nowMs()), { refused: ['R44', 'R46'] });
        } else {
          const m = statusUpdate(this.messageId(), t.id, to, this.nowMs());
          this.offer('RM', m, { refused: ['R46'] });
          if (this.role === 'RM') this.sendPastTheGate(m);
        }
        return;
      }
      case 'REVOKE':
        // R54: only an instruction neither final nor revoked already.
        this.revokeInstruction(t, revoked || (from !== 'received' && FINALS.has(from)) ? ['R54'] : 'accepted');
        return;
      case 'WAIT':
      case 'LATER':
        this.advance(30 * MIN);
        this.expectReplies(`${event.type}: 30 minutes passed`, this.dueNotices());
        return;
      case 'EXECUTION_TIME':
        this.advance(t.spec.executionMs - this.nowMs());
        this.expectReplies('execution_time came', this.dueNotices());
        return;
      default:
        throw new Error(`driver: no mapping for model event ${event.type}`);
    }
  }

  checkState(snapshot: AnyMachineSnapshot): void {
    const leaf = leafOf(snapshot);
    if (this.leaf === '') this.setUp();
    this.checkCommon('described');
    const { status } = instructionAbstractOf(leaf);
    expect(this.snapshot?.value, 'real instruction state').toBe(status);
    expect(this.snapshot?.status, 'real instruction actor status').toBe(status !== 'received' && FINALS.has(status) ? 'done' : 'active');
    this.leaf = leaf;
  }

  override dispose(): void {
    this.unlisten();
    super.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Rule tags and known bugs

const CT_EVENT_TAGS: Record<CtEventType, readonly string[]> = {
  DESCRIBE: ['R39'],
  REVOKE_DESCRIPTION: ['R4', 'R54', 'R56', 'R58'],
  REVOKE_OLDER: ['R54', 'R56'],
  STATUS: ['R39'],
  STATUS_UNKNOWN: ['R16'],
  INSTRUCT: ['R39', 'R43'],
  INSTRUCT_REJECTED: ['R48', 'R50', 'Q14'],
  INSTRUCT_UNKNOWN: ['R16', 'R49'],
  INSTRUCT_OLD_REF: [],
  INSTRUCT_REUSED_ID: ['R42'],
  REVOKE_INSTRUCTION: ['R55', 'R58'],
  REVOKE_INSTRUCTION_AGAIN: ['R54'],
  REVOKE_INSTRUCTION_FINAL: ['R54'],
  STATUS_UPDATE: ['R44', 'R45', 'R46'],
  STATUS_UPDATE_ILLEGAL: ['R46'],
  STATUS_UPDATE_AFTER_FINAL: ['R44', 'R46'],
  STATUS_UPDATE_UNKNOWN: ['R45'],
  REVOKE_UNKNOWN: ['R54'],
  REVOKE_BY_WRONG_ROLE: ['R55'],
  REVOKE_OTHER_TYPE: ['R57'],
};

function tagOrder(tag: string): number {
  return (tag.startsWith('R') ? 0 : 1000) + Number(tag.slice(1));
}
const bracket = (tags: Iterable<string>): string => `[${[...new Set(tags)].sort((a, b) => tagOrder(a) - tagOrder(b)).join(', ')}]`;

/** The rules a control-type path checks. */
export function ctTagsOf(set: ControlTypeMessageSet, role: SessionRole, path: ModelPath): string {
  const tags = new Set<string>(['R16']);
  for (const step of path.steps.slice(1)) {
    const type = step.event.type as CtEventType;
    for (const tag of CT_EVENT_TAGS[type] ?? []) tags.add(tag);
    if (['STATUS', 'STATUS_UNKNOWN', 'INSTRUCT', 'INSTRUCT_UNKNOWN', 'INSTRUCT_OLD_REF'].includes(type))
      for (const tag of set.referenceTags) tags.add(tag);
    if (type === 'INSTRUCT_OLD_REF' || (type === 'DESCRIBE' && ctAbstractOf(leafOf(step.state)).live === 2))
      tags.add(set.kind === 'supersede' ? 'R72' : 'Q21');
    if (type === 'STATUS_UPDATE' && role === 'RM') tags.add('R43');
  }
  return bracket(tags);
}

/** The rules an instruction path checks. */
export function instructionTagsOf(role: SessionRole, path: ModelPath): string {
  const tags = new Set<string>(['R45', 'R46']);
  for (let i = 1; i < path.steps.length; i++) {
    const step = path.steps[i]!;
    const from = instructionAbstractOf(leafOf(path.steps[i - 1]!.state)).status;
    if (step.event.type === 'REVOKE') ['R54', 'R55', 'R58'].forEach((t) => tags.add(t));
    if (step.event.type === 'EXECUTION_TIME' && role === 'RM' && leafOf(path.steps[i - 1]!.state).endsWith('.revoked')) tags.add('R58');
    if (
      step.event.type === 'STATUS' &&
      (FINALS.has(from as InstructionStatus) || FINALS.has((step.event as unknown as { status: InstructionStatus }).status))
    )
      tags.add('R44');
    if (['WAIT', 'EXECUTION_TIME', 'LATER'].includes(step.event.type) && role === 'RM') tags.add('R43');
  }
  return bracket(tags);
}

// The bugs these paths found (BUG-CT-1: a second revocation accepted; BUG-INSTR-1: due time
// measured from receipt; BUG-INSTR-2: due after a revocation) are fixed in src. A new one is
// listed here (id, the step that hits it, its symptom) so that its paths run as it.fails.
const CT_KNOWN_BUGS: readonly KnownBug[] = [];
const INSTRUCTION_KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bugs a control-type path runs into (any step REVOKE_INSTRUCTION_AGAIN). */
export function ctBugsOf(path: ModelPath): KnownBug[] {
  return bugsOf(CT_KNOWN_BUGS, path);
}

/** The known bugs an instruction path runs into. */
export function instructionBugsOf(_role: SessionRole, path: ModelPath): KnownBug[] {
  return bugsOf(INSTRUCTION_KNOWN_BUGS, path);
}
