/**
 * Realistic S2 messages for the end-to-end tests, built from the fixtures (`test/fixtures/*.json`)
 * with fresh UUID message ids, plus the few small messages a scripted peer needs to drive a
 * session (Handshake, ReceptionStatus, …).
 */
import { randomUUID } from 'node:crypto';
import type { ControlType, ReceptionStatusValues } from '../../src/typebox/common/enums.js';
import type { MessageOf } from '../../src/typebox/registry.js';
import { fixtureFiles } from './fixtures.js';

export const S2_VERSION = '0.0.2-beta';
export const NIL = '00000000-0000-0000-0000-000000000000';

/** A JSON object as it goes over the wire (scripted peers send and receive these). */
export type Wire = Record<string, unknown>;

const FIXTURES: ReadonlyMap<string, string> = new Map(fixtureFiles().map((f) => [f.name.replace(/\.json$/, ''), f.text]));

/** A deep copy of the fixture `name` (file name without `.json`), with a fresh message_id. */
export function fixture(name: string, fresh = true): Wire {
  const text = FIXTURES.get(name);
  if (text === undefined) throw new Error(`no fixture ${name} in test/fixtures/`);
  const msg = JSON.parse(text) as Wire;
  if (fresh && 'message_id' in msg) msg.message_id = randomUUID();
  return msg;
}

/** Every fixture text (for mutation in the fuzz test). */
export function fixtureTexts(): readonly string[] {
  return [...FIXTURES.values()];
}

export const newId = (): string => randomUUID();

export function handshake(role: 'CEM' | 'RM', versions: readonly string[] = [S2_VERSION]): Wire {
  return { message_type: 'Handshake', message_id: newId(), role, supported_protocol_versions: [...versions] };
}

export function handshakeResponse(version = S2_VERSION): Wire {
  return { message_type: 'HandshakeResponse', message_id: newId(), selected_protocol_version: version };
}

export function rs(subject: string, status: ReceptionStatusValues = 'OK'): Wire {
  return { message_type: 'ReceptionStatus', subject_message_id: subject, status };
}

/** The RM details of the fixture, offering `offer` (default: FRBC and NOT_CONTROLABLE, like PY's example RM). */
export function rmDetails(offer: readonly ControlType[] = ['FILL_RATE_BASED_CONTROL', 'NOT_CONTROLABLE']): Wire {
  return { ...fixture('ResourceManagerDetails'), available_control_types: [...offer] };
}

/** The same details as the input an RM client announces (no message_type / message_id). */
export function rmDetailsInput(offer?: readonly ControlType[]): Omit<MessageOf<'ResourceManagerDetails'>, 'message_id' | 'message_type'> {
  const { message_type: _t, message_id: _i, ...body } = rmDetails(offer);
  return body as Omit<MessageOf<'ResourceManagerDetails'>, 'message_id' | 'message_type'>;
}

export function selectControlType(ct: ControlType): Wire {
  return { message_type: 'SelectControlType', message_id: newId(), control_type: ct };
}

export function sessionRequest(request: 'RECONNECT' | 'TERMINATE'): Wire {
  return { message_type: 'SessionRequest', message_id: newId(), request };
}

export function powerMeasurement(): Wire {
  return fixture('PowerMeasurement');
}

export function instructionStatusUpdate(): Wire {
  return {
    message_type: 'InstructionStatusUpdate',
    message_id: newId(),
    instruction_id: newId(),
    status_type: 'ACCEPTED',
    timestamp: '2025-01-01T00:00:00Z',
  };
}

/** FRBC.SystemDescription, StorageStatus and ActuatorStatus that refer to each other consistently. */
export function frbcActivationMessages(): [Wire, Wire, Wire] {
  const description = fixture('FRBC.SystemDescription');
  const actuator = (description.actuators as Array<{ id: string; operation_modes: Array<{ id: string }> }>)[0];
  if (!actuator?.operation_modes[0]) throw new Error('FRBC.SystemDescription fixture without actuator / operation mode');
  const storage = fixture('FRBC.StorageStatus');
  const status: Wire = {
    message_type: 'FRBC.ActuatorStatus',
    message_id: newId(),
    actuator_id: actuator.id,
    active_operation_mode_id: actuator.operation_modes[0].id,
    operation_mode_factor: 0.5,
  };
  return [description, storage, status];
}

/** An OMBC.SystemDescription with one operation mode (what an RM sends first once OMBC is active, R39). */
export function ombcSystemDescription(): Wire {
  return {
    message_type: 'OMBC.SystemDescription',
    message_id: newId(),
    valid_from: '2025-01-01T00:00:00Z',
    operation_modes: [
      {
        id: newId(),
        diagnostic_label: 'on',
        power_ranges: [{ start_of_range: 0, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
        abnormal_condition_only: false,
      },
    ],
    transitions: [],
    timers: [],
  };
}

/** The actuator and operation mode of the FRBC.SystemDescription fixture. */
function describedFrbcActuator(): { actuator: string; mode: string } {
  const description = fixture('FRBC.SystemDescription', false);
  const actuator = (description.actuators as Array<{ id: string; operation_modes: Array<{ id: string }> }>)[0];
  const mode = actuator?.operation_modes[0]?.id;
  if (!actuator || !mode) throw new Error('FRBC.SystemDescription fixture without actuator / operation mode');
  return { actuator: actuator.id, mode };
}

/**
 * An FRBC.Instruction (CEM → RM) with a fresh message_id and instruction id, for the actuator
 * and operation mode that {@link frbcActivationMessages} describe.
 */
export function frbcInstruction(): Wire {
  const { actuator, mode } = describedFrbcActuator();
  return { ...fixture('FRBC.Instruction'), id: newId(), actuator_id: actuator, operation_mode: mode, operation_mode_factor: 0.5 };
}
