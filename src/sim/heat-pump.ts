import type { RmControlTypeHandler } from '../roles/rm-control.js';
import { newUuid } from '../roles/ids.js';
import type { Timer, Transition } from '../typebox/common/operation-mode.js';
import type { OMBCInstruction } from '../typebox/ombc/instruction.js';
import type { OMBCOperationMode, OMBCSystemDescription } from '../typebox/ombc/system-description.js';
import { DeviceRuntime, positive, scaled, type SimOptions, type SimulatedDevice } from './device.js';
import { ModeGraph, atFactor } from './mode-graph.js';

export interface HeatPumpOptions extends SimOptions {
  /** Minimum on time of the compressor, ms (real time). Default 10 min. */
  readonly minOnMs?: number;
  /** Minimum off time, ms (real time). Default 5 min. */
  readonly minOffMs?: number;
  /** Compressor start-up (transition_duration of off → low/high), ms (real time). Default 30 s. */
  readonly startupMs?: number;
}

const CQ = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;

/**
 * OMBC — an air-to-water heat pump (docs/rules.md#operation-modes, #ombc). Operation modes off / low / high;
 * leaving off starts the minimum-on timer and needs the minimum-off timer finished, going off the
 * reverse (R64); low ↔ high is free. Starting the compressor takes `startupMs`
 * (transition_duration, R65): the instruction is STARTED at execution_time and SUCCEEDED once
 * the heat pump runs in the new mode.
 */
export function createHeatPump(options: HeatPumpOptions = {}): SimulatedDevice<'OMBC'> {
  const rt = new DeviceRuntime<'OMBC'>('heat pump', options);
  const minOnMs = positive(options.minOnMs, 10 * 60_000, 'minOnMs');
  const minOffMs = positive(options.minOffMs, 5 * 60_000, 'minOffMs');
  const startupMs = options.startupMs === undefined ? 30_000 : Math.max(0, options.startupMs);

  const ids = { off: newUuid(), low: newUuid(), high: newUuid(), minOn: newUuid(), minOff: newUuid() };
  const mode = (id: string, label: string, fromW: number, toW: number): OMBCOperationMode => ({
    id,
    diagnostic_label: label,
    power_ranges: [{ start_of_range: fromW, end_of_range: toW, commodity_quantity: CQ }],
    abnormal_condition_only: false,
  });
  const modes: OMBCOperationMode[] = [
    mode(ids.off, 'off', 0, 0),
    mode(ids.low, 'low (space heating)', 700, 1400),
    mode(ids.high, 'high (boost / hot water)', 1800, 3200),
  ];
  const timers: Timer[] = [
    { id: ids.minOn, diagnostic_label: 'minimum on time', duration: scaled(minOnMs, rt.speed) },
    { id: ids.minOff, diagnostic_label: 'minimum off time', duration: scaled(minOffMs, rt.speed) },
  ];
  const startup = scaled(startupMs, rt.speed);
  const transition = (from: string, to: string, start: string[], blocking: string[], durationMs?: number): Transition => ({
    id: newUuid(),
    from,
    to,
    start_timers: start,
    blocking_timers: blocking,
    ...(durationMs ? { transition_duration: durationMs } : {}),
    abnormal_condition_only: false,
  });
  const transitions: Transition[] = [
    transition(ids.off, ids.low, [ids.minOn], [ids.minOff], startup),
    transition(ids.off, ids.high, [ids.minOn], [ids.minOff], startup),
    transition(ids.low, ids.high, [], []),
    transition(ids.high, ids.low, [], []),
    transition(ids.low, ids.off, [ids.minOff], [ids.minOn]),
    transition(ids.high, ids.off, [ids.minOff], [ids.minOn]),
  ];
  const graph = new ModeGraph(ids.off, 0, transitions, timers);
  /** An instruction whose transition is still under way (R65): done at `doneAt`. */
  let underway: { readonly id: string; readonly doneAt: number } | undefined;

  const description = (): Omit<OMBCSystemDescription, 'message_id'> => ({
    message_type: 'OMBC.SystemDescription',
    valid_from: rt.now().toISOString(),
    operation_modes: modes,
    transitions,
    timers,
  });
  const sendStatus = () => rt.send({ message_type: 'OMBC.Status', ...graph.statusFields() });
  const sendTimer = (timerId: string, finishedAt: Date) =>
    rt.send({ message_type: 'OMBC.TimerStatus', timer_id: timerId, finished_at: finishedAt.toISOString() });

  const objection = (m: OMBCInstruction, atMs: number): string | undefined => {
    const target = m.operation_mode_id.toLowerCase();
    const found = modes.find((x) => x.id === target);
    if (!found) return `unknown operation mode ${m.operation_mode_id} (R84)`;
    if (found.abnormal_condition_only && !m.abnormal_condition) return 'mode for abnormal conditions only (R50)';
    const route = graph.route(target, m.abnormal_condition, atMs);
    return 'reason' in route ? route.reason : undefined;
  };

  const handler: RmControlTypeHandler<'OMBC'> = {
    activate(ctx) {
      rt.start(ctx, tick);
      // R83: the description, then the status; timers first so the CEM knows them when the status arrives (R64, R71).
      rt.send(description());
      for (const run of graph.timerRuns(rt.now())) sendTimer(run.timerId, run.finishedAt);
      sendStatus();
    },
    onInstruction(instruction) {
      const why = objection(instruction, Math.max(Date.parse(instruction.execution_time), rt.now().getTime()));
      return why ? { reject: why } : 'accept';
    },
    execute(instruction) {
      const now = rt.now();
      if (objection(instruction, now.getTime())) {
        rt.status(instruction.id, 'ABORTED');
        return;
      }
      const target = instruction.operation_mode_id.toLowerCase();
      const route = graph.route(target, instruction.abnormal_condition, now.getTime());
      const t = 'transition' in route ? route.transition : undefined;
      // A newer switch overtakes one still under way: that one never completes.
      if (underway) rt.status(underway.id, 'ABORTED');
      underway = undefined;
      rt.status(instruction.id, 'STARTED');
      const runs = graph.switchTo(target, instruction.operation_mode_factor, now, t);
      for (const run of runs) sendTimer(run.timerId, run.finishedAt);
      sendStatus(); // R60
      if (t?.transition_duration) underway = { id: instruction.id, doneAt: now.getTime() + t.transition_duration };
      else rt.status(instruction.id, 'SUCCEEDED');
    },
    onRevoked(instruction) {
      rt.revoked(instruction.id);
      if (underway && underway.id.toLowerCase() === instruction.id.toLowerCase()) underway = undefined;
    },
    deactivate() {
      underway = undefined;
      rt.stop();
    },
  };

  function tick(): void {
    const now = rt.now();
    if (underway && now.getTime() >= underway.doneAt) {
      rt.status(underway.id, 'SUCCEEDED');
      underway = undefined;
    }
    const range = modes.find((m) => m.id === graph.active)!.power_ranges[0]!;
    // While the compressor starts it draws half its target power.
    const power = atFactor(range, graph.factor) * (underway ? 0.5 : 1);
    rt.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: now.toISOString(),
      values: [{ commodity_quantity: CQ, value: Math.round(power) }],
    });
  }

  return {
    controlType: 'OMBC',
    details: {
      resource_id: newUuid(),
      name: 'Air-to-water heat pump',
      roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
      manufacturer: 's2-engine simulations',
      model: 'SimHeat 8 kW',
      serial_number: `HP-${newUuid().slice(0, 8)}`,
      firmware_version: '4.0.2',
      instruction_processing_delay: 1000,
      available_control_types: ['OPERATION_MODE_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: [CQ],
    },
    handler,
    stop: () => rt.stop(),
  };
}
