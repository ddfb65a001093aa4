/**
 * An FRBC Resource Manager for a 10 kWh home battery: it dials a CEM, describes the battery
 * (one inverter with the modes charge, idle and discharge), reports its status, and carries out
 * the CEM's instructions. The "battery" is a few variables; put your device's driver where they are.
 *
 *   node frbc-battery-rm.js [CEM URL]        default $S2_CEM_URL, else ws://127.0.0.1:8080
 *
 * With S2_TOKEN set, it is sent to the CEM as a bearer token.
 *
 * Ctrl-C stops it. How to build and run the examples: examples/README.md.
 */
import { createRmClient, type Outgoing, type SendResult } from 's2-engine';
import type { FRBCOperationMode, FRBCRmHandler, FRBCSystemDescription } from 's2-engine/frbc';

const url = process.argv[2] ?? process.env.S2_CEM_URL ?? 'ws://127.0.0.1:8080';

// The ids the CEM refers to in its instructions. A real device keeps them stable across restarts.
const ACTUATOR = '2f3b8c1e-6a47-4d2b-9b1e-0c5d7a8e9f10';
const CHARGE = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const IDLE = '8d2e3f4a-5b6c-4d7e-9f8a-0b1c2d3e4f5a';
const DISCHARGE = '9e3f4a5b-6c7d-4e8f-8a9b-1c2d3e4f5a6b';

const CAPACITY_WH = 10_000;
const MAX_POWER_W = 5_000;
const QUANTITY = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC';
const TICK_MS = 5_000;

/** Fill-level change in % of the capacity per second at a grid power (positive = charging). */
const percentPerSecond = (watts: number) => (watts / (CAPACITY_WH * 3600)) * 100;

// The device. Factor 0 is the start of a mode's ranges, factor 1 the end (S2: power and fill rate alike).
let activeMode = IDLE;
let factor = 0;
let fillLevel = 50;

/** Grid power (W) of a mode at a factor: charge 500–5000 W, discharge −5000 to −500 W. */
function powerOf(mode: string, f: number): number {
  if (mode === CHARGE) return 500 + f * (MAX_POWER_W - 500);
  if (mode === DISCHARGE) return -MAX_POWER_W + f * (MAX_POWER_W - 500);
  return 0;
}

const chargeMode: FRBCOperationMode = {
  id: CHARGE,
  diagnostic_label: 'charge',
  abnormal_condition_only: false,
  elements: [
    {
      fill_level_range: { start_of_range: 0, end_of_range: 100 },
      fill_rate: { start_of_range: percentPerSecond(500), end_of_range: percentPerSecond(MAX_POWER_W) },
      power_ranges: [{ start_of_range: 500, end_of_range: MAX_POWER_W, commodity_quantity: QUANTITY }],
    },
  ],
};
const idleMode: FRBCOperationMode = {
  id: IDLE,
  diagnostic_label: 'idle',
  abnormal_condition_only: false,
  elements: [
    {
      fill_level_range: { start_of_range: 0, end_of_range: 100 },
      fill_rate: { start_of_range: 0, end_of_range: 0 },
      power_ranges: [{ start_of_range: 0, end_of_range: 0, commodity_quantity: QUANTITY }],
    },
  ],
};
const dischargeMode: FRBCOperationMode = {
  id: DISCHARGE,
  diagnostic_label: 'discharge',
  abnormal_condition_only: false,
  elements: [
    {
      fill_level_range: { start_of_range: 0, end_of_range: 100 },
      fill_rate: { start_of_range: percentPerSecond(-MAX_POWER_W), end_of_range: percentPerSecond(-500) },
      power_ranges: [{ start_of_range: -MAX_POWER_W, end_of_range: -500, commodity_quantity: QUANTITY }],
    },
  ],
};

/** What the battery can do (R39: sent first when FRBC is selected). `message_id` is filled in by `send`. */
const systemDescription = (): Outgoing<FRBCSystemDescription> => ({
  message_type: 'FRBC.SystemDescription',
  valid_from: new Date().toISOString(),
  actuators: [
    {
      id: ACTUATOR,
      diagnostic_label: 'battery inverter',
      supported_commodities: ['ELECTRICITY'],
      operation_modes: [chargeMode, idleMode, dischargeMode],
      // Charge and discharge go through idle; no timers guard the switches.
      transitions: [
        {
          id: 'a0c1d2e3-f4a5-4b6c-8d7e-0f1a2b3c4d5e',
          from: IDLE,
          to: CHARGE,
          start_timers: [],
          blocking_timers: [],
          abnormal_condition_only: false,
        },
        {
          id: 'b1d2e3f4-a5b6-4c7d-9e8f-1a2b3c4d5e6f',
          from: CHARGE,
          to: IDLE,
          start_timers: [],
          blocking_timers: [],
          abnormal_condition_only: false,
        },
        {
          id: 'c2e3f4a5-b6c7-4d8e-8f9a-2b3c4d5e6f7a',
          from: IDLE,
          to: DISCHARGE,
          start_timers: [],
          blocking_timers: [],
          abnormal_condition_only: false,
        },
        {
          id: 'd3f4a5b6-c7d8-4e9f-9a0b-3c4d5e6f7a8b',
          from: DISCHARGE,
          to: IDLE,
          start_timers: [],
          blocking_timers: [],
          abnormal_condition_only: false,
        },
      ],
      timers: [],
    },
  ],
  storage: {
    diagnostic_label: 'battery cells',
    fill_level_label: 'state of charge (%)',
    provides_leakage_behaviour: false,
    provides_fill_level_target_profile: false,
    provides_usage_forecast: false,
    fill_level_range: { start_of_range: 0, end_of_range: 100 },
  },
});

/** `send` resolves with the CEM's ReceptionStatus; anything but OK deserves a log line. */
function check(what: string, result: SendResult): void {
  if (result.status !== 'OK')
    console.error(`RM  ${what}: CEM answered ${result.status}${result.diagnosticLabel ? ` (${result.diagnosticLabel})` : ''}`);
}

let tick: ReturnType<typeof setInterval> | undefined;

const battery: FRBCRmHandler = {
  // FRBC was selected: describe first, then the actuator's and the storage's status.
  async activate(ctx) {
    check('FRBC.SystemDescription', await ctx.send(systemDescription()));
    check(
      'FRBC.ActuatorStatus',
      await ctx.send({
        message_type: 'FRBC.ActuatorStatus',
        actuator_id: ACTUATOR,
        active_operation_mode_id: activeMode,
        operation_mode_factor: factor,
      }),
    );
    check('FRBC.StorageStatus', await ctx.send({ message_type: 'FRBC.StorageStatus', present_fill_level: fillLevel }));
    // The physics, and the measurements a CEM wants to see.
    tick = setInterval(() => {
      const before = Math.round(fillLevel);
      const watts = powerOf(activeMode, factor);
      fillLevel = Math.min(100, Math.max(0, fillLevel + percentPerSecond(watts) * (TICK_MS / 1000)));
      void ctx.send({
        message_type: 'PowerMeasurement',
        measurement_timestamp: new Date().toISOString(),
        values: [{ commodity_quantity: QUANTITY, value: watts }],
      });
      if (Math.round(fillLevel) !== before)
        void ctx.send({ message_type: 'FRBC.StorageStatus', present_fill_level: Math.round(fillLevel) });
    }, TICK_MS);
  },

  // Accept or reject; the library sends ACCEPTED or REJECTED. Unknown ids never get here (R49).
  onInstruction(instruction) {
    console.log(
      `RM  instruction ${instruction.id}: mode ${instruction.operation_mode} at factor ${instruction.operation_mode_factor}, at ${instruction.execution_time}`,
    );
    const mode = instruction.operation_mode.toLowerCase(); // ids compare case-insensitively
    if (mode === CHARGE && fillLevel >= 100) return { reject: 'battery full' };
    if (mode === DISCHARGE && fillLevel <= 0) return { reject: 'battery empty' };
    return 'accept';
  },

  // Called at the instruction's execution_time: switch, then report.
  async execute(instruction, ctx) {
    check('STARTED', await ctx.status(instruction.id, 'STARTED'));
    const previous = activeMode;
    activeMode = instruction.operation_mode.toLowerCase();
    factor = instruction.operation_mode_factor;
    console.log(
      `RM  switched to ${activeMode === CHARGE ? 'charge' : activeMode === DISCHARGE ? 'discharge' : 'idle'} at factor ${factor}: ${powerOf(activeMode, factor)} W`,
    );
    check(
      'FRBC.ActuatorStatus',
      await ctx.send({
        message_type: 'FRBC.ActuatorStatus',
        actuator_id: ACTUATOR,
        active_operation_mode_id: activeMode,
        operation_mode_factor: factor,
        previous_operation_mode_id: previous,
        transition_timestamp: new Date().toISOString(),
      }),
    );
    check('SUCCEEDED', await ctx.status(instruction.id, 'SUCCEEDED'));
  },

  // Another control type was selected, or the session ended: stop steering and sending.
  deactivate() {
    clearInterval(tick);
    tick = undefined;
  },
};

const rm = createRmClient({
  url,
  token: process.env.S2_TOKEN, // optional: sent as a bearer token if the CEM wants one
  details: {
    resource_id: '6f1c1c52-9f25-4d34-9d0e-6a0f7e2d8c11',
    name: 'Home battery 10 kWh (example)',
    roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 100,
    available_control_types: ['FILL_RATE_BASED_CONTROL'],
    provides_forecast: false,
    provides_power_measurement_types: [QUANTITY],
  },
  controlTypes: { FRBC: battery },
  onSession(session) {
    session.on('controlType', ({ controlType }) => console.log(`RM  the CEM selected ${controlType}`));
    session.on('close', ({ code, reason }) => console.log(`RM  session closed: ${code} ${reason}`));
  },
  onDialError: (err, _attempt, delayMs) =>
    console.error(`RM  cannot reach ${url} (${err instanceof Error ? err.message : String(err)}); retrying in ${Math.round(delayMs)} ms`),
});
console.log(`RM  dialling ${url}`);

const stop = () => void rm.stop().then(() => console.log('RM  stopped'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
