import type {
  CemControlContext,
  CemControlTypeHandler,
  CemControlTypes,
  FinalStatus,
  InstructionHandle,
  InstructionInput,
} from '../roles/cem-control.js';
import { newUuid } from '../roles/ids.js';
import type { DDBCActuatorStatus } from '../typebox/ddbc/index.js';
import type { NumberRange } from '../typebox/common/primitives.js';
import type { MessageOf } from '../typebox/registry.js';
import type { FRBCActuatorStatus, FRBCSystemDescription } from '../typebox/frbc/index.js';
import type { OMBCStatus, OMBCSystemDescription } from '../typebox/ombc/index.js';
import type { PPBCPowerProfileDefinition, PPBCPowerSequenceContainerStatus } from '../typebox/ppbc/index.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { chooseDdbc, chooseFrbc, chooseOmbc, choosePebc, choosePpbc, demandOf, key, presentDemandRate, type ModeChoice } from './choose.js';
import { emptyMap } from '../rules/knowledge/shared-empty.js';
import { priceLevel, simulatedPrice, type PriceLevel } from './price.js';

export interface CemPolicyOptions {
  /** Electricity price (EUR/kWh) at a moment. Default {@link simulatedPrice}. */
  readonly price?: (now: Date) => number;
  /** At or below this price energy is cheap (charge, run, curtail). Default 0.15. */
  readonly lowPrice?: number;
  /** At or above this price energy is dear (discharge, switch off). Default 0.30. */
  readonly highPrice?: number;
  /** PEBC: length of the power envelope, ms. Default 15 min. */
  readonly envelopeMs?: number;
  /** PEBC: at a low price, the share of the LOWER_LIMIT range production is curtailed to. Default 0.5. */
  readonly curtailFraction?: number;
  /** PPBC: pause an interruptible running sequence for this long (ms), to show the interruption instructions; false = never. Default 5000. */
  readonly interruptionMs?: number | false;
  /** Called for every decision and every final status (for logs, demos and tests). */
  readonly onEvent?: (event: PolicyEvent) => void;
}

export type PolicyEvent =
  | { readonly kind: 'instructed'; readonly controlType: ControlTypeShort; readonly handle: InstructionHandle; readonly note: string }
  | { readonly kind: 'final'; readonly controlType: ControlTypeShort; readonly handle: InstructionHandle; readonly status: FinalStatus }
  /** Nothing valid to instruct. */
  | { readonly kind: 'skipped'; readonly controlType: ControlTypeShort; readonly reason: string }
  /** The library refused an instruction the policy built (S2Error): a bug in the policy. */
  | { readonly kind: 'failed'; readonly controlType: ControlTypeShort; readonly reason: string };

export interface PolicySummary {
  /** Instructions given, over all sessions. */
  readonly given: number;
  readonly byControlType: Readonly<Record<ControlTypeShort, number>>;
  /** Final statuses so far (VOID: the control type or session ended first, Q12). */
  readonly final: Readonly<Partial<Record<FinalStatus, number>>>;
  /** Given and not final yet. */
  readonly open: number;
  /** Instructions the library refused to send (should stay 0). */
  readonly failed: number;
}

/** A CEM policy: the handlers (also spread at the top level, so the policy itself is a `CemControlTypes`) and its tally. */
export interface CemPolicy extends CemControlTypes {
  readonly handlers: CemControlTypes;
  summary(): PolicySummary;
}

/**
 * A simple CEM for all five control types. After every description the RM sends, it gives one
 * instruction for that control type — chosen by a simulated price signal where that makes sense —
 * and checks every reference itself first (docs/rules.md#operation-modes to #ppbc, see `choose.ts`), so the RM's
 * reference and rejection rules have nothing to object to. Per activation state lives in a
 * WeakMap keyed by the handler context, so one policy can serve many sessions.
 */
export function createCemPolicy(options: CemPolicyOptions = {}): CemPolicy {
  const price = options.price ?? simulatedPrice;
  const low = options.lowPrice ?? 0.15;
  const high = options.highPrice ?? 0.3;
  const envelopeMs = options.envelopeMs ?? 15 * 60_000;
  const curtailFraction = options.curtailFraction ?? 0.5;
  const interruptionMs = options.interruptionMs ?? 5000;
  const emit = (event: PolicyEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's fault must not become a handler error (PERMANENT_ERROR) on the session.
    }
  };

  const tally = {
    given: 0,
    failed: 0,
    open: 0,
    byControlType: Object.fromEntries(CONTROL_TYPE_SHORT.map((t) => [t, 0])) as Record<ControlTypeShort, number>,
    final: {} as Partial<Record<FinalStatus, number>>,
  };
  const levelAt = (ctx: { readonly session: { now(): Date } }): PriceLevel => priceLevel(price(ctx.session.now()), low, high);

  /** Sends an instruction; never throws into the session (a throw would answer PERMANENT_ERROR, R18). */
  function give<A extends ControlTypeShort>(ctx: CemControlContext<A>, type: A, input: InstructionInput<A>, note: string): void {
    if (!ctx.active) return;
    let handle: InstructionHandle;
    try {
      handle = ctx.instruct(input);
    } catch (err) {
      tally.failed++;
      emit({ kind: 'failed', controlType: type, reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    tally.given++;
    tally.open++;
    tally.byControlType[type]++;
    emit({ kind: 'instructed', controlType: type, handle, note });
    void handle.final.then((status) => {
      tally.open--;
      tally.final[status] = (tally.final[status] ?? 0) + 1;
      emit({ kind: 'final', controlType: type, handle, status });
    });
  }

  /** Per-activation state, created on first use. */
  function stateOf<S extends object>(map: WeakMap<object, S>, ctx: object, init: () => S): S {
    let s = map.get(ctx);
    if (!s) map.set(ctx, (s = init()));
    return s;
  }
  const timerLookup =
    (timers: ReadonlyMap<string, number>, prefix = '') =>
    (id: string) =>
      timers.get(prefix + key(id));

  // Per-activation collections are created at their first entry (`??=`): with thousands of
  // sessions, ones that never report a status or a timer keep no hash tables (bench/RESULTS.md §5.6).

  // FRBC: decide once per description, when every actuator's status and the fill level are known.
  interface FrbcState {
    description?: FRBCSystemDescription;
    statuses?: Map<string, FRBCActuatorStatus>;
    fill?: number;
    timers?: Map<string, number>;
    decided?: string;
  }
  const frbcStates = new WeakMap<object, FrbcState>();
  const frbc = (ctx: CemControlContext<'FRBC'>) => stateOf(frbcStates, ctx, (): FrbcState => ({}));
  function decideFrbc(ctx: CemControlContext<'FRBC'>): void {
    const s = frbc(ctx);
    const d = s.description;
    if (!d || s.fill === undefined || s.decided === key(d.message_id)) return;
    const statuses = d.actuators.map((a) => s.statuses?.get(key(a.id)));
    if (statuses.some((st, i) => !st || !d.actuators[i]!.operation_modes.some((m) => key(m.id) === key(st.active_operation_mode_id))))
      return;
    s.decided = key(d.message_id);
    const level = levelAt(ctx);
    const now = ctx.session.now().getTime();
    d.actuators.forEach((a, i) => {
      const st = statuses[i]!;
      const c = chooseFrbc(
        a,
        st.active_operation_mode_id,
        st.operation_mode_factor,
        d.storage,
        s.fill!,
        level,
        timerLookup(s.timers ?? emptyMap(), `${key(a.id)}/`),
        now,
      );
      give(
        ctx,
        'FRBC',
        { message_type: 'FRBC.Instruction', actuator_id: a.id, operation_mode: c.modeId, operation_mode_factor: c.factor },
        c.note,
      );
    });
  }
  const FRBC: CemControlTypeHandler<'FRBC'> = {
    'FRBC.SystemDescription'(m, ctx) {
      frbc(ctx).description = m;
      decideFrbc(ctx);
    },
    'FRBC.ActuatorStatus'(m, ctx) {
      (frbc(ctx).statuses ??= new Map()).set(key(m.actuator_id), m);
      decideFrbc(ctx);
    },
    'FRBC.StorageStatus'(m, ctx) {
      frbc(ctx).fill = m.present_fill_level;
      decideFrbc(ctx);
    },
    'FRBC.TimerStatus'(m, ctx) {
      (frbc(ctx).timers ??= new Map()).set(`${key(m.actuator_id)}/${key(m.timer_id)}`, Date.parse(m.finished_at));
    },
  };

  // OMBC: decide once per description, on the first status after it.
  interface OmbcState {
    description?: OMBCSystemDescription;
    status?: OMBCStatus;
    timers?: Map<string, number>;
    decided?: string;
  }
  const ombcStates = new WeakMap<object, OmbcState>();
  const ombc = (ctx: CemControlContext<'OMBC'>) => stateOf(ombcStates, ctx, (): OmbcState => ({}));
  function decideOmbc(ctx: CemControlContext<'OMBC'>): void {
    const s = ombc(ctx);
    const d = s.description;
    if (!d || !s.status || s.decided === key(d.message_id)) return;
    const active = s.status.active_operation_mode_id;
    if (!d.operation_modes.some((m) => key(m.id) === key(active))) return;
    s.decided = key(d.message_id);
    const c: ModeChoice = chooseOmbc(d, active, levelAt(ctx), timerLookup(s.timers ?? emptyMap()), ctx.session.now().getTime());
    give(ctx, 'OMBC', { message_type: 'OMBC.Instruction', operation_mode_id: c.modeId, operation_mode_factor: c.factor }, c.note);
  }
  const OMBC: CemControlTypeHandler<'OMBC'> = {
    'OMBC.SystemDescription'(m, ctx) {
      ombc(ctx).description = m;
      decideOmbc(ctx);
    },
    'OMBC.Status'(m, ctx) {
      ombc(ctx).status = m;
      decideOmbc(ctx);
    },
    'OMBC.TimerStatus'(m, ctx) {
      (ombc(ctx).timers ??= new Map()).set(key(m.timer_id), Date.parse(m.finished_at));
    },
  };

  // DDBC: decide once per description and present demand, when the first actuator's status is known.
  interface DdbcState {
    description?: MessageOf<'DDBC.SystemDescription'>;
    /** The latest present demand (R112): a 0.0.2-beta description's, or a 1.0.0-beta DDBC.PresentDemandStatus's. */
    demand?: NumberRange | undefined;
    statuses?: Map<string, DDBCActuatorStatus>;
    timers?: Map<string, number>;
    decided?: string;
  }
  const ddbcStates = new WeakMap<object, DdbcState>();
  const ddbc = (ctx: CemControlContext<'DDBC'>) => stateOf(ddbcStates, ctx, (): DdbcState => ({}));
  function decideDdbc(ctx: CemControlContext<'DDBC'>): void {
    const s = ddbc(ctx);
    const d = s.description;
    const a = d?.actuators[0];
    // 1.0.0-beta: the description carries no demand; wait for the RM's DDBC.PresentDemandStatus.
    if (!d || !a || !s.demand) return;
    const demand = demandOf(s.demand);
    const decision = `${key(d.message_id)}/${demand}`;
    if (s.decided === decision) return;
    const st = s.statuses?.get(key(a.id));
    if (!st || !a.operation_modes.some((m) => key(m.Id) === key(st.active_operation_mode_id))) return;
    s.decided = decision;
    const c = chooseDdbc(
      a,
      st.active_operation_mode_id,
      demand,
      timerLookup(s.timers ?? emptyMap(), `${key(a.id)}/`),
      ctx.session.now().getTime(),
    );
    give(
      ctx,
      'DDBC',
      { message_type: 'DDBC.Instruction', actuator_id: a.id, operation_mode_id: c.modeId, operation_mode_factor: c.factor },
      c.note,
    );
  }
  const DDBC: CemControlTypeHandler<'DDBC'> = {
    'DDBC.SystemDescription'(m, ctx) {
      const s = ddbc(ctx);
      s.description = m;
      s.demand = presentDemandRate(m) ?? s.demand;
      decideDdbc(ctx);
    },
    'DDBC.PresentDemandStatus'(m, ctx) {
      ddbc(ctx).demand = m.present_demand_rate;
      decideDdbc(ctx);
    },
    'DDBC.ActuatorStatus'(m, ctx) {
      (ddbc(ctx).statuses ??= new Map()).set(key(m.actuator_id), m);
      decideDdbc(ctx);
    },
    'DDBC.TimerStatus'(m, ctx) {
      (ddbc(ctx).timers ??= new Map()).set(`${key(m.actuator_id)}/${key(m.timer_id)}`, Date.parse(m.finished_at));
    },
  };

  // PEBC: one envelope per PowerConstraints.
  const pebcDecided = new WeakMap<object, Set<string>>();
  const PEBC: CemControlTypeHandler<'PEBC'> = {
    'PEBC.PowerConstraints'(m, ctx) {
      const decided = stateOf(pebcDecided, ctx, () => new Set<string>());
      if (decided.has(key(m.id))) return;
      decided.add(key(m.id));
      const c = choosePebc(m, levelAt(ctx), curtailFraction, envelopeMs, ctx.session.now().getTime());
      if ('skip' in c) {
        emit({ kind: 'skipped', controlType: 'PEBC', reason: c.skip });
        return;
      }
      give(
        ctx,
        'PEBC',
        {
          message_type: 'PEBC.Instruction',
          execution_time: new Date(c.executionMs).toISOString(),
          power_constraints_id: m.id,
          power_envelopes: [
            {
              id: newUuid(),
              commodity_quantity: c.commodityQuantity,
              power_envelope_elements: [{ duration: c.durationMs, upper_limit: c.upper, lower_limit: c.lower }],
            },
          ],
        },
        c.note,
      );
    },
  };

  // PPBC: schedule once per definition, on the first status that reports it (R99, R105);
  // interrupt an interruptible running sequence once and resume it `interruptionMs` later (R104).
  interface PpbcState {
    definitions: Map<string, PPBCPowerProfileDefinition>;
    decided: Set<string>;
    interrupted?: Set<string>;
    resumed?: Set<string>;
  }
  const ppbcStates = new WeakMap<object, PpbcState>();
  const ppbc = (ctx: CemControlContext<'PPBC'>) =>
    stateOf(ppbcStates, ctx, (): PpbcState => ({ definitions: new Map(), decided: new Set() }));
  const PPBC: CemControlTypeHandler<'PPBC'> = {
    'PPBC.PowerProfileDefinition'(m, ctx) {
      const s = ppbc(ctx);
      s.definitions.set(key(m.id), m);
      s.decided.delete(key(m.id)); // Q21: a definition with a known id replaces it; decide afresh
    },
    'PPBC.PowerProfileStatus'(m, ctx) {
      const s = ppbc(ctx);
      const byProfile = new Map<string, Map<string, PPBCPowerSequenceContainerStatus>>();
      for (const st of m.sequence_container_status) {
        const p = key(st.power_profile_id);
        if (!byProfile.has(p)) byProfile.set(p, new Map());
        byProfile.get(p)!.set(key(st.sequence_container_id), st);
      }
      const now = ctx.session.now().getTime();
      for (const [p, statuses] of byProfile) {
        const d = s.definitions.get(p);
        if (!d) continue;
        if (!s.decided.has(p)) {
          s.decided.add(p);
          const { schedule, skipped } = choosePpbc(d, statuses, now);
          for (const c of schedule) {
            const input = {
              message_type: 'PPBC.ScheduleInstruction',
              power_profile_id: d.id,
              sequence_container_id: c.containerId,
              power_sequence_id: c.sequenceId,
              execution_time: new Date(c.executionMs).toISOString(),
            } as const;
            give(ctx, 'PPBC', input, `schedule container ${c.containerId} at ${input.execution_time}`);
          }
          if (skipped) emit({ kind: 'skipped', controlType: 'PPBC', reason: skipped });
        }
        if (interruptionMs === false) continue;
        for (const c of d.power_sequences_containers) {
          const st = statuses.get(key(c.id));
          const selected = st?.selected_sequence_id;
          const sequence = c.power_sequences.find((x) => selected !== undefined && key(x.id) === key(selected));
          if (!st || !sequence?.is_interruptible) continue;
          const path = { power_profile_id: d.id, sequence_container_id: c.id, power_sequence_id: sequence.id } as const;
          const id = `${p}/${key(c.id)}`;
          if (st.status === 'EXECUTING' && !s.interrupted?.has(id)) {
            (s.interrupted ??= new Set()).add(id);
            give(ctx, 'PPBC', { message_type: 'PPBC.StartInterruptionInstruction', ...path }, `pause ${c.id}`);
          } else if (st.status === 'INTERRUPTED' && s.interrupted?.has(id) && !s.resumed?.has(id)) {
            (s.resumed ??= new Set()).add(id);
            give(
              ctx,
              'PPBC',
              { message_type: 'PPBC.EndInterruptionInstruction', ...path, execution_time: new Date(now + interruptionMs).toISOString() },
              `resume ${c.id} in ${interruptionMs} ms`,
            );
          }
        }
      }
    },
  };

  const handlers: CemControlTypes = { FRBC, PPBC, OMBC, PEBC, DDBC };
  return {
    ...handlers,
    handlers,
    summary: () => ({
      given: tally.given,
      failed: tally.failed,
      open: tally.open,
      byControlType: { ...tally.byControlType },
      final: { ...tally.final },
    }),
  };
}
