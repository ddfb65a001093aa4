import type { RmControlTypeHandler } from '../roles/rm-control.js';
import { newUuid } from '../roles/ids.js';
import type { Outgoing } from '../roles/session.js';
import type { Timer, Transition } from '../typebox/common/operation-mode.js';
import type { NumberRange } from '../typebox/common/primitives.js';
import type { DDBCAverageDemandRateForecastElement, DDBCInstruction, DDBCOperationMode } from '../typebox/ddbc/index.js';
import type { MessageOf } from '../typebox/registry.js';
import { DeviceRuntime, positive, scaled, type SimOptions, type SimulatedDevice } from './device.js';
import { ModeGraph, atFactor } from './mode-graph.js';

export interface HeatBufferOptions extends SimOptions {
  /** Heat demand of the house, W thermal. Default 4000. */
  readonly demandW?: number;
  /**
   * Heat demand of the house at a moment (the device's clock), W thermal, when it varies; overrides
   * `demandW` (a value that is not a finite number ≥ 0 counts as `demandW`). When it has moved by
   * more than 5 % (at least 50 W) from the demand last reported, the RM reports it again (R112):
   * a DDBC.PresentDemandStatus under S2 JSON 1.0.0-beta, a new DDBC.SystemDescription (R72)
   * under 0.0.2-beta, where the description carries the present demand.
   */
  readonly demand?: (now: Date) => number;
  /** Buffer volume, litres of water. Default 300. */
  readonly litres?: number;
  /** Buffer temperature at creation, °C. Default 45; the buffer keeps itself between 35 and 60 °C (R48, R66). */
  readonly initialTempC?: number;
  /** Minimum on time of the compressor, ms (real time). Default 10 min. */
  readonly minOnMs?: number;
  /** Minimum off time, ms (real time). Default 5 min. */
  readonly minOffMs?: number;
}

const CQ = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;
const HOUR = 3_600_000;
const WATER_J_PER_LITRE_K = 4186;
const MIN_C = 35;
const MAX_C = 60;
/** Relative heat demand per hour of the day (UTC): cold nights and mornings, mild afternoons. */
const DAILY = [
  1.2, 1.2, 1.25, 1.3, 1.3, 1.35, 1.4, 1.3, 1.1, 1.0, 0.9, 0.8, 0.75, 0.7, 0.7, 0.75, 0.85, 1.0, 1.1, 1.15, 1.15, 1.2, 1.2, 1.2,
];

/**
 * DDBC — a heat buffer filled by a heat-pump compressor (docs/rules.md#operation-modes, #ddbc). One actuator
 * with modes off / low / high (mode key `Id`, R88; `supported_commodites`, R89), each with its
 * electric power and its heat supply (`supply_range`, W thermal, start = factor 0). The house draws
 * `demandW` (present_demand_rate); the RM forecasts it for 24 h (AverageDemandRateForecast, as
 * `provides_average_demand_rate_forecast` is true, R86). Minimum on/off timers guard the
 * transitions (R64). The buffer protects itself: off above 60 °C, low below 35 °C (R66).
 *
 * It speaks the version its session selected (`session.version`): under 0.0.2-beta the present
 * demand is part of the description; under 1.0.0-beta the description has none and a
 * DDBC.PresentDemandStatus follows it, and another one whenever the demand changes (R112).
 */
export function createHeatBuffer(options: HeatBufferOptions = {}): SimulatedDevice<'DDBC'> {
  const rt = new DeviceRuntime<'DDBC'>('heat buffer', options);
  const demandW = positive(options.demandW, 4000, 'demandW');
  const litres = positive(options.litres, 300, 'litres');
  const minOnMs = positive(options.minOnMs, 10 * 60_000, 'minOnMs');
  const minOffMs = positive(options.minOffMs, 5 * 60_000, 'minOffMs');
  let tempC = Math.min(MAX_C, Math.max(MIN_C, options.initialTempC ?? 45));
  /** The house's demand now, W thermal. */
  const demandAt = (now: Date): number => {
    const w = options.demand?.(now);
    return typeof w === 'number' && Number.isFinite(w) && w >= 0 ? w : demandW;
  };
  /** The activation speaks S2 JSON 1.0.0-beta (DDBC.PresentDemandStatus), set in `activate`. */
  let v1 = false;
  /** The demand last reported to the CEM, W thermal. */
  let reportedW = demandW;

  const ids = { actuator: newUuid(), off: newUuid(), low: newUuid(), high: newUuid(), minOn: newUuid(), minOff: newUuid() };
  const COP = 3.5;
  const mode = (id: string, label: string, fromW: number, toW: number): DDBCOperationMode => ({
    Id: id, // R88: capital I on the wire
    diagnostic_label: label,
    power_ranges: [{ start_of_range: fromW, end_of_range: toW, commodity_quantity: CQ }],
    supply_range: { start_of_range: fromW * COP, end_of_range: toW * COP },
    abnormal_condition_only: false,
  });
  const modes: DDBCOperationMode[] = [
    mode(ids.off, 'compressor off', 0, 0),
    mode(ids.low, 'compressor low', 1000, 1500),
    mode(ids.high, 'compressor high', 2000, 3000),
  ];
  const timers: Timer[] = [
    { id: ids.minOn, diagnostic_label: 'minimum on time', duration: scaled(minOnMs, rt.speed) },
    { id: ids.minOff, diagnostic_label: 'minimum off time', duration: scaled(minOffMs, rt.speed) },
  ];
  const transition = (from: string, to: string, start: string[], blocking: string[]): Transition => ({
    id: newUuid(),
    from,
    to,
    start_timers: start,
    blocking_timers: blocking,
    abnormal_condition_only: false,
  });
  const transitions: Transition[] = [
    transition(ids.off, ids.low, [ids.minOn], [ids.minOff]),
    transition(ids.off, ids.high, [ids.minOn], [ids.minOff]),
    transition(ids.low, ids.high, [], []),
    transition(ids.high, ids.low, [], []),
    transition(ids.low, ids.off, [ids.minOff], [ids.minOn]),
    transition(ids.high, ids.off, [ids.minOff], [ids.minOn]),
  ];
  const graph = new ModeGraph(ids.off, 0, transitions, timers);
  const modeOf = (id: string) => modes.find((m) => m.Id === id);

  const demandRange = (w: number): NumberRange => ({ start_of_range: Math.round(w * 0.9), end_of_range: Math.round(w * 1.1) });
  /** The description in the session's version: 0.0.2-beta's carries the present demand, 1.0.0-beta's does not. */
  const description = (): Outgoing<MessageOf<'DDBC.SystemDescription'>> => {
    const valid_from = rt.now().toISOString();
    const actuators = [
      {
        id: ids.actuator,
        diagnostic_label: 'heat pump compressor',
        supported_commodites: ['ELECTRICITY' as const],
        operation_modes: modes,
        transitions,
        timers,
      },
    ];
    return v1
      ? { message_type: 'DDBC.SystemDescription', valid_from, actuators, provides_average_demand_rate_forecast: true }
      : {
          message_type: 'DDBC.SystemDescription',
          valid_from,
          actuators,
          present_demand_rate: demandRange(reportedW),
          provides_average_demand_rate_forecast: true,
        };
  };
  /** R112: the present demand, 1.0.0-beta only (0.0.2-beta has no such message). */
  const sendPresentDemand = () => rt.send({ message_type: 'DDBC.PresentDemandStatus', present_demand_rate: demandRange(reportedW) });
  /** A changed demand is reported in the way the session's version has for it (R112; R72 under 0.0.2-beta). */
  const reportDemand = (w: number) => {
    if (Math.abs(w - reportedW) <= Math.max(50, reportedW * 0.05)) return;
    reportedW = w;
    if (v1) sendPresentDemand();
    else rt.send(description());
  };
  const forecast = () => {
    const now = rt.now();
    const elements: DDBCAverageDemandRateForecastElement[] = DAILY.map((_, i) => {
      const expected = Math.round(
        options.demand ? demandAt(new Date(now.getTime() + i * scaled(HOUR, rt.speed))) : demandW * DAILY[(now.getUTCHours() + i) % 24]!,
      );
      // R110: the bands nest around the expected rate.
      return {
        duration: scaled(HOUR, rt.speed),
        demand_rate_upper_95PPR: Math.round(expected * 1.2),
        demand_rate_upper_68PPR: Math.round(expected * 1.1),
        demand_rate_expected: expected,
        demand_rate_lower_68PPR: Math.round(expected * 0.9),
        demand_rate_lower_95PPR: Math.round(expected * 0.8),
      };
    });
    rt.send({ message_type: 'DDBC.AverageDemandRateForecast', start_time: now.toISOString(), elements });
  };
  const sendActuatorStatus = () => rt.send({ message_type: 'DDBC.ActuatorStatus', actuator_id: ids.actuator, ...graph.statusFields() });
  const sendTimer = (timerId: string, finishedAt: Date) =>
    rt.send({ message_type: 'DDBC.TimerStatus', actuator_id: ids.actuator, timer_id: timerId, finished_at: finishedAt.toISOString() });
  /** Switches and reports: timers first, then the status (R60, R71). */
  const switchTo = (to: string, factor: number, transition: Transition | undefined) => {
    for (const run of graph.switchTo(to, factor, rt.now(), transition)) sendTimer(run.timerId, run.finishedAt);
    sendActuatorStatus();
  };

  const objection = (m: DDBCInstruction, atMs: number): string | undefined => {
    if (m.actuator_id.toLowerCase() !== ids.actuator) return `unknown actuator ${m.actuator_id} (R87)`;
    const target = modeOf(m.operation_mode_id.toLowerCase());
    if (!target) return `unknown operation mode ${m.operation_mode_id} (R87)`;
    if (target.abnormal_condition_only && !m.abnormal_condition) return 'mode for abnormal conditions only (R50)';
    // Comfort and safety stay the RM's (R48): no heating into an overheated buffer.
    if (tempC >= MAX_C && target.Id !== ids.off) return `buffer at ${tempC.toFixed(1)} °C: no more heat (R48)`;
    const route = graph.route(target.Id, m.abnormal_condition, atMs);
    return 'reason' in route ? route.reason : undefined;
  };

  const handler: RmControlTypeHandler<'DDBC'> = {
    activate(ctx) {
      v1 = ctx.session.version === '1.0.0-beta';
      reportedW = demandAt(ctx.session.now());
      rt.start(ctx, tick);
      // R86: the description, then the actuator status; the forecast because we said we provide it.
      rt.send(description());
      // R39, R112: under 1.0.0-beta the present demand follows the description it refers to.
      if (v1) sendPresentDemand();
      for (const run of graph.timerRuns(rt.now())) sendTimer(run.timerId, run.finishedAt);
      sendActuatorStatus();
      forecast();
    },
    onInstruction(instruction) {
      const why = objection(instruction, Math.max(Date.parse(instruction.execution_time), rt.now().getTime()));
      return why ? { reject: why } : 'accept';
    },
    execute(instruction) {
      const now = rt.now().getTime();
      if (objection(instruction, now)) {
        rt.status(instruction.id, 'ABORTED');
        return;
      }
      const target = instruction.operation_mode_id.toLowerCase();
      const route = graph.route(target, instruction.abnormal_condition, now);
      rt.status(instruction.id, 'STARTED');
      switchTo(target, instruction.operation_mode_factor, 'transition' in route ? route.transition : undefined);
      rt.status(instruction.id, 'SUCCEEDED');
    },
    onRevoked(instruction) {
      rt.revoked(instruction.id);
    },
    deactivate() {
      rt.stop();
    },
  };

  function tick(elapsedMs: number): void {
    const active = modeOf(graph.active)!;
    const supplyW = atFactor(active.supply_range, graph.factor);
    const houseW = demandAt(rt.now());
    reportDemand(houseW);
    tempC += ((supplyW - houseW) * (elapsedMs / 1000) * rt.speed) / (litres * WATER_J_PER_LITRE_K);
    // The buffer guards itself (R48, R66): the RM may switch without an instruction, even where a timer blocks.
    const own = (to: string, factor: number) =>
      switchTo(
        to,
        factor,
        transitions.find((t) => t.from === graph.active && t.to === to),
      );
    if (tempC >= MAX_C && graph.active !== ids.off) own(ids.off, 0);
    else if (tempC <= MIN_C && graph.active === ids.off) own(ids.low, 1);
    tempC = Math.min(MAX_C + 5, Math.max(MIN_C - 5, tempC));
    const power = atFactor(modeOf(graph.active)!.power_ranges[0]!, graph.factor);
    rt.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: rt.now().toISOString(),
      values: [
        { commodity_quantity: CQ, value: Math.round(power) },
        { commodity_quantity: 'HEAT.TEMPERATURE', value: Math.round(tempC * 10) / 10 },
      ],
    });
  }

  return {
    controlType: 'DDBC',
    details: {
      resource_id: newUuid(),
      name: 'Heat buffer with heat pump',
      roles: [
        { role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' },
        { role: 'ENERGY_STORAGE', commodity: 'HEAT' },
      ],
      manufacturer: 's2-engine simulations',
      model: 'SimBuffer 300 l',
      serial_number: `HB-${newUuid().slice(0, 8)}`,
      firmware_version: '1.4.0',
      instruction_processing_delay: 1000,
      available_control_types: ['DEMAND_DRIVEN_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: [CQ, 'HEAT.TEMPERATURE'],
    },
    handler,
    stop: () => rt.stop(),
  };
}
