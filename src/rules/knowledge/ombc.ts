import type { Transition } from '../../typebox/common/operation-mode.js';
import type { OMBCStatus } from '../../typebox/ombc/status.js';
import type { OMBCSystemDescription } from '../../typebox/ombc/system-description.js';
import type { IdentifiedMessage } from '../../typebox/registry.js';
import { emptyMap, emptySet } from './shared-empty.js';
import type { ControlTypeRules } from './types.js';

/**
 * OMBC (docs/rules.md#operation-modes, #ombc): one set of operation modes for the whole resource, no actuators.
 *
 * Refused (INVALID_CONTENT, nothing changes — R49, Q14: the message names something that does not exist):
 * - R84  OMBC.Instruction.operation_mode_id is a mode of the current description.
 * - R62  OMBC.Status.active_operation_mode_id is a mode of the current description;
 *        previous_operation_mode_id a mode described at some time in this session (see R85 below).
 * - R71  OMBC.TimerStatus.timer_id is a timer of the current description.
 * - R39/R83 OMBC.Status / TimerStatus without a valid description refer to nothing.
 * Left to the RM (`rejection`: OK, then REJECTED — Q14, R48: the references hold, but the RM cannot
 * carry the instruction out as asked, and whether it can depends on the RM's own state):
 * - R50  abnormal-only mode, or only abnormal-only transitions, without abnormal_condition.
 * - R63  no transition from the active mode (latest OMBC.Status) to the requested one.
 * - R64  every such transition is blocked by a timer whose finished_at is after execution_time.
 *        R63/R64 are skipped while the origin mode is unknown: no status yet, or an instruction
 *        executing earlier was received since the latest status (see `pending`).
 *
 * R85 (mode ids unique in the RM for the session): the in-message part (no duplicate in one
 * description) is R69 in the codec. Across descriptions it is not refused: an updated description
 * (R72) normally repeats its modes by id, and whether a repeated id still "means" the same mode is
 * not observable — power ranges, costs, labels and even the abnormal flag may legitimately change.
 * What R85 does give: a mode id never changes meaning, so `previous_operation_mode_id` may name a
 * mode of a superseded or revoked description (the device was in it before the description changed).
 *
 * R72: the description received last is in force at once — the rules get no clock, so a future
 * valid_from cannot be honoured. Ids are keyed lower-case (R4), as the statechart keys instruction ids.
 */

type SystemDescription = OMBCSystemDescription;

/** The description in force (R72), indexed for R62/R71/R84 and R50/R63/R64. */
interface Current {
  readonly messageId: string;
  readonly modes: ReadonlyMap<string, { readonly abnormalOnly: boolean }>;
  readonly transitions: readonly Transition[];
  readonly timers: ReadonlySet<string>;
}

export interface OmbcKnowledge {
  /**
   * Every OMBC.SystemDescription received and not revoked, by message_id (R56, Q10: the message has
   * no id field). Superseded ones stay here because they were never revoked, so R54 lets the RM revoke them.
   */
  readonly descriptions: ReadonlyMap<string, SystemDescription>;
  /**
   * The latest description (R72: it supersedes the previous ones), or undefined once it is revoked:
   * a revocation does not bring a superseded description back to life (R58, R72), the RM has to
   * send a new one.
   */
  readonly current: Current | undefined;
  /** Every mode id described in this session, never forgotten (R85). */
  readonly sessionModes: ReadonlySet<string>;
  /** The latest OMBC.Status: the RM's active mode (R59, R60), the origin of any transition (R63). */
  readonly status: OMBCStatus | undefined;
  /** finished_at (ms since the epoch) of the latest OMBC.TimerStatus per timer of the current description (R64, R71). */
  readonly timerFinish: ReadonlyMap<string, number>;
  /**
   * Instructions received since the latest OMBC.Status and not rejected here, by id → execution_time
   * (ms). Until the RM reports their effect (R60), the mode a later-executing instruction starts from
   * is unknown, so R63/R64 are not judged for it (a CEM plan of successive modes is not a fault).
   */
  readonly pending: ReadonlyMap<string, number>;
}

const key = (id: string): string => id.toLowerCase();

function index(d: SystemDescription): Current {
  return {
    messageId: key(d.message_id),
    modes: new Map(d.operation_modes.map((m) => [key(m.id), { abnormalOnly: m.abnormal_condition_only }])),
    transitions: d.transitions,
    timers: new Set(d.timers.map((t) => key(t.id))),
  };
}

const NO_DESCRIPTION = 'there is no valid OMBC.SystemDescription (none received yet, or it was revoked)';

/** Why a usable transition from `active` to `target` does not exist at `at` (R50, R63, R64), or undefined. */
function transitionRejection(
  k: OmbcKnowledge,
  current: Current,
  active: string,
  target: string,
  abnormal: boolean,
  at: number,
): string | undefined {
  const candidates = current.transitions.filter((t) => key(t.from) === active && key(t.to) === target);
  if (candidates.length === 0)
    return `no transition from the active operation mode ${active} to ${target} in the current OMBC.SystemDescription (R63)`;
  const usable = candidates.filter((t) => abnormal || !t.abnormal_condition_only);
  if (usable.length === 0)
    return `every transition from ${active} to ${target} is for abnormal conditions only and abnormal_condition is false (R50)`;
  // Several transitions may join the same two modes; one that is not blocked is enough.
  let blocked: string | undefined;
  for (const t of usable) {
    // A timer with no TimerStatus yet counts as never started, i.e. finished (R71).
    const timer = t.blocking_timers.find((id) => (k.timerFinish.get(key(id)) ?? -Infinity) > at);
    if (timer === undefined) return undefined;
    blocked ??= `transition ${t.id} is blocked at execution_time by timer ${timer}, finished only at ${new Date(k.timerFinish.get(key(timer))!).toISOString()} (R64)`;
  }
  return blocked;
}

/** RM side (Q14): why a well-referenced OMBC.Instruction cannot be carried out as asked. */
function rejection(k: OmbcKnowledge, m: IdentifiedMessage): string | undefined {
  if (m.message_type !== 'OMBC.Instruction' || !k.current) return undefined;
  const target = key(m.operation_mode_id);
  // R50: an abnormal-only mode needs abnormal_condition: true (also for a factor change within it).
  if (k.current.modes.get(target)?.abnormalOnly && !m.abnormal_condition) {
    return `operation mode ${m.operation_mode_id} is for abnormal conditions only and abnormal_condition is false (R50)`;
  }
  // R63: staying in the active mode (another factor) needs no transition. Without a status, or with
  // one whose mode the current description lacks, the origin is unknown: not rejected here.
  const active = k.status === undefined ? undefined : key(k.status.active_operation_mode_id);
  if (active === undefined || active === target || !k.current.modes.has(active)) return undefined;
  const at = Date.parse(m.execution_time);
  // An instruction executing no later than this one, and not yet reflected in a status, decides the origin.
  for (const before of k.pending.values()) if (before <= at) return undefined;
  // R64 is evaluated at execution_time as written; a past execution_time really means "now" (R43),
  // which the interface does not give (timers that ran out since then still count as running).
  return transitionRejection(k, k.current, active, target, m.abnormal_condition, at);
}

/** What an activation knows before any OMBC message: one frozen value for all (copy-on-write). */
const EMPTY: OmbcKnowledge = Object.freeze({
  descriptions: emptyMap<string, SystemDescription>(),
  current: undefined,
  sessionModes: emptySet<string>(),
  status: undefined,
  timerFinish: emptyMap<string, number>(),
  pending: emptyMap<string, number>(),
});

/** OMBC (docs/rules.md#operation-modes, #ombc): references of statuses and instructions to the current description. */
export const ombcRules: ControlTypeRules<OmbcKnowledge> = {
  area: 'OMBC',
  descriptions: new Set(['OMBC.SystemDescription']),
  instructions: new Set(['OMBC.Instruction']),
  // Shared by every activation (bench/RESULTS.md §5.6 B): `learn` and `revoke` never write into k.
  empty: () => EMPTY,
  described: (k) => k.current !== undefined,
  refusal(k, m: IdentifiedMessage) {
    switch (m.message_type) {
      case 'OMBC.Instruction':
        // R84 (the statechart has already refused it before any description, R39).
        if (!k.current) return `OMBC.Instruction but ${NO_DESCRIPTION} (R39, R84)`;
        return k.current.modes.has(key(m.operation_mode_id))
          ? undefined
          : `unknown operation_mode_id ${m.operation_mode_id}: not a mode of the current OMBC.SystemDescription (R84)`;
      case 'OMBC.Status': {
        if (!k.current) return `OMBC.Status but ${NO_DESCRIPTION}: its modes refer to nothing (R62, R83)`;
        if (!k.current.modes.has(key(m.active_operation_mode_id))) {
          return `unknown active_operation_mode_id ${m.active_operation_mode_id}: not a mode of the current OMBC.SystemDescription (R62)`;
        }
        // The previous mode may belong to a description since superseded or revoked (R85: its id still means that mode).
        const previous = m.previous_operation_mode_id;
        if (previous !== undefined && !k.sessionModes.has(key(previous))) {
          return `unknown previous_operation_mode_id ${previous}: no OMBC.SystemDescription of this session described it (R62, R85)`;
        }
        return undefined;
      }
      case 'OMBC.TimerStatus':
        // R71: timer ids are only unique within one description (R69), so only the current one counts.
        if (!k.current) return `OMBC.TimerStatus but ${NO_DESCRIPTION} (R71, R83)`;
        return k.current.timers.has(key(m.timer_id))
          ? undefined
          : `unknown timer_id ${m.timer_id}: not a timer of the current OMBC.SystemDescription (R71)`;
      default:
        // OMBC.SystemDescription: its internal references are R69/R70 in the codec; R85 across descriptions: see above.
        return undefined;
    }
  },
  learn(k, m) {
    switch (m.message_type) {
      case 'OMBC.SystemDescription': {
        const current = index(m);
        const descriptions = new Map(k.descriptions);
        descriptions.delete(current.messageId);
        descriptions.set(current.messageId, m);
        const sessionModes = new Set(k.sessionModes);
        for (const id of current.modes.keys()) sessionModes.add(id);
        // Keep what is known of timers the new description still has (re-describing does not restart
        // them); drop the others, whose ids may mean another timer later (R69 scopes them to one description).
        const timerFinish = new Map([...k.timerFinish].filter(([id]) => current.timers.has(id)));
        return { ...k, descriptions, current, sessionModes, timerFinish };
      }
      case 'OMBC.Status':
        return { ...k, status: m, pending: emptyMap<string, number>() };
      case 'OMBC.Instruction': {
        if (rejection(k, m) !== undefined) return k;
        const pending = new Map(k.pending);
        pending.set(key(m.id), Date.parse(m.execution_time));
        return { ...k, pending };
      }
      case 'OMBC.TimerStatus': {
        const timerFinish = new Map(k.timerFinish);
        timerFinish.set(key(m.timer_id), Date.parse(m.finished_at));
        return { ...k, timerFinish };
      }
      default:
        return k;
    }
  },
  hasObject: (k, type, id) => type === 'OMBC.SystemDescription' && k.descriptions.has(key(id)),
  revoke(k, type, id) {
    if (type === 'OMBC.Instruction' && k.pending.has(key(id))) {
      const pending = new Map(k.pending);
      pending.delete(key(id));
      return { ...k, pending };
    }
    if (type !== 'OMBC.SystemDescription' || !k.descriptions.has(key(id))) return k;
    const descriptions = new Map(k.descriptions);
    descriptions.delete(key(id));
    // Revoking a superseded description changes nothing in force; revoking the current one leaves none (R58).
    const current = k.current?.messageId === key(id) ? undefined : k.current;
    return { ...k, descriptions, current };
  },
  rejection,
};
