import type { Transition } from '../../typebox/common/operation-mode.js';
import type { FRBCOperationMode, FRBCSystemDescription } from '../../typebox/frbc/system-description.js';
import type { IdentifiedMessage, MessageOf } from '../../typebox/registry.js';
import { emptyMap, emptySet, shareEmpty } from './shared-empty.js';
import type { ControlTypeRules } from './types.js';

/**
 * FRBC (docs/rules.md#operation-modes, #frbc): what a session knows of the RM's fill-rate-based flexibility and
 * how FRBC statuses and instructions are judged against it. Wire quirk: FRBC.Instruction names its
 * mode `operation_mode` (not `operation_mode_id`).
 *
 * Refused (INVALID_CONTENT, R15/R16/R49, Q14) — the message names something the description in
 * force does not have, so it cannot be understood and must change nothing:
 * - R75 FRBC.Instruction: actuator_id is an actuator, operation_mode one of ITS modes.
 * - R62 FRBC.ActuatorStatus: actuator known, active_operation_mode_id one of its modes;
 *   previous_operation_mode_id a mode of that actuator in ANY description of this activation (a
 *   re-description, R72, or a revocation may drop the very mode the actuator just left).
 * - R71 FRBC.TimerStatus: actuator known, timer_id one of its timers.
 * - R39/R73 FRBC.StorageStatus, LeakageBehaviour, UsageForecast, FillLevelTargetProfile while no
 *   description is in force: they describe "the storage", and no storage is described.
 * Left to the RM's OK + REJECTED (`rejection`, Q14, R48) — the references hold, the instruction just
 * cannot be carried out as asked:
 * - R50 an abnormal_condition_only mode, or only abnormal-only transitions, without abnormal_condition.
 * - R63 no Transition from the actuator's active mode (latest FRBC.ActuatorStatus) to the one asked;
 *   the same mode with another factor needs none. No status known yet ⇒ no judgement, no rejection.
 * - R64 every such transition has a blocking timer whose finished_at (latest FRBC.TimerStatus) is
 *   after the instruction's execution_time. A timer without TimerStatus counts as finished (R71).
 * Accepted on purpose:
 * - R74 (SHOULD, inferred) a LeakageBehaviour / UsageForecast / FillLevelTargetProfile although the
 *   storage's provides_* flag is false. It contradicts a declared capability but names nothing
 *   unknown; `refusal` is about references, and refusing (R16) would only throw away data the CEM
 *   can use. Same choice as DDBC's R86. (A warning channel in ControlTypeRules would suit it best.)
 *
 * R72 / R58 / R54: the description received last is in force at once (the rules get no clock, so
 * a future valid_from cannot be honoured). A superseded description is no longer valid — revoking the
 * one in force leaves NONE in force (awaitingDescription) rather than reviving an older, stale one —
 * but it stays revocable by its message_id (Q10) until revoked, since it was sent and not revoked.
 * Ids are compared case-insensitively (R4): every key below is lowercased.
 */

type ActuatorStatus = MessageOf<'FRBC.ActuatorStatus'>;

/** An actuator of the description in force, indexed for reference checks. */
interface Actuator {
  readonly modes: ReadonlyMap<string, FRBCOperationMode>;
  readonly timers: ReadonlySet<string>;
  readonly transitions: readonly Transition[];
}

export interface FrbcKnowledge {
  /** Lowercased message_ids of every FRBC.SystemDescription received and not revoked (R54, R56, Q10). */
  readonly sent: ReadonlySet<string>;
  /** The description in force: the latest received, unless it was revoked (R72, R58). */
  readonly current: FRBCSystemDescription | undefined;
  /** The actuators of `current`, by lowercased id. */
  readonly actuators: ReadonlyMap<string, Actuator>;
  /**
   * Every mode id each actuator had in a description no longer in force (superseded or revoked).
   * With the modes of `actuators` these are all the modes it ever had, for previous_operation_mode_id
   * (R62). The modes in force are not copied here: a session with one description keeps no second
   * index of them (bench/RESULTS.md §5.6).
   */
  readonly pastModes: ReadonlyMap<string, ReadonlySet<string>>;
  /** The latest FRBC.ActuatorStatus per actuator (R59, R60): the active mode R63 starts from. */
  readonly statuses: ReadonlyMap<string, ActuatorStatus>;
  /** The latest finished_at (ms since the epoch) per actuator, then timer (R71), for R64. */
  readonly timers: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

const key = (id: string): string => id.toLowerCase();

/**
 * The knowledge with `current` in force. Statuses and timers naming actuators, modes or timers it
 * lacks are dropped: they cannot describe the present (R62, R71), and a vanished "active mode" would
 * make R63 reject every instruction for that actuator. Surviving ones are kept: an RM re-describing
 * need not re-report an unchanged state (R81 asks for statuses on change).
 */
function inForce(k: FrbcKnowledge, current: FRBCSystemDescription | undefined): FrbcKnowledge {
  const actuators = new Map<string, Actuator>();
  for (const a of current?.actuators ?? []) {
    const modes = new Map(a.operation_modes.map((m) => [key(m.id), m]));
    actuators.set(key(a.id), { modes, timers: new Set(a.timers.map((t) => key(t.id))), transitions: a.transitions });
  }
  // The description leaving force hands its modes to pastModes.
  let pastModes = k.pastModes;
  if (k.actuators.size > 0) {
    const past = new Map(pastModes);
    for (const [id, a] of k.actuators) past.set(id, new Set([...(past.get(id) ?? []), ...a.modes.keys()]));
    pastModes = past;
  }
  const statuses = new Map([...k.statuses].filter(([a, s]) => actuators.get(a)?.modes.has(key(s.active_operation_mode_id))));
  const timers = new Map<string, ReadonlyMap<string, number>>();
  for (const [a, byTimer] of k.timers) {
    const actuator = actuators.get(a);
    if (actuator) timers.set(a, new Map([...byTimer].filter(([t]) => actuator.timers.has(t))));
  }
  return { ...k, current, actuators: shareEmpty(actuators), pastModes, statuses: shareEmpty(statuses), timers: shareEmpty(timers) };
}

/** What an activation knows before any FRBC message: one frozen value for all (copy-on-write). */
const EMPTY: FrbcKnowledge = Object.freeze({
  sent: emptySet<string>(),
  current: undefined,
  actuators: emptyMap<string, Actuator>(),
  pastModes: emptyMap<string, ReadonlySet<string>>(),
  statuses: emptyMap<string, ActuatorStatus>(),
  timers: emptyMap<string, ReadonlyMap<string, number>>(),
});

/** R39 + R62 / R71 / R75: the actuator exists in the description in force and has that mode. */
function actuatorRefusal(k: FrbcKnowledge, actuatorId: string, modeId: string | undefined, rule: string): string | undefined {
  if (!k.current) return `no FRBC.SystemDescription is in force (R39, ${rule})`;
  const actuator = k.actuators.get(key(actuatorId));
  if (!actuator) return `unknown actuator_id ${actuatorId}: not an actuator of the current FRBC.SystemDescription (${rule}, R72)`;
  if (modeId !== undefined && !actuator.modes.has(key(modeId)))
    return `unknown operation mode ${modeId}: not a mode of actuator ${actuatorId} (${rule})`;
  return undefined;
}

/**
 * RM side: why a well-referenced FRBC.Instruction cannot be carried out as asked (REJECTED), or
 * undefined. R64 is judged at execution_time, or at `nowMs` when that is later (R43: a past
 * execution_time means "at once"). The statechart passes the session clock.
 */
export function frbcRejection(k: FrbcKnowledge, m: IdentifiedMessage, nowMs?: number): string | undefined {
  if (m.message_type !== 'FRBC.Instruction') return undefined;
  const actuator = k.actuators.get(key(m.actuator_id));
  const target = key(m.operation_mode);
  const mode = actuator?.modes.get(target);
  if (!actuator || !mode) return undefined; // unknown references are refusal's (R75)
  // R50: the CEM must declare the abnormal condition to use an abnormal-only mode.
  if (mode.abnormal_condition_only && !m.abnormal_condition)
    return `operation mode ${m.operation_mode} is for abnormal conditions only and abnormal_condition is false (R50)`;
  // R63: only from a known active mode can a missing transition be told.
  const active = k.statuses.get(key(m.actuator_id))?.active_operation_mode_id;
  if (active === undefined || key(active) === target) return undefined;
  const candidates = actuator.transitions.filter((t) => key(t.from) === key(active) && key(t.to) === target);
  if (candidates.length === 0)
    return `actuator ${m.actuator_id} has no transition from its active mode ${active} to ${m.operation_mode} (R63)`;
  const usable = candidates.filter((t) => !t.abnormal_condition_only || m.abnormal_condition);
  if (usable.length === 0)
    return `every transition from ${active} to ${m.operation_mode} is for abnormal conditions only and abnormal_condition is false (R50, R63)`;
  // R64: a transition may start only when none of its blocking timers runs; any one free transition will do.
  const at = Math.max(Date.parse(m.execution_time), nowMs ?? -Infinity);
  const finished = k.timers.get(key(m.actuator_id));
  let blocked: string | undefined;
  for (const t of usable) {
    const running = t.blocking_timers.find((timer) => (finished?.get(key(timer)) ?? -Infinity) > at);
    if (running === undefined) return undefined;
    blocked ??= `transition ${t.id} from ${active} to ${m.operation_mode} is blocked by timer ${running} until ${new Date(finished!.get(key(running))!).toISOString()} (R64)`;
  }
  return blocked;
}

/** FRBC: descriptions by message_id (Q10), the description in force, latest actuator and timer statuses. */
export const frbcRules: ControlTypeRules<FrbcKnowledge> = {
  area: 'FRBC',
  descriptions: new Set(['FRBC.SystemDescription']),
  instructions: new Set(['FRBC.Instruction']),
  // Shared by every activation (bench/RESULTS.md §5.6 B): `learn` and `revoke` never write into k.
  empty: () => EMPTY,
  described: (k) => k.current !== undefined,
  refusal(k, m) {
    switch (m.message_type) {
      case 'FRBC.Instruction':
        return actuatorRefusal(k, m.actuator_id, m.operation_mode, 'R75');
      case 'FRBC.ActuatorStatus': {
        const previous = m.previous_operation_mode_id;
        const why = actuatorRefusal(k, m.actuator_id, m.active_operation_mode_id, 'R62');
        if (why || previous === undefined) return why;
        const a = key(m.actuator_id);
        if (k.actuators.get(a)!.modes.has(key(previous)) || k.pastModes.get(a)?.has(key(previous))) return undefined;
        return `unknown previous_operation_mode_id ${previous}: actuator ${m.actuator_id} had no such mode in any FRBC.SystemDescription (R62)`;
      }
      case 'FRBC.TimerStatus':
        return (
          actuatorRefusal(k, m.actuator_id, undefined, 'R71') ??
          (k.actuators.get(key(m.actuator_id))!.timers.has(key(m.timer_id))
            ? undefined
            : `unknown timer ${m.timer_id}: not a timer of actuator ${m.actuator_id} (R71)`)
        );
      case 'FRBC.StorageStatus':
      case 'FRBC.LeakageBehaviour':
      case 'FRBC.UsageForecast':
      case 'FRBC.FillLevelTargetProfile':
        // They describe the storage of the description in force; R74's provides_* flags are not enforced (see header).
        return k.current ? undefined : `${m.message_type} while no FRBC.SystemDescription is in force: no storage is described (R39, R73)`;
      default:
        return undefined;
    }
  },
  learn(k, m) {
    switch (m.message_type) {
      case 'FRBC.SystemDescription':
        return inForce({ ...k, sent: new Set(k.sent).add(key(m.message_id)) }, m);
      case 'FRBC.ActuatorStatus':
        // Sent messages skip `refusal` in the statechart: learn only what names the description in force.
        if (actuatorRefusal(k, m.actuator_id, m.active_operation_mode_id, 'R62')) return k;
        return { ...k, statuses: new Map(k.statuses).set(key(m.actuator_id), m) };
      case 'FRBC.TimerStatus': {
        if (!k.actuators.get(key(m.actuator_id))?.timers.has(key(m.timer_id))) return k;
        const byTimer = new Map(k.timers.get(key(m.actuator_id))).set(key(m.timer_id), Date.parse(m.finished_at));
        return { ...k, timers: new Map(k.timers).set(key(m.actuator_id), byTimer) };
      }
      default:
        // An instruction changes nothing here: the RM reports the resulting mode and timers (R60, R64).
        return k;
    }
  },
  hasObject: (k, type, id) => type === 'FRBC.SystemDescription' && k.sent.has(key(id)),
  revoke(k, type, id) {
    if (type !== 'FRBC.SystemDescription' || !k.sent.has(key(id))) return k;
    const sent = new Set(k.sent);
    sent.delete(key(id));
    // R58: revoking the description in force leaves none (no fallback to a superseded one, R72).
    const revokesCurrent = k.current !== undefined && key(k.current.message_id) === key(id);
    return revokesCurrent ? inForce({ ...k, sent }, undefined) : { ...k, sent };
  },
  rejection: (k, m, now) => frbcRejection(k, m, now),
};
