/**
 * TEST MODELS of the control-type activation statechart (src/machines/control-type.ts) and of the
 * instruction statechart (src/machines/instruction.ts): small XState machines without invoke/after
 * whose top-level states mirror the real states, and whose nested states hold the facts the real
 * machines keep in their context (which descriptions exist, whether instructions are open, how
 * far time has moved). The drivers (control-type-drivers.ts) say which S2 message each event is and
 * what the real actor must answer.
 *
 * Control-type model — leaf `<real state>.<descriptions>.<instructions>`:
 * - real state: `awaitingDescription` | `described` (R39: whether the CEM may instruct);
 * - descriptions: `none`; `one` / `two` description objects in force; `superseded` (FRBC, OMBC,
 *   DDBC only: a superseded description that was never revoked while the one in force was — it is
 *   still revocable, R54/Q10, but nothing is in force, R58/R72). At most two are modelled.
 * - instructions: `uninstructed` (none yet), `open` (some not final), `revoked` (every open one has
 *   been revoked and awaits the RM's REVOKED), `final` (all final).
 * Whether a second description supersedes the first (FRBC/OMBC/DDBC, R72) or coexists with it
 * (PEBC/PPBC, Q21) is the model's `kind`; a type without status references (PEBC) has no
 * STATUS_UNKNOWN event.
 *
 * Instruction model — leaf `<status>.<phase>.<valid|revoked>` while the instruction is not final
 * (`revoked`: the CEM's RevokeObject was accepted, the RM has not reported REVOKED yet), `<final
 * status>` after: `received` (no status yet), NEW, ACCEPTED, STARTED × `early` (nothing happened in time
 * since it was sent), `waited` (time passed, execution_time not reached), `late` (execution_time
 * passed), plus `ACCEPTED.acceptedAfterWait` (ACCEPTED reported after time had passed: the RM-side
 * due time must not depend on it, R43); SUCCEEDED, ABORTED, REJECTED, REVOKED. Statuses follow the R46 table (docs/rules.md#R46)
 * (written out here, not taken from src), with STARTED → REVOKED allowed (Q13 decision).
 */
import { createMachine, type AnyStateMachine, type EventObject } from 'xstate';
import type { InstructionStatus } from '../../src/typebox/common/enums.js';
import type { DescriptionKind } from '../support/control-type-messages.js';

// ---------------------------------------------------------------------------------------------
// Control-type model

export const CT_EVENTS = [
  'DESCRIBE', // the RM describes its flexibility (a new description object, R39, R72, Q21)
  'REVOKE_DESCRIPTION', // the RM revokes the latest description (R54, R56, R58)
  'REVOKE_OLDER', // the RM revokes the older of two / the superseded description
  'STATUS', // the RM reports a status naming the description in force (PEBC: an EnergyConstraint)
  'STATUS_UNKNOWN', // … naming a mode / container the description lacks (R62, R105)
  'INSTRUCT', // the CEM instructs against the description in force (execution_time past, R43)
  'INSTRUCT_REJECTED', // … well referenced but abnormal-only (R50: OK, then REJECTED)
  'INSTRUCT_UNKNOWN', // … naming an unknown mode / constraints / sequence (R75, R84, R87, R96, R102)
  'INSTRUCT_OLD_REF', // … naming the older of two descriptions (R72: refused / Q21: accepted)
  'INSTRUCT_REUSED_ID', // … with the id of an earlier instruction (R42)
  'REVOKE_INSTRUCTION', // the CEM revokes its open instructions (R55, R58)
  'REVOKE_INSTRUCTION_AGAIN', // … revokes an instruction it already revoked (R54: not yet revoked)
  'REVOKE_INSTRUCTION_FINAL', // … revokes a final instruction (R54)
  'STATUS_UPDATE', // the RM reports every open instruction to a final status (R44, R46)
  'STATUS_UPDATE_ILLEGAL', // … ACCEPTED, then NEW again (R46)
  'STATUS_UPDATE_AFTER_FINAL', // … a status for a final instruction (R44, R46)
  'STATUS_UPDATE_UNKNOWN', // … a status for an instruction never sent (R45)
  'REVOKE_UNKNOWN', // the peer revokes an object that does not exist (any more) (R54)
  'REVOKE_BY_WRONG_ROLE', // the peer revokes an object of ours (R55)
  'REVOKE_OTHER_TYPE', // the peer revokes an object of another control type (R57)
] as const;
export type CtEventType = (typeof CT_EVENTS)[number];

export type CtInstructions = 'uninstructed' | 'open' | 'revoked' | 'final';
export interface CtAbstract {
  /** Description objects sent and not revoked (0–2). */
  readonly live: 0 | 1 | 2;
  /** Whether one of them is in force (the real machine's `described`). */
  readonly inForce: boolean;
  readonly ins: CtInstructions;
}

export interface CtModelOptions {
  readonly kind: DescriptionKind;
  /** Whether statuses can name unknown things (not PEBC). */
  readonly statusReferences: boolean;
}

const withIns = (s: CtAbstract, ins: CtInstructions): CtAbstract => ({ ...s, ins });
const afterInstruction = (s: CtAbstract): CtAbstract => withIns(s, 'open');

/** The model's transition function: the next abstract state, or undefined where the event is not modelled. */
export function ctStep(o: CtModelOptions, s: CtAbstract, event: CtEventType): CtAbstract | undefined {
  const supersede = o.kind === 'supersede';
  switch (event) {
    case 'DESCRIBE':
      return s.live < 2 ? { ...s, live: (s.live + 1) as 1 | 2, inForce: true } : undefined;
    case 'REVOKE_DESCRIPTION': {
      if (!s.inForce) return undefined;
      const live = (s.live - 1) as 0 | 1;
      // R58, R72: revoking the description in force leaves none in force (no fallback to a
      // superseded one); coexisting PEBC/PPBC objects stay valid (Q21).
      return { ...s, live, inForce: supersede ? false : live > 0 };
    }
    case 'REVOKE_OLDER':
      if (s.live === 2) return { ...s, live: 1 };
      if (supersede && s.live === 1 && !s.inForce) return { ...s, live: 0 };
      return undefined;
    case 'STATUS':
    case 'STATUS_UPDATE_UNKNOWN':
    case 'REVOKE_UNKNOWN':
    case 'REVOKE_BY_WRONG_ROLE':
    case 'REVOKE_OTHER_TYPE':
      return s;
    case 'STATUS_UNKNOWN':
      return o.statusReferences && s.inForce ? s : undefined;
    case 'INSTRUCT':
      return s.inForce ? afterInstruction(s) : s; // refused before any description (R39)
    case 'INSTRUCT_REJECTED':
      return s.inForce ? afterInstruction(s) : undefined;
    case 'INSTRUCT_UNKNOWN':
      return s.inForce ? s : undefined;
    case 'INSTRUCT_OLD_REF':
      if (!(s.inForce && s.live === 2)) return undefined;
      return supersede ? s : afterInstruction(s);
    case 'INSTRUCT_REUSED_ID':
      return s.inForce && s.ins !== 'uninstructed' ? s : undefined;
    case 'REVOKE_INSTRUCTION':
      return s.ins === 'open' ? withIns(s, 'revoked') : undefined;
    case 'REVOKE_INSTRUCTION_AGAIN':
      return s.ins === 'revoked' ? s : undefined;
    case 'REVOKE_INSTRUCTION_FINAL':
    case 'STATUS_UPDATE_AFTER_FINAL':
      return s.ins === 'final' ? s : undefined;
    case 'STATUS_UPDATE':
      return s.ins === 'open' || s.ins === 'revoked' ? withIns(s, 'final') : undefined;
    case 'STATUS_UPDATE_ILLEGAL':
      return s.ins === 'open' || s.ins === 'revoked' ? s : undefined;
  }
}

export const ctTop = (s: CtAbstract): 'described' | 'awaitingDescription' => (s.inForce ? 'described' : 'awaitingDescription');
function ctDescriptions(s: CtAbstract): string {
  if (s.live === 0) return 'none';
  if (!s.inForce) return 'superseded';
  return s.live === 1 ? 'one' : 'two';
}
export const ctLeaf = (s: CtAbstract): string => `${ctTop(s)}.${ctDescriptions(s)}.${s.ins}`;

/** The abstract state of a model leaf (inverse of {@link ctLeaf}). */
export function ctAbstractOf(leaf: string): CtAbstract {
  const [top, descriptions, ins] = leaf.split('.') as [string, string, CtInstructions];
  const live = descriptions === 'none' ? 0 : descriptions === 'two' ? 2 : 1;
  return { live, inForce: top === 'described', ins };
}

export const CT_MODEL_ID = 'ctModel';
const CT_INITIAL: CtAbstract = { live: 0, inForce: false, ins: 'uninstructed' };

/** A targetless transition needs an action, or xstate/graph does not explore it (see session-models.ts). */
const stay = (): void => {};
const STAY = { actions: stay };

interface NodeConfig {
  initial?: string;
  on?: Record<string, unknown>;
  states?: Record<string, NodeConfig>;
}

/** Builds a nested model machine from leaf paths (`a.b.c`) and their transitions. */
function nestedMachine(id: string, initialLeaf: string, leaves: ReadonlyMap<string, Record<string, unknown>>): AnyStateMachine {
  const root: NodeConfig = { states: {} };
  for (const [leaf, on] of leaves) {
    let node = root;
    for (const part of leaf.split('.')) {
      node.states ??= {};
      node = node.states[part] ??= {};
    }
    node.on = on;
  }
  // Initial children: along the initial leaf where it passes, otherwise the first child.
  const initialParts = initialLeaf.split('.');
  const setInitial = (node: NodeConfig, depth: number, onInitialPath: boolean): void => {
    if (!node.states) return;
    const keys = Object.keys(node.states);
    const want = onInitialPath ? initialParts[depth] : undefined;
    node.initial = want !== undefined && keys.includes(want) ? want : keys[0]!;
    for (const [key, child] of Object.entries(node.states)) setInitial(child, depth + 1, onInitialPath && key === node.initial);
  };
  setInitial(root, 0, true);
  return createMachine({ id, ...root } as Parameters<typeof createMachine>[0]);
}

/** The control-type test model of one control type (same for both roles: only the directions differ). */
export function createControlTypeModel(o: CtModelOptions): AnyStateMachine {
  const leaves = new Map<string, Record<string, unknown>>();
  const queue: CtAbstract[] = [CT_INITIAL];
  const seen = new Set([ctLeaf(CT_INITIAL)]);
  while (queue.length) {
    const s = queue.shift()!;
    const on: Record<string, unknown> = {};
    for (const event of CT_EVENTS) {
      const next = ctStep(o, s, event);
      if (!next) continue;
      const leaf = ctLeaf(next);
      on[event] = leaf === ctLeaf(s) ? STAY : `#${CT_MODEL_ID}.${leaf}`;
      if (!seen.has(leaf)) {
        seen.add(leaf);
        queue.push(next);
      }
    }
    leaves.set(ctLeaf(s), on);
  }
  return nestedMachine(CT_MODEL_ID, ctLeaf(CT_INITIAL), leaves);
}

// ---------------------------------------------------------------------------------------------
// Instruction model

export const STATUSES: readonly InstructionStatus[] = ['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'];
export const FINALS: ReadonlySet<InstructionStatus> = new Set<InstructionStatus>(['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED']);
/**
 * Where time stands for a non-final instruction: `early` (nothing happened in time since it was
 * sent), `waited` (time passed, execution_time not reached), `late` (execution_time passed);
 * `acceptedAfterWait` is `waited` for an instruction whose ACCEPTED came after time had passed (R43:
 * it is then due at execution_time all the same).
 */
export type Phase = 'early' | 'waited' | 'late' | 'acceptedAfterWait';
const PHASES: readonly Phase[] = ['early', 'waited', 'late'];
export type InstructionModelStatus = 'received' | InstructionStatus;

/**
 * R46 (docs/rules.md#R46): which status may follow which. Forward skips allowed, REJECTED
 * only before ACCEPTED, REVOKED before any final status (STARTED → REVOKED: Q13 decision).
 */
export const R46_NEXT: Readonly<Record<InstructionModelStatus, readonly InstructionStatus[]>> = {
  received: ['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  NEW: ['ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  ACCEPTED: ['STARTED', 'SUCCEEDED', 'ABORTED', 'REVOKED'],
  STARTED: ['SUCCEEDED', 'ABORTED', 'REVOKED'],
  SUCCEEDED: [],
  ABORTED: [],
  REJECTED: [],
  REVOKED: [],
};

export type InstructionEventType = 'STATUS' | 'REVOKE' | 'WAIT' | 'EXECUTION_TIME' | 'LATER';
export const INSTRUCTION_MODEL_ID = 'instructionModel';

/** The parameterised events of the instruction model: one STATUS per status. */
export const instructionModelEvents = (): EventObject[] => STATUSES.map((status) => ({ type: 'STATUS', status }));

/** `ACCEPTED.waited.revoked` → { status: 'ACCEPTED', phase: 'waited', revoked: true }; finals have no phase. */
export function instructionAbstractOf(leaf: string): {
  readonly status: InstructionModelStatus;
  readonly phase: Phase | undefined;
  readonly revoked: boolean;
} {
  const [status, phase, revocation] = leaf.split('.') as [InstructionModelStatus, Phase | undefined, string | undefined];
  return { status, phase, revoked: revocation === 'revoked' };
}

export function createInstructionModel(): AnyStateMachine {
  const t = (leaf: string) => `#${INSTRUCTION_MODEL_ID}.${leaf}`;
  const leaves = new Map<string, Record<string, unknown>>();
  const open: InstructionModelStatus[] = ['received', 'NEW', 'ACCEPTED', 'STARTED'];
  const phasesOf = (status: InstructionModelStatus): readonly Phase[] =>
    status === 'ACCEPTED' ? [...PHASES, 'acceptedAfterWait'] : PHASES;
  for (const status of open) {
    for (const phase of phasesOf(status)) {
      for (const revocation of ['valid', 'revoked'] as const) {
        // Where the clock is: `acceptedAfterWait` is a `waited` phase (it only remembers when ACCEPTED came).
        const clock: Phase = phase === 'acceptedAfterWait' ? 'waited' : phase;
        const targetOf = (to: InstructionStatus): string => {
          if (FINALS.has(to)) return to;
          return `${to === 'ACCEPTED' && clock === 'waited' ? 'ACCEPTED.acceptedAfterWait' : `${to}.${clock}`}.${revocation}`;
        };
        const STATUS = STATUSES.map((to) => ({
          guard: ({ event }: { event: EventObject }) => (event as { status?: string }).status === to,
          ...(R46_NEXT[status].includes(to) ? { target: t(targetOf(to)) } : STAY),
        }));
        const same = (p: Phase) => t(`${status}.${p}.${revocation}`);
        const time: Record<string, unknown> =
          clock === 'early'
            ? { WAIT: same('waited'), EXECUTION_TIME: same('late') }
            : clock === 'waited'
              ? { EXECUTION_TIME: same('late') }
              : { LATER: STAY };
        // The CEM revokes: the instruction's status does not change until the RM reports REVOKED (R58).
        const REVOKE = revocation === 'valid' ? t(`${status}.${phase}.revoked`) : STAY;
        leaves.set(`${status}.${phase}.${revocation}`, { STATUS, REVOKE, ...time });
      }
    }
  }
  for (const final of FINALS) leaves.set(final, { STATUS: STAY, REVOKE: STAY, LATER: STAY });
  return nestedMachine(INSTRUCTION_MODEL_ID, 'received.early.valid', leaves);
}
