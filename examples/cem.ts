/**
 * A CEM that accepts RMs over WebSocket, selects FRBC for a battery, and instructs it to charge at
 * half power as soon as it has described itself; it logs what the battery reports and how each
 * instruction ended.
 *
 *   node cem.js [PORT]        default $PORT, else 8080; 0 picks a free port
 *
 * With S2_TOKEN set, RMs must present it as a bearer token.
 *
 * Try it with examples/frbc-battery-rm.ts. Ctrl-C closes every session and exits. How to build
 * and run the examples: examples/README.md.
 */
import { createCemServer } from 's2-engine';
import type { FRBCCemHandler, FRBCOperationMode } from 's2-engine/frbc';

const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);

/** A mode that charges: it only ever takes power from the grid, in normal conditions. */
const charges = (mode: FRBCOperationMode) =>
  !mode.abnormal_condition_only && mode.elements.every((e) => e.power_ranges.every((r) => r.start_of_range >= 0 && r.end_of_range > 0));

const frbc: FRBCCemHandler = {
  // The RM described its storage and actuators (R39): instruct each actuator that can charge.
  'FRBC.SystemDescription'(description, ctx) {
    for (const actuator of description.actuators) {
      const mode = actuator.operation_modes.find(charges);
      if (!mode) continue;
      // Fills id, message_id, execution_time (now) and abnormal_condition (false);
      // throws S2Error if the actuator or the mode is not one the RM described.
      const handle = ctx.instruct({
        message_type: 'FRBC.Instruction',
        actuator_id: actuator.id,
        operation_mode: mode.id,
        operation_mode_factor: 0.5,
      });
      console.log(
        `CEM instruction ${handle.id}: ${actuator.diagnostic_label ?? actuator.id} → ${mode.diagnostic_label ?? mode.id} at factor 0.5`,
      );
      void handle.final.then((status) => console.log(`CEM instruction ${handle.id} final status: ${status}`)); // SUCCEEDED, REJECTED, … or VOID
    }
  },
  'FRBC.ActuatorStatus'(status) {
    console.log(`CEM actuator ${status.actuator_id}: mode ${status.active_operation_mode_id} at factor ${status.operation_mode_factor}`);
  },
  'FRBC.StorageStatus'(status) {
    console.log(`CEM fill level ${status.present_fill_level} %`);
  },
  onInstructionStatus(handle, status) {
    console.log(`CEM instruction ${handle.id} is ${status ?? 'unknown'}`);
  },
};

const cem = await createCemServer({
  port, // host defaults to 127.0.0.1
  token: process.env.S2_TOKEN, // optional: the bearer token RMs must present (HTTP 401 otherwise)
  controlTypes: { FRBC: frbc },
  onSession(session, info) {
    console.log(`CEM connection from ${info.remoteAddress ?? 'unknown'}`);
    session.on('details', ({ details }) =>
      console.log(`CEM RM ${details.name ?? details.resource_id} offers ${details.available_control_types.join(', ')}`),
    );
    session.on('controlType', ({ controlType }) => console.log(`CEM selected ${controlType}`));
    session.on('refused', ({ status, reason }) => console.error(`CEM refused a message: ${status} ${reason}`));
    session.on('close', ({ code, reason }) => console.log(`CEM session closed: ${code} ${reason}`));
  },
  // Every message that passed the protocol checks, of any control type.
  onMessage(message) {
    if (message.message_type === 'PowerMeasurement') {
      console.log(`CEM power ${message.values.map((v) => `${v.value} W (${v.commodity_quantity})`).join(', ')}`);
    }
  },
});
console.log(`CEM listening on ${cem.url}`);

const close = () => void cem.close().then(() => console.log('CEM closed'));
process.once('SIGINT', close);
process.once('SIGTERM', close);
