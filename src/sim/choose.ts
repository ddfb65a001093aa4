import type { Transition } from '../typebox/common/operation-mode.js';
import type { NumberRange } from '../typebox/common/primitives.js';
import type { DDBCActuatorDescription } from '../typebox/ddbc/system-description.js';
import type { FRBCActuatorDescription, FRBCOperationModeElement, FRBCStorageDescription } from '../typebox/frbc/system-description.js';
import type { OMBCSystemDescription } from '../typebox/ombc/system-description.js';
import type { PEBCPowerConstraints } from '../typebox/pebc/power-constraints.js';
import type { PPBCPowerProfileDefinition, PPBCPowerSequenceContainerStatus } from '../typebox/ppbc/index.js';
import type { MessageOf } from '../typebox/registry.js';
import type { PriceLevel } from './price.js';

/*
 * The CEM policy's decisions, as pure functions of what the RM described and reported. Each one
 * returns only instructions the RM's rules let through: modes and sequences named by the current
 * description (R62, R75, R84, R87, R102), no abnormal-only objects (R50), a transition from the
 * active mode (R63) whose blocking timers have finished (R64), limits inside the allowed ranges
 * (R97) and the validity window (R96), sequences inside the profile window (R103). Ids compare
 * lowercase (R4).
 */

export const key = (id: string): string => id.toLowerCase();

/** A mode switch to ask for. */
export interface ModeChoice {
  readonly modeId: string;
  readonly factor: number;
  /** Why, for logs. */
  readonly note: string;
}

/** Whether `to` can be reached from `active` at `atMs`: same mode, or a usable transition (R50, R63, R64). */
export function reachable(
  transitions: readonly Transition[],
  active: string,
  to: string,
  finishedAt: (timerId: string) => number | undefined,
  atMs: number,
): boolean {
  if (key(active) === key(to)) return true;
  return transitions.some(
    (t) =>
      key(t.from) === key(active) &&
      key(t.to) === key(to) &&
      !t.abnormal_condition_only &&
      t.blocking_timers.every((id) => (finishedAt(id) ?? -Infinity) <= atMs),
  );
}

type FillKind = 'fill' | 'drain' | 'hold';

/** The element that holds the fill level ([start, end), the last closed, Q19). */
function elementAt(elements: readonly FRBCOperationModeElement[], level: number): FRBCOperationModeElement | undefined {
  return elements.find(
    (e, i) =>
      level >= e.fill_level_range.start_of_range &&
      (level < e.fill_level_range.end_of_range || (i === elements.length - 1 && level <= e.fill_level_range.end_of_range)),
  );
}

/**
 * FRBC: at a low price fill the storage, at a high price drain it, otherwise hold — with the mode
 * whose fill rate at the present fill level has that sign, reachable from the active mode; never
 * beyond the storage's fill-level range (R80). Falls back to holding, then to the active mode.
 */
export function chooseFrbc(
  actuator: FRBCActuatorDescription,
  activeModeId: string,
  activeFactor: number,
  storage: FRBCStorageDescription,
  fill: number,
  level: PriceLevel,
  finishedAt: (timerId: string) => number | undefined,
  nowMs: number,
): ModeChoice {
  const want: FillKind = level === 'low' ? 'fill' : level === 'high' ? 'drain' : 'hold';
  const candidates = actuator.operation_modes.flatMap((mode) => {
    if (mode.abnormal_condition_only) return [];
    const e = elementAt(mode.elements, fill);
    if (!e) return [];
    const lo = Math.min(e.fill_rate.start_of_range, e.fill_rate.end_of_range);
    const hi = Math.max(e.fill_rate.start_of_range, e.fill_rate.end_of_range);
    const kind: FillKind | undefined = lo >= 0 && hi > 0 ? 'fill' : hi <= 0 && lo < 0 ? 'drain' : lo === 0 && hi === 0 ? 'hold' : undefined;
    if (!kind) return [];
    if (kind === 'fill' && fill >= storage.fill_level_range.end_of_range) return [];
    if (kind === 'drain' && fill <= storage.fill_level_range.start_of_range) return [];
    // Fastest in the wanted direction: the factor at the end with the larger |fill rate|.
    const factor =
      kind === 'fill'
        ? e.fill_rate.end_of_range >= e.fill_rate.start_of_range
          ? 1
          : 0
        : kind === 'drain'
          ? e.fill_rate.end_of_range <= e.fill_rate.start_of_range
            ? 1
            : 0
          : 0;
    return [{ mode, kind, factor }];
  });
  for (const kind of want === 'hold' ? (['hold'] as const) : ([want, 'hold'] as const)) {
    for (const c of candidates) {
      if (c.kind === kind && reachable(actuator.transitions, activeModeId, c.mode.id, finishedAt, nowMs)) {
        return { modeId: c.mode.id, factor: c.factor, note: `${level} price: ${kind}${kind === want ? '' : ` (cannot ${want} now)`}` };
      }
    }
  }
  return { modeId: activeModeId, factor: activeFactor, note: `${level} price: nothing better reachable, stay` };
}

const peakPower = (ranges: readonly { readonly start_of_range: number; readonly end_of_range: number }[]) =>
  ranges.reduce((sum, r) => sum + Math.max(r.start_of_range, r.end_of_range), 0);

/**
 * OMBC: at a low price the most powerful mode, at a high price the least, otherwise the middle one;
 * the reachable mode closest (in power order) to that wish. The active mode is always reachable.
 */
export function chooseOmbc(
  d: Pick<OMBCSystemDescription, 'operation_modes' | 'transitions'>,
  activeModeId: string,
  level: PriceLevel,
  finishedAt: (timerId: string) => number | undefined,
  nowMs: number,
): ModeChoice {
  const modes = d.operation_modes.filter((m) => !m.abnormal_condition_only || key(m.id) === key(activeModeId));
  const byPower = [...modes].sort((a, b) => peakPower(a.power_ranges) - peakPower(b.power_ranges));
  const wish = level === 'low' ? byPower.length - 1 : level === 'high' ? 0 : Math.floor((byPower.length - 1) / 2);
  const order = byPower.map((m, i) => ({ m, distance: Math.abs(i - wish) })).sort((a, b) => a.distance - b.distance);
  const factor = level === 'low' ? 1 : level === 'high' ? 0 : 0.5;
  for (const { m, distance } of order) {
    if (reachable(d.transitions, activeModeId, m.id, finishedAt, nowMs)) {
      return { modeId: m.id, factor, note: `${level} price: ${m.diagnostic_label ?? m.id}${distance ? ' (closest reachable)' : ''}` };
    }
  }
  return { modeId: activeModeId, factor, note: `${level} price: stay` };
}

/**
 * DDBC: the present demand rate a message reports (R112), whichever version the session speaks: a
 * DDBC.PresentDemandStatus (1.0.0-beta) or a 0.0.2-beta DDBC.SystemDescription carries it; a
 * 1.0.0-beta description does not (undefined).
 */
export function presentDemandRate(
  message: MessageOf<'DDBC.SystemDescription'> | MessageOf<'DDBC.PresentDemandStatus'>,
): NumberRange | undefined {
  return 'present_demand_rate' in message ? message.present_demand_rate : undefined;
}

/** The demand to meet: the midpoint of a present demand rate (the schema gives its ends no order). */
export function demandOf(range: NumberRange): number {
  return (range.start_of_range + range.end_of_range) / 2;
}

/**
 * DDBC: meet the present demand (midpoint of present_demand_rate, {@link demandOf}) with a reachable mode of the
 * actuator whose supply range holds it, at the factor that supplies exactly that (R67); else the
 * reachable mode whose supply comes closest.
 */
export function chooseDdbc(
  actuator: DDBCActuatorDescription,
  activeModeId: string,
  demand: number,
  finishedAt: (timerId: string) => number | undefined,
  nowMs: number,
): ModeChoice {
  let best: (ModeChoice & { readonly gap: number }) | undefined;
  for (const m of actuator.operation_modes) {
    if (m.abnormal_condition_only || !reachable(actuator.transitions, activeModeId, m.Id, finishedAt, nowMs)) continue;
    const { start_of_range: s, end_of_range: e } = m.supply_range;
    const factor = s === e ? 0 : Math.min(1, Math.max(0, (demand - s) / (e - s)));
    const supply = s + factor * (e - s);
    const gap = Math.abs(supply - demand);
    if (!best || gap < best.gap)
      best = {
        modeId: m.Id,
        factor: Math.round(factor * 1000) / 1000,
        gap,
        note: `demand ${demand}: supply ${Math.round(supply)} with ${m.diagnostic_label ?? m.Id}`,
      };
  }
  return best ?? { modeId: activeModeId, factor: 0, note: 'nothing reachable, stay' };
}

/** A power envelope to ask for (one element). */
export interface EnvelopeChoice {
  readonly commodityQuantity: PEBCPowerConstraints['allowed_limit_ranges'][number]['commodity_quantity'];
  readonly upper: number;
  readonly lower: number;
  readonly durationMs: number;
  readonly executionMs: number;
  readonly note: string;
}

/**
 * PEBC: for the first commodity quantity with both limit types (R92), the loosest upper limit and —
 * at a low price — a lower limit that curtails production to `curtailFraction` of the allowed
 * range (R97), from max(now, valid_from) for `durationMs`, cut at valid_until (R96).
 */
export function choosePebc(
  c: PEBCPowerConstraints,
  level: PriceLevel,
  curtailFraction: number,
  durationMs: number,
  nowMs: number,
): EnvelopeChoice | { readonly skip: string } {
  const usable = c.allowed_limit_ranges.filter((r) => !r.abnormal_condition_only);
  for (const cq of new Set(usable.map((r) => r.commodity_quantity))) {
    const uppers = usable.filter((r) => r.commodity_quantity === cq && r.limit_type === 'UPPER_LIMIT');
    const lowers = usable.filter((r) => r.commodity_quantity === cq && r.limit_type === 'LOWER_LIMIT');
    if (!uppers.length || !lowers.length) continue;
    const upper = Math.max(...uppers.map((r) => r.range_boundary.end_of_range));
    for (const l of lowers) {
      const { start_of_range: s, end_of_range: e } = l.range_boundary;
      let lower = level === 'low' ? e - (e - s) * curtailFraction : s;
      if (lower > upper) lower = Math.max(s, Math.min(e, upper));
      if (lower > upper) continue;
      const executionMs = Math.max(nowMs, Date.parse(c.valid_from));
      const until = c.valid_until === undefined ? Infinity : Date.parse(c.valid_until);
      const duration = Math.floor(Math.min(durationMs, until - executionMs));
      if (!(duration >= 1)) return { skip: `PowerConstraints ${c.id} expire before an envelope could run (R96)` };
      const note = level === 'low' ? `low price: curtail to ${lower} W` : `${level} price: no curtailment`;
      return { commodityQuantity: cq, upper, lower: Math.round(lower), durationMs: duration, executionMs, note };
    }
  }
  return { skip: `PowerConstraints ${c.id} have no usable pair of UPPER_LIMIT and LOWER_LIMIT ranges (R92, R50)` };
}

/** A sequence to schedule. */
export interface ScheduleChoice {
  readonly containerId: string;
  readonly sequenceId: string;
  readonly executionMs: number;
}

/**
 * PPBC: the first usable sequence of every container not scheduled yet, back to back (no pause,
 * so max_pause_before holds), from max(now, start_time); containers already running count with their
 * remaining time; stops at a container that can no longer fit before end_time (R103).
 */
export function choosePpbc(
  d: PPBCPowerProfileDefinition,
  statuses: ReadonlyMap<string, PPBCPowerSequenceContainerStatus>,
  nowMs: number,
): { readonly schedule: ScheduleChoice[]; readonly skipped?: string } {
  const schedule: ScheduleChoice[] = [];
  let t = Math.max(nowMs, Date.parse(d.start_time));
  const end = Date.parse(d.end_time);
  for (const c of d.power_sequences_containers) {
    const status = statuses.get(key(c.id));
    const length = (id: string | undefined) =>
      c.power_sequences.find((s) => id !== undefined && key(s.id) === key(id))?.elements.reduce((sum, e) => sum + e.duration, 0) ?? 0;
    switch (status?.status ?? 'NOT_SCHEDULED') {
      case 'FINISHED':
        continue;
      case 'ABORTED':
        return { schedule, skipped: `container ${c.id} was aborted: the later ones cannot run` };
      case 'NOT_SCHEDULED':
        break;
      default:
        t += Math.max(0, length(status?.selected_sequence_id) - (status?.progress ?? 0));
        continue;
    }
    const sequence = c.power_sequences.find((s) => !s.abnormal_condition_only);
    if (!sequence) return { schedule, skipped: `container ${c.id} has only abnormal-condition sequences (R50)` };
    const duration = length(sequence.id);
    if (t + duration > end) return { schedule, skipped: `container ${c.id} would end after end_time (R103)` };
    schedule.push({ containerId: c.id, sequenceId: sequence.id, executionMs: t });
    t += duration;
  }
  return { schedule };
}
