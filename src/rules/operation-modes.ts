import type { Timer, Transition } from '../typebox/common/operation-mode.js';
import type { PowerRange } from '../typebox/common/power.js';
import type { Problem } from '../typebox/problem.js';
import { checkUnique, findDuplicates, hasId, idSet, problem, reportDuplicates } from './helpers.js';
import type { Rule } from './rule.js';

/**
 * Checks shared by the operation-mode control types (docs/rules.md#operation-modes): OMBC per system
 * description, FRBC and DDBC per actuator. `modeKey` is the mode's id field (`Id` in DDBC, R88);
 * `basePath` the JSONPath of the object holding `operation_modes`/`transitions`/`timers`; `scope`
 * ends the sentences ("in actuator 'a1'", "in this system description").
 */
export interface ModeScope {
  readonly modes: readonly object[];
  readonly modeKey: 'id' | 'Id';
  readonly transitions: readonly Transition[];
  readonly timers: readonly Timer[];
}

/** R69: operation mode ids, transition ids and timer ids are each unique within their scope. */
export function checkUniqueModeIds(out: Problem[], rule: string, s: ModeScope, basePath: string, scope: string): void {
  checkUnique(out, rule, s.modes, s.modeKey, basePath, 'operation_modes', 'operation mode id', scope);
  checkUnique(out, rule, s.transitions, 'id', basePath, 'transitions', 'transition id', scope);
  checkUnique(out, rule, s.timers, 'id', basePath, 'timers', 'timer id', scope);
}

/** R70: every transition's from/to names a mode, and its start/blocking timers name timers, of the same scope. */
export function checkTransitionRefs(out: Problem[], rule: string, s: ModeScope, basePath: string, scope: string): void {
  const transitions = s.transitions;
  if (transitions.length === 0) return;
  const modeSet = idSet(s.modes, s.modeKey);
  const timerSet = idSet(s.timers, 'id');
  for (let i = 0; i < transitions.length; i++) {
    const t = transitions[i]!;
    if (!hasId(s.modes, s.modeKey, modeSet, t.from)) {
      out.push(
        problem(
          rule,
          `${basePath}.transitions[${i}].from`,
          `transition '${t.id}' starts from operation mode '${t.from}', which is not an operation mode ${scope}`,
          t.from,
        ),
      );
    }
    if (!hasId(s.modes, s.modeKey, modeSet, t.to)) {
      out.push(
        problem(
          rule,
          `${basePath}.transitions[${i}].to`,
          `transition '${t.id}' leads to operation mode '${t.to}', which is not an operation mode ${scope}`,
          t.to,
        ),
      );
    }
    if (t.start_timers.length) checkTimerRefs(out, rule, s.timers, timerSet, t, 'start_timers', basePath, i, scope);
    if (t.blocking_timers.length) checkTimerRefs(out, rule, s.timers, timerSet, t, 'blocking_timers', basePath, i, scope);
  }
}

function checkTimerRefs(
  out: Problem[],
  rule: string,
  timers: readonly Timer[],
  timerSet: Set<unknown> | undefined,
  t: Transition,
  field: 'start_timers' | 'blocking_timers',
  basePath: string,
  i: number,
  scope: string,
): void {
  const refs = t[field];
  for (let k = 0; k < refs.length; k++) {
    const ref = refs[k]!;
    if (hasId(timers, 'id', timerSet, ref)) continue;
    out.push(
      problem(
        rule,
        `${basePath}.transitions[${i}].${field}[${k}]`,
        `transition '${t.id}' lists timer '${ref}' in ${field}, which is not a timer ${scope}`,
        ref,
      ),
    );
  }
}

/**
 * R68: at most one PowerRange per commodity_quantity. `arrayPath` is only used on failure, but the
 * caller builds it; hot loops should test `ranges.length > 1` first.
 */
export function checkPowerRanges(out: Problem[], rule: string, ranges: readonly PowerRange[], arrayPath: string, scope: string): void {
  const pairs = findDuplicates(ranges, 'commodity_quantity');
  if (pairs) reportDuplicates(out, rule, pairs, ranges, 'commodity_quantity', arrayPath, 'commodity_quantity', scope);
}

/**
 * R67 (E; the range is "should" in the factor descriptions of all status and instruction schemas,
 * Q18): operation_mode_factor lies in [0, 1]. Included because the factor picks the point
 * start + factor·(end − start) of every range of the mode (R67's formula, MUST); outside [0, 1]
 * that point is outside what the RM described, so the message cannot be acted on as sent.
 * One object serves FRBC/OMBC/DDBC instructions and statuses.
 */
export const FACTOR_IN_UNIT_RANGE: Rule<{ readonly operation_mode_factor: number }> = {
  id: 'R67',
  summary: 'operation_mode_factor lies in [0, 1]',
  check(m) {
    const f = m.operation_mode_factor;
    if (f >= 0 && f <= 1) return [];
    return [
      problem(
        'R67',
        '$.operation_mode_factor',
        `operation_mode_factor ${f} is outside [0, 1] (0 = start, 1 = end of the operation mode's ranges)`,
        f,
      ),
    ];
  },
};

/** An FRBC or DDBC actuator, as far as the per-actuator id rules need it. */
interface ActuatorLike {
  readonly id: string;
  readonly operation_modes: readonly object[];
  readonly transitions: readonly Transition[];
  readonly timers: readonly Timer[];
}

/**
 * R69 and R70 for system descriptions made of actuators (FRBC, and DDBC whose modes are keyed
 * `Id`, R88): actuator ids unique in the description; mode, transition and timer ids unique per
 * actuator; transitions name modes and timers of their own actuator.
 */
export function actuatorIdRules(
  modeKey: 'id' | 'Id',
): [Rule<{ readonly actuators: readonly ActuatorLike[] }>, Rule<{ readonly actuators: readonly ActuatorLike[] }>] {
  const scopeOf = (act: ActuatorLike): ModeScope => ({
    modes: act.operation_modes,
    modeKey,
    transitions: act.transitions,
    timers: act.timers,
  });
  return [
    {
      id: 'R69',
      summary: `actuator ids are unique in the description; mode (${modeKey}), transition and timer ids are unique per actuator`,
      check(m) {
        const out: Problem[] = [];
        checkUnique(out, 'R69', m.actuators, 'id', '$', 'actuators', 'actuator id', 'in this system description');
        for (let a = 0; a < m.actuators.length; a++) {
          const act = m.actuators[a]!;
          checkUniqueModeIds(out, 'R69', scopeOf(act), `$.actuators[${a}]`, `in actuator '${act.id}'`);
        }
        return out;
      },
    },
    {
      id: 'R70',
      summary: "transitions' from/to and start/blocking timers name modes and timers of the same actuator",
      check(m) {
        const out: Problem[] = [];
        for (let a = 0; a < m.actuators.length; a++) {
          const act = m.actuators[a]!;
          if (act.transitions.length === 0) continue;
          checkTransitionRefs(out, 'R70', scopeOf(act), `$.actuators[${a}]`, `of actuator '${act.id}'`);
        }
        return out;
      },
    },
  ];
}
