/**
 * Small, schema- and rule-valid S2 messages for driving a session from a scripted peer. Every
 * factory takes the message_id to use, so a test can correlate the ReceptionStatus it expects.
 * The ids of referenced objects are fixed UUIDs; the session machines do not resolve them (that is
 * the control-type children's job), so any well-formed reference is accepted at session level.
 */
import type { ControlType } from '../../src/typebox/common/enums.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage, MessageOf } from '../../src/typebox/registry.js';

export const VERSION = '0.0.2-beta';
const T = '2026-01-01T00:00:00Z';
const T2 = '2026-01-01T01:00:00Z';
const OBJ = 'a7f5c9e1-1111-4c2a-9d3e-000000000001';
const OBJ2 = 'a7f5c9e1-1111-4c2a-9d3e-000000000002';
const OBJ3 = 'a7f5c9e1-1111-4c2a-9d3e-000000000003';
const OBJ4 = 'a7f5c9e1-1111-4c2a-9d3e-000000000004';

/** Short control-type name → wire value. */
export const WIRE: Readonly<Record<ControlTypeShort, ControlType>> = {
  FRBC: 'FILL_RATE_BASED_CONTROL',
  PPBC: 'POWER_PROFILE_BASED_CONTROL',
  OMBC: 'OPERATION_MODE_BASED_CONTROL',
  PEBC: 'POWER_ENVELOPE_BASED_CONTROL',
  DDBC: 'DEMAND_DRIVEN_BASED_CONTROL',
};

export function handshake(id: string, role: 'CEM' | 'RM', versions: readonly string[] = [VERSION]): MessageOf<'Handshake'> {
  return { message_type: 'Handshake', message_id: id, role, supported_protocol_versions: [...versions] };
}

export function handshakeResponse(id: string, version: string = VERSION): MessageOf<'HandshakeResponse'> {
  return { message_type: 'HandshakeResponse', message_id: id, selected_protocol_version: version };
}

export type RmDetailsBody = Omit<MessageOf<'ResourceManagerDetails'>, 'message_id' | 'message_type'>;

export function rmDetailsBody(offer: readonly ControlType[], name = 'model-based test RM'): RmDetailsBody {
  return {
    resource_id: 'b1e2c3d4-2222-4aaa-8bbb-000000000001',
    name,
    roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 100,
    available_control_types: [...offer],
    provides_forecast: true,
    provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
  };
}

export function rmDetails(id: string, offer: readonly ControlType[]): MessageOf<'ResourceManagerDetails'> {
  return { message_type: 'ResourceManagerDetails', message_id: id, ...rmDetailsBody(offer) };
}

export function selectControlType(id: string, ct: ControlType): MessageOf<'SelectControlType'> {
  return { message_type: 'SelectControlType', message_id: id, control_type: ct };
}

export function sessionRequest(id: string, request: 'RECONNECT' | 'TERMINATE'): MessageOf<'SessionRequest'> {
  return { message_type: 'SessionRequest', message_id: id, request };
}

export function powerMeasurement(id: string): MessageOf<'PowerMeasurement'> {
  return { message_type: 'PowerMeasurement', message_id: id, measurement_timestamp: T, values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1200 }] };
}

export function powerForecast(id: string): MessageOf<'PowerForecast'> {
  return {
    message_type: 'PowerForecast',
    message_id: id,
    start_time: T,
    elements: [{ duration: 60_000, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 800 }] }],
  };
}

export function instructionStatusUpdate(id: string): MessageOf<'InstructionStatusUpdate'> {
  return { message_type: 'InstructionStatusUpdate', message_id: id, instruction_id: OBJ, status_type: 'ACCEPTED', timestamp: T };
}

export function revokeObject(id: string, ct: ControlTypeShort = 'FRBC'): MessageOf<'RevokeObject'> {
  const objectType = ({ FRBC: 'FRBC.Instruction', PPBC: 'PPBC.ScheduleInstruction', OMBC: 'OMBC.Instruction', PEBC: 'PEBC.Instruction', DDBC: 'DDBC.Instruction' } as const)[ct];
  return { message_type: 'RevokeObject', message_id: id, object_type: objectType, object_id: OBJ };
}

export function receptionStatus(subject: string, status: MessageOf<'ReceptionStatus'>['status']): MessageOf<'ReceptionStatus'> {
  return { message_type: 'ReceptionStatus', subject_message_id: subject, status };
}

/** A message of control type `ct` that the RM sends (status / timer / constraint). */
export function rmControlTypeMessage(id: string, ct: ControlTypeShort): IdentifiedMessage {
  switch (ct) {
    case 'FRBC':
      return { message_type: 'FRBC.StorageStatus', message_id: id, present_fill_level: 52 };
    case 'PPBC':
      return {
        message_type: 'PPBC.PowerProfileStatus',
        message_id: id,
        sequence_container_status: [{ power_profile_id: OBJ, sequence_container_id: OBJ2, status: 'NOT_SCHEDULED' }],
      };
    case 'OMBC':
      return { message_type: 'OMBC.TimerStatus', message_id: id, timer_id: OBJ, finished_at: T };
    case 'PEBC':
      return {
        message_type: 'PEBC.EnergyConstraint',
        message_id: id,
        id: OBJ,
        valid_from: T,
        valid_until: T2,
        upper_average_power: 1000,
        lower_average_power: 0,
        commodity_quantity: 'ELECTRIC.POWER.L1',
      };
    case 'DDBC':
      return { message_type: 'DDBC.TimerStatus', message_id: id, timer_id: OBJ, actuator_id: OBJ2, finished_at: T };
  }
}

/** An instruction of control type `ct` (sent by the CEM). */
export function cemInstruction(id: string, ct: ControlTypeShort, instructionId: string = OBJ4): IdentifiedMessage {
  const common = { message_id: id, id: instructionId, execution_time: T, abnormal_condition: false } as const;
  switch (ct) {
    case 'FRBC':
      return { message_type: 'FRBC.Instruction', ...common, actuator_id: OBJ, operation_mode: OBJ2, operation_mode_factor: 1 };
    case 'PPBC':
      return { message_type: 'PPBC.ScheduleInstruction', ...common, power_profile_id: OBJ, sequence_container_id: OBJ2, power_sequence_id: OBJ3 };
    case 'OMBC':
      return { message_type: 'OMBC.Instruction', ...common, operation_mode_id: OBJ, operation_mode_factor: 1 };
    case 'PEBC':
      return {
        message_type: 'PEBC.Instruction',
        ...common,
        power_constraints_id: OBJ,
        power_envelopes: [
          {
            id: OBJ2,
            commodity_quantity: 'ELECTRIC.POWER.L1',
            power_envelope_elements: [{ duration: 60_000, upper_limit: 1000, lower_limit: 0 }],
          },
        ],
      };
    case 'DDBC':
      return { message_type: 'DDBC.Instruction', ...common, actuator_id: OBJ, operation_mode_id: OBJ2, operation_mode_factor: 1 };
  }
}
