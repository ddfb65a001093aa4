import type { RmControlTypeHandler } from '../roles/rm-control.js';
import { newUuid } from '../roles/ids.js';
import type { Timer, Transition } from '../typebox/common/operation-mode.js';
import type { FRBCInstruction } from '../typebox/frbc/instruction.js';
import type { FRBCOperationMode, FRBCOperationModeElement, FRBCSystemDescription } from '../typebox/frbc/system-description.js';
import { DeviceRuntime, positive, scaled, type SimOptions, type SimulatedDevice } from './device.js';
import { ModeGraph, atFactor } from './mode-graph.js';

export interface BatteryOptions extends SimOptions {
  /** Usable capacity, Wh. Default 10 000 (a 10 kWh home battery). */
  readonly capacityWh?: number;
  /** Maximum charge power, W. Default 5000. */
  readonly maxChargeW?: number;
  /** Maximum discharge power, W (positive number). Default 5000. */
  readonly maxDischargeW?: number;
  /** One-way efficiency between the grid and the cells. Default 0.95. */
  readonly efficiency?: number;
  /** State of charge at creation, %. Default 50. */
  readonly initialFillLevel?: number;
  /** Minimum run time of charge and discharge before the battery may go idle again, ms (real time). Default 120 000. */
  readonly minimumRunMs?: number;
}

const CQ = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;
const FULL = 100;
const EMPTY = 0;
/** Above this state of charge the charger tapers (constant-voltage phase). */
const TAPER = 90;

type Role = 'charge' | 'idle' | 'discharge';

/**
 * FRBC — a home battery (docs/rules.md#operation-modes, #frbc). One actuator (the inverter) with three
 * operation modes: charge (consumption, positive power, R9), idle, discharge (production,
 * negative power); storage = state of charge 0–100 %, fill rates in %/s. Charge and discharge
 * start a minimum-run timer that blocks going back to idle (R64); there is no direct
 * charge ↔ discharge transition (R63). All ranges are written start ≤ end, as s2-python demands:
 * discharge runs from −max (factor 0) to −1000 W (factor 1).
 */
export function createBattery(options: BatteryOptions = {}): SimulatedDevice<'FRBC'> {
  const rt = new DeviceRuntime<'FRBC'>('battery', options);
  const capacityWh = positive(options.capacityWh, 10_000, 'capacityWh');
  const maxChargeW = positive(options.maxChargeW, 5000, 'maxChargeW');
  const maxDischargeW = positive(options.maxDischargeW, 5000, 'maxDischargeW');
  const efficiency = positive(options.efficiency, 0.95, 'efficiency');
  const minimumRunMs = positive(options.minimumRunMs, 120_000, 'minimumRunMs');
  let fill = Math.min(FULL, Math.max(EMPTY, options.initialFillLevel ?? 50));

  // Fill rate in %/s for a grid-side power, as announced (× speed, see SimOptions.speed).
  const cellsW = (gridW: number) => (gridW >= 0 ? gridW * efficiency : gridW / efficiency);
  const rate = (gridW: number) => (cellsW(gridW) / (capacityWh * 3600)) * 100 * rt.speed;
  const element = (from: number, to: number, startW: number, endW: number): FRBCOperationModeElement => ({
    fill_level_range: { start_of_range: from, end_of_range: to },
    fill_rate: { start_of_range: rate(startW), end_of_range: rate(endW) },
    power_ranges: [{ start_of_range: startW, end_of_range: endW, commodity_quantity: CQ }],
  });

  const ids = { actuator: newUuid(), charge: newUuid(), idle: newUuid(), discharge: newUuid(), minRun: newUuid() };
  const roleOf = new Map<string, Role>([
    [ids.charge, 'charge'],
    [ids.idle, 'idle'],
    [ids.discharge, 'discharge'],
  ]);
  const modes: FRBCOperationMode[] = [
    {
      id: ids.charge,
      diagnostic_label: 'charge',
      elements: [
        element(EMPTY, TAPER, Math.min(1000, maxChargeW), maxChargeW),
        element(TAPER, FULL, Math.min(500, maxChargeW), Math.min(1500, maxChargeW)),
      ],
      abnormal_condition_only: false,
    },
    { id: ids.idle, diagnostic_label: 'idle', elements: [element(EMPTY, FULL, 0, 0)], abnormal_condition_only: false },
    {
      id: ids.discharge,
      diagnostic_label: 'discharge',
      elements: [element(EMPTY, FULL, -maxDischargeW, -Math.min(1000, maxDischargeW))],
      abnormal_condition_only: false,
    },
  ];
  const timers: Timer[] = [{ id: ids.minRun, diagnostic_label: 'minimum run time', duration: scaled(minimumRunMs, rt.speed) }];
  const transition = (from: string, to: string, start: string[], blocking: string[]): Transition => ({
    id: newUuid(),
    from,
    to,
    start_timers: start,
    blocking_timers: blocking,
    abnormal_condition_only: false,
  });
  const transitions: Transition[] = [
    transition(ids.idle, ids.charge, [ids.minRun], []),
    transition(ids.idle, ids.discharge, [ids.minRun], []),
    transition(ids.charge, ids.idle, [], [ids.minRun]),
    transition(ids.discharge, ids.idle, [], [ids.minRun]),
  ];
  const graph = new ModeGraph(ids.idle, 0, transitions, timers);

  /** The element of a mode that holds the fill level ([start, end), the last one closed, Q19). */
  const elementAt = (modeId: string, level: number): FRBCOperationModeElement | undefined => {
    const els = modes.find((m) => m.id === modeId)?.elements ?? [];
    return els.find(
      (e, i) =>
        level >= e.fill_level_range.start_of_range &&
        (level < e.fill_level_range.end_of_range || (i === els.length - 1 && level <= e.fill_level_range.end_of_range)),
    );
  };
  const powerW = () => {
    const e = elementAt(graph.active, fill);
    return e ? atFactor(e.power_ranges[0]!, graph.factor) : 0;
  };

  const description = (): Omit<FRBCSystemDescription, 'message_id'> => ({
    message_type: 'FRBC.SystemDescription',
    valid_from: rt.now().toISOString(),
    actuators: [
      {
        id: ids.actuator,
        diagnostic_label: 'battery inverter',
        supported_commodities: ['ELECTRICITY'],
        operation_modes: modes,
        transitions,
        timers,
      },
    ],
    storage: {
      diagnostic_label: 'battery cells',
      fill_level_label: 'state of charge (%)',
      provides_leakage_behaviour: false,
      provides_fill_level_target_profile: false,
      provides_usage_forecast: false,
      fill_level_range: { start_of_range: EMPTY, end_of_range: FULL },
    },
  });
  const sendActuatorStatus = () => rt.send({ message_type: 'FRBC.ActuatorStatus', actuator_id: ids.actuator, ...graph.statusFields() });
  const sendTimer = (timerId: string, finishedAt: Date) =>
    rt.send({ message_type: 'FRBC.TimerStatus', actuator_id: ids.actuator, timer_id: timerId, finished_at: finishedAt.toISOString() });
  let reportedFill = Number.NaN;
  const sendStorageStatus = () => {
    reportedFill = fill;
    rt.send({ message_type: 'FRBC.StorageStatus', present_fill_level: round(fill) });
  };

  /** Why the battery cannot switch to this mode now (R48, R63, R64, R80), or undefined. */
  const objection = (m: FRBCInstruction, atMs: number): string | undefined => {
    if (m.actuator_id.toLowerCase() !== ids.actuator) return `unknown actuator ${m.actuator_id}`;
    const target = m.operation_mode.toLowerCase();
    const role = roleOf.get(target);
    if (!role) return `unknown operation mode ${m.operation_mode}`;
    // R80: the CEM keeps the fill level within the storage range; an instruction that would leave it is refused.
    if (role === 'charge' && fill >= FULL) return `battery full (${round(fill)} %): charging would leave the fill-level range (R80)`;
    if (role === 'discharge' && fill <= EMPTY)
      return `battery empty (${round(fill)} %): discharging would leave the fill-level range (R80)`;
    const route = graph.route(target, m.abnormal_condition, atMs);
    return 'reason' in route ? route.reason : undefined;
  };

  const handler: RmControlTypeHandler<'FRBC'> = {
    activate(ctx) {
      rt.start(ctx, tick);
      // R73: description, then the actuator's status and the storage status. The timers go first
      // so that a CEM deciding on the first ActuatorStatus already knows them (R64, R71).
      rt.send(description());
      for (const run of graph.timerRuns(rt.now())) sendTimer(run.timerId, run.finishedAt);
      sendActuatorStatus();
      sendStorageStatus();
    },
    onInstruction(instruction) {
      const at = Math.max(Date.parse(instruction.execution_time), rt.now().getTime());
      const why = objection(instruction, at);
      return why ? { reject: why } : 'accept';
    },
    execute(instruction) {
      const now = rt.now();
      // Judged again at execution_time (R43): the fill level or timers may have changed since.
      const why = objection(instruction, now.getTime());
      if (why) {
        rt.status(instruction.id, 'ABORTED');
        return;
      }
      const target = instruction.operation_mode.toLowerCase();
      const route = graph.route(target, instruction.abnormal_condition, now.getTime());
      rt.status(instruction.id, 'STARTED');
      const runs = graph.switchTo(target, instruction.operation_mode_factor, now, 'transition' in route ? route.transition : undefined);
      // Timers before the status, as on activation: a CEM reacting to the status knows them (R64).
      for (const run of runs) sendTimer(run.timerId, run.finishedAt);
      sendActuatorStatus(); // R60, R81
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
    const e = elementAt(graph.active, fill);
    if (e) fill += atFactor(e.fill_rate, graph.factor) * (elapsedMs / 1000);
    const role = roleOf.get(graph.active);
    // The battery protects its cells itself (R48, R66): full while charging or empty while discharging ⇒ idle.
    if ((role === 'charge' && fill >= FULL) || (role === 'discharge' && fill <= EMPTY)) {
      fill = Math.min(FULL, Math.max(EMPTY, fill));
      graph.switchTo(ids.idle, 0, rt.now(), undefined);
      sendActuatorStatus();
    }
    fill = Math.min(FULL, Math.max(EMPTY, fill));
    if (round(fill) !== round(reportedFill)) sendStorageStatus(); // R81: on change
    rt.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: rt.now().toISOString(),
      values: [{ commodity_quantity: CQ, value: round(powerW()) }],
    }); // R108
  }

  return {
    controlType: 'FRBC',
    details: {
      resource_id: newUuid(),
      name: `Home battery ${round(capacityWh / 1000)} kWh`,
      roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
      manufacturer: 's2-engine simulations',
      model: 'SimBattery 10',
      serial_number: `BAT-${newUuid().slice(0, 8)}`,
      firmware_version: '1.0.0',
      instruction_processing_delay: 200,
      available_control_types: ['FILL_RATE_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: [CQ],
    },
    handler,
    stop: () => rt.stop(),
  };
}

/** Four decimals: enough for a state of charge, avoids 17-digit noise on the wire. */
function round(x: number): number {
  const r = Math.round(x * 10_000) / 10_000;
  return r === 0 ? 0 : r;
}
