import type { Transition } from '../../typebox/common/operation-mode.js';
import type { NumberRange } from '../../typebox/common/primitives.js';
import type { DDBCActuatorDescription, DDBCOperationMode } from '../../typebox/ddbc/system-description.js';
import type { IdentifiedMessage, MessageOf } from '../../typebox/registry.js';
import { emptyMap, shareEmpty } from './shared-empty.js';
import type { ControlTypeRules } from './types.js';

/**
 * DDBC (docs/rules.md#operation-modes, #ddbc): what the session knows of the RM's demand-driven flexibility and
 * how DDBC statuses and instructions are judged against it. Wire quirks (R88, R89): a mode's id is
 * `Id`, an actuator's commodity list `supported_commodites`; nothing here reads the latter.
 *
 * Refused (INVALID_CONTENT, R16/R49/Q14) — the message names something that does not exist, so it
 * cannot even be understood against the description:
 * - R87 DDBC.Instruction: actuator_id is an actuator, operation_mode_id one of ITS modes (by `Id`).
 * - R62 DDBC.ActuatorStatus: actuator known; active_operation_mode_id one of its modes in the
 *   description in force; previous_operation_mode_id one of its modes in that description or in a
 *   superseded, unrevoked one (a re-description, R72, may drop the very mode the actuator just left).
 * - R71 DDBC.TimerStatus: actuator known; timer_id is a timer of that actuator.
 * - R39 DDBC.AverageDemandRateForecast before any description: the demand it forecasts is described
 *   by the SystemDescription (present_demand_rate); without one it refers to nothing.
 * - R39, R112 DDBC.PresentDemandStatus (S2 JSON 1.0.0-beta) before any description: it is the
 *   present demand the description's actuators are to meet; without a description in force it
 *   refers to nothing, like a status of an actuator not described yet.
 * Left to the RM's OK + REJECTED (`rejection`, Q14, R48) — the references hold, the instruction
 * just cannot be carried out as asked right now:
 * - R50 an abnormal_condition_only mode or transition without abnormal_condition: true.
 * - R63 no transition from the actuator's current mode (latest DDBC.ActuatorStatus) to the mode asked.
 * - R64 every such transition is blocked by a running timer (latest DDBC.TimerStatus).
 * Accepted on purpose: R86 (forecast although provides_average_demand_rate_forecast is false). It is
 * an inferred SHOULD on the sender; the forecast contradicts a declared capability but names nothing
 * unknown, and refusing it (R16) would only throw away data the CEM may use. Same choice as FRBC
 * makes for R74 (storage forecasts without their provides_* flag).
 *
 * The present demand (R112) is the latest DDBC.PresentDemandStatus (1.0.0-beta) or the
 * `present_demand_rate` of the latest description (0.0.2-beta), whichever came last. A 1.0.0-beta
 * description has none, so it keeps the demand reported before it: the demand is the house's, not
 * the actuators', and an RM that re-describes its actuators need not repeat it.
 *
 * R72 / R58 / R54 (as FRBC): the description received last is in force at once (no clock here, so a
 * future valid_from cannot be honoured). A superseded description is no longer valid — revoking the
 * one in force leaves NONE in force (awaitingDescription) rather than reviving a stale one — but it
 * stays revocable by its message_id (Q10) until revoked, since it was sent and not revoked.
 * Ids are compared case-insensitively (R4): every key below is lowercased.
 */

type ActuatorStatus = MessageOf<'DDBC.ActuatorStatus'>;
/** Either version's description (1.0.0-beta's has no present_demand_rate). */
type DDBCSystemDescription = MessageOf<'DDBC.SystemDescription'>;

/** An actuator of the description in force, indexed for reference checks. */
interface Actuator {
  readonly description: DDBCActuatorDescription;
  readonly modes: ReadonlyMap<string, DDBCOperationMode>;
  readonly timers: ReadonlySet<string>;
}

export interface DdbcKnowledge {
  /** Every system description received and not revoked, by lowercased message_id (R54, R56, Q10), superseded ones included. */
  readonly descriptions: ReadonlyMap<string, DDBCSystemDescription>;
  /** The description in force: the latest received, unless it was revoked (R72, R58). */
  readonly current: DDBCSystemDescription | undefined;
  /** The actuators of `current`, by lowercased id. */
  readonly actuators: ReadonlyMap<string, Actuator>;
  /** The latest DDBC.ActuatorStatus per actuator (R60), for R63. */
  readonly statuses: ReadonlyMap<string, ActuatorStatus>;
  /** The latest DDBC.TimerStatus finished_at (ms since the epoch) per actuator, then timer (R71), for R64. */
  readonly timers: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /**
   * The demand rate to meet now (R112): from the latest DDBC.PresentDemandStatus (1.0.0-beta) or
   * the latest description's `present_demand_rate` (0.0.2-beta); undefined until either came.
   */
  readonly presentDemand: NumberRange | undefined;
}

const key = (id: string): string => id.toLowerCase();

/**
 * The knowledge once `current` is in force. Statuses and timers that name actuators, modes or timers
 * the description no longer has are dropped: they cannot describe the present state (R62, R71), and
 * keeping a vanished "current mode" would make R63 reject every instruction for that actuator.
 */
function inForce(
  k: Pick<DdbcKnowledge, 'descriptions' | 'statuses' | 'timers' | 'presentDemand'>,
  current: DDBCSystemDescription | undefined,
): DdbcKnowledge {
  const actuators = new Map<string, Actuator>();
  for (const a of current?.actuators ?? []) {
    actuators.set(key(a.id), {
      description: a,
      modes: new Map(a.operation_modes.map((m) => [key(m.Id), m])),
      timers: new Set(a.timers.map((t) => key(t.id))),
    });
  }
  const statuses = new Map([...k.statuses].filter(([a, s]) => actuators.get(a)?.modes.has(key(s.active_operation_mode_id))));
  const timers = new Map<string, ReadonlyMap<string, number>>();
  for (const [a, byTimer] of k.timers) {
    const actuator = actuators.get(a);
    if (actuator) timers.set(a, new Map([...byTimer].filter(([t]) => actuator.timers.has(t))));
  }
  return {
    descriptions: k.descriptions,
    current,
    actuators: shareEmpty(actuators),
    statuses: shareEmpty(statuses),
    timers: shareEmpty(timers),
    presentDemand: k.presentDemand,
  };
}

/** What an activation knows before any DDBC message: one frozen value for all (copy-on-write). */
const EMPTY: DdbcKnowledge = Object.freeze({
  descriptions: emptyMap<string, DDBCSystemDescription>(),
  current: undefined,
  actuators: emptyMap<string, Actuator>(),
  statuses: emptyMap<string, ActuatorStatus>(),
  timers: emptyMap<string, ReadonlyMap<string, number>>(),
  presentDemand: undefined,
});

/** R39 / R62 / R71 / R87: the actuator exists in the description in force and has that mode. */
function actuatorRefusal(k: DdbcKnowledge, actuatorId: string, modeId: string | undefined, rule: string): string | undefined {
  if (!k.current) return `no DDBC.SystemDescription is in force (R39, ${rule})`;
  const actuator = k.actuators.get(key(actuatorId));
  if (!actuator) return `unknown actuator_id ${actuatorId}: not an actuator of the current DDBC.SystemDescription (${rule}, R72)`;
  if (modeId !== undefined && !actuator.modes.has(key(modeId)))
    return `unknown operation mode ${modeId}: no mode with that Id in actuator ${actuatorId} (${rule}, R88)`;
  return undefined;
}

/** R62 for an ActuatorStatus (see the header for why the previous mode may come from a superseded description). */
function statusRefusal(k: DdbcKnowledge, m: ActuatorStatus): string | undefined {
  const why = actuatorRefusal(k, m.actuator_id, m.active_operation_mode_id, 'R62');
  const previous = m.previous_operation_mode_id;
  if (why || previous === undefined || k.actuators.get(key(m.actuator_id))!.modes.has(key(previous))) return why;
  const described = [...k.descriptions.values()].some((d) =>
    d.actuators.some((a) => key(a.id) === key(m.actuator_id) && a.operation_modes.some((o) => key(o.Id) === key(previous))),
  );
  return described
    ? undefined
    : `unknown previous_operation_mode_id ${previous}: no mode with that Id in actuator ${m.actuator_id} in any unrevoked description (R62, R88)`;
}

/** R71: the actuator exists in the description in force and has that timer. */
function timerRefusal(k: DdbcKnowledge, m: MessageOf<'DDBC.TimerStatus'>): string | undefined {
  const why = actuatorRefusal(k, m.actuator_id, undefined, 'R71');
  if (why || k.actuators.get(key(m.actuator_id))!.timers.has(key(m.timer_id))) return why;
  return `unknown timer ${m.timer_id}: not a timer of actuator ${m.actuator_id} (R71)`;
}

/** The transitions of `actuator` from `from` to `to`. */
function transitionsBetween(actuator: Actuator, from: string, to: string): Transition[] {
  return actuator.description.transitions.filter((t) => key(t.from) === from && key(t.to) === to);
}

/**
 * RM side: why a well-referenced DDBC.Instruction cannot be carried out as asked (REJECTED), or
 * undefined. R64 is judged at the instruction's execution_time, or at `nowMs` when that is later
 * (R43: a past execution_time means "at once"). The statechart passes the session clock.
 */
export function ddbcRejection(k: DdbcKnowledge, m: IdentifiedMessage, nowMs?: number): string | undefined {
  if (m.message_type !== 'DDBC.Instruction') return undefined;
  const actuator = k.actuators.get(key(m.actuator_id));
  const target = key(m.operation_mode_id);
  const mode = actuator?.modes.get(target);
  if (!actuator || !mode) return undefined; // unknown references are refusal's (R87)
  // R50: the CEM must declare the abnormal condition to use an abnormal-only mode.
  if (mode.abnormal_condition_only && !m.abnormal_condition)
    return `operation mode ${m.operation_mode_id} is for abnormal conditions only and abnormal_condition is false (R50)`;
  // R63: only from a known current mode can a missing transition be told; the same mode with another factor needs none.
  const current = k.statuses.get(key(m.actuator_id))?.active_operation_mode_id;
  if (current === undefined || key(current) === target) return undefined;
  const candidates = transitionsBetween(actuator, key(current), target);
  if (candidates.length === 0)
    return `actuator ${m.actuator_id} has no transition from its current mode ${current} to ${m.operation_mode_id} (R63)`;
  const usable = candidates.filter((t) => !t.abnormal_condition_only || m.abnormal_condition);
  if (usable.length === 0)
    return `every transition from ${current} to ${m.operation_mode_id} is for abnormal conditions only and abnormal_condition is false (R50, R63)`;
  // R64: a transition may start only when none of its blocking timers is running; any one free transition will do.
  const at = Math.max(Date.parse(m.execution_time), nowMs ?? -Infinity);
  const finished = k.timers.get(key(m.actuator_id));
  let blocked: string | undefined;
  for (const t of usable) {
    const running = t.blocking_timers.find((timer) => (finished?.get(key(timer)) ?? -Infinity) > at);
    if (running === undefined) return undefined; // no TimerStatus known for a timer ⇒ not blocking
    blocked ??= `transition ${t.id} from ${current} to ${m.operation_mode_id} is blocked by timer ${running} until ${new Date(finished!.get(key(running))!).toISOString()} (R64)`;
  }
  return blocked;
}

/** DDBC: descriptions by message_id (Q10), instructions, and the latest actuator and timer statuses. */
export const ddbcRules: ControlTypeRules<DdbcKnowledge> = {
  area: 'DDBC',
  descriptions: new Set(['DDBC.SystemDescription']),
  instructions: new Set(['DDBC.Instruction']),
  // Shared by every activation (bench/RESULTS.md §5.6 B): `learn` and `revoke` never write into k.
  empty: () => EMPTY,
  described: (k) => k.current !== undefined,
  refusal(k, m) {
    switch (m.message_type) {
      case 'DDBC.Instruction':
        return actuatorRefusal(k, m.actuator_id, m.operation_mode_id, 'R87');
      case 'DDBC.ActuatorStatus':
        return statusRefusal(k, m);
      case 'DDBC.TimerStatus':
        return timerRefusal(k, m);
      case 'DDBC.AverageDemandRateForecast':
        // R86 needs only a description; the provides_average_demand_rate_forecast flag is not enforced (see the header).
        return k.current ? undefined : `DDBC.AverageDemandRateForecast before any DDBC.SystemDescription (R39, R86)`;
      case 'DDBC.PresentDemandStatus':
        return k.current ? undefined : `DDBC.PresentDemandStatus before any DDBC.SystemDescription (R39, R112)`;
      default:
        return undefined;
    }
  },
  learn(k, m) {
    switch (m.message_type) {
      case 'DDBC.SystemDescription': {
        const descriptions = new Map(k.descriptions);
        descriptions.delete(key(m.message_id)); // re-inserted last: it is the most recent (R72)
        descriptions.set(key(m.message_id), m);
        // 0.0.2-beta: the description carries the present demand; 1.0.0-beta: it keeps the last one reported (R112).
        const presentDemand = 'present_demand_rate' in m ? m.present_demand_rate : k.presentDemand;
        return inForce({ ...k, descriptions, presentDemand }, m);
      }
      case 'DDBC.PresentDemandStatus':
        // As for the statuses below: a sent one skipped `refusal`, so learn it only with a description in force (R39).
        return k.current ? { ...k, presentDemand: m.present_demand_rate } : k;
      // Sent messages skip `refusal` in the statechart (direction 'out'): learn only what names the description in force.
      case 'DDBC.ActuatorStatus':
        return statusRefusal(k, m) ? k : { ...k, statuses: new Map(k.statuses).set(key(m.actuator_id), m) };
      case 'DDBC.TimerStatus': {
        if (timerRefusal(k, m)) return k;
        const byTimer = new Map(k.timers.get(key(m.actuator_id))).set(key(m.timer_id), Date.parse(m.finished_at));
        return { ...k, timers: new Map(k.timers).set(key(m.actuator_id), byTimer) };
      }
      default:
        // Instructions change nothing here: the RM reports the resulting mode with an ActuatorStatus (R60).
        return k;
    }
  },
  hasObject: (k, type, id) => type === 'DDBC.SystemDescription' && k.descriptions.has(key(id)),
  revoke(k, type, id) {
    if (type !== 'DDBC.SystemDescription' || !k.descriptions.has(key(id))) return k;
    const descriptions = new Map(k.descriptions);
    descriptions.delete(key(id));
    // R58: revoking the description in force leaves none in force (no fallback to a superseded one, R72).
    const revokesCurrent = k.current !== undefined && key(k.current.message_id) === key(id);
    return revokesCurrent ? inForce({ ...k, descriptions }, undefined) : { ...k, descriptions };
  },
  rejection: (k, m, now) => ddbcRejection(k, m, now),
};
