/**
 * Small, schema- and rule-valid S2 messages for driving a session from a scripted peer. Every
 * factory takes the message_id to use, so a test can correlate the ReceptionStatus it expects.
 * The control-type messages are consistent with each other: an instruction refers to the
 * actuator / operation mode / constraints / profile of the description of its type, so they are
 * accepted by a control type that checks references (R39, R49) as well as by one that does not.
 */
import type { ControlType } from '../../src/typebox/common/enums.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage, MessageOf } from '../../src/typebox/registry.js';

export const VERSION = '0.0.2-beta';
const T = '2026-01-01T00:00:00Z';
const T2 = '2026-01-01T01:00:00Z';

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
  return {
    message_type: 'PowerMeasurement',
    message_id: id,
    measurement_timestamp: T,
    values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1200 }],
  };
}

export function powerForecast(id: string): MessageOf<'PowerForecast'> {
  return {
    message_type: 'PowerForecast',
    message_id: id,
    start_time: T,
    elements: [{ duration: 60_000, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 800 }] }],
  };
}

export function receptionStatus(subject: string, status: MessageOf<'ReceptionStatus'>['status']): MessageOf<'ReceptionStatus'> {
  return { message_type: 'ReceptionStatus', subject_message_id: subject, status };
}

/** Ids of the objects the descriptions below define and the instructions refer to. */
export const OBJECT_IDS = {
  actuator: 'a7f5c9e1-1111-4c2a-9d3e-00000000a001',
  mode: 'a7f5c9e1-1111-4c2a-9d3e-00000000b001',
  powerConstraints: 'a7f5c9e1-1111-4c2a-9d3e-00000000c001',
  profile: 'a7f5c9e1-1111-4c2a-9d3e-00000000d001',
  container: 'a7f5c9e1-1111-4c2a-9d3e-00000000d002',
  sequence: 'a7f5c9e1-1111-4c2a-9d3e-00000000d003',
  envelope: 'a7f5c9e1-1111-4c2a-9d3e-00000000e001',
} as const;

/** Instructions execute one hour after this instant, so they are never due during a test (R43). */
export const TEST_EPOCH_MS = Date.parse(T);
const EXECUTION_TIME = T2;

const L1 = 'ELECTRIC.POWER.L1' as const;
const powerRanges = [{ start_of_range: 0, end_of_range: 2000, commodity_quantity: L1 }];

/**
 * The message with which the RM describes its flexibility for control type `ct` right after
 * activation (R39): FRBC/OMBC/DDBC SystemDescription, PEBC PowerConstraints, PPBC
 * PowerProfileDefinition. The instruction of {@link instructionFor} refers to it.
 */
export function description(id: string, ct: ControlTypeShort): IdentifiedMessage {
  const { actuator, mode } = OBJECT_IDS;
  switch (ct) {
    case 'FRBC':
      return {
        message_type: 'FRBC.SystemDescription',
        message_id: id,
        valid_from: T,
        actuators: [
          {
            id: actuator,
            supported_commodities: ['ELECTRICITY'],
            operation_modes: [
              {
                id: mode,
                elements: [
                  {
                    fill_level_range: { start_of_range: 0, end_of_range: 100 },
                    fill_rate: { start_of_range: 0, end_of_range: 1 },
                    power_ranges: powerRanges,
                  },
                ],
                abnormal_condition_only: false,
              },
            ],
            transitions: [],
            timers: [],
          },
        ],
        storage: {
          provides_leakage_behaviour: false,
          provides_fill_level_target_profile: false,
          provides_usage_forecast: false,
          fill_level_range: { start_of_range: 0, end_of_range: 100 },
        },
      };
    case 'OMBC':
      return {
        message_type: 'OMBC.SystemDescription',
        message_id: id,
        valid_from: T,
        operation_modes: [{ id: mode, power_ranges: powerRanges, abnormal_condition_only: false }],
        transitions: [],
        timers: [],
      };
    case 'DDBC':
      return {
        message_type: 'DDBC.SystemDescription',
        message_id: id,
        valid_from: T,
        actuators: [
          {
            id: actuator,
            supported_commodites: ['ELECTRICITY'],
            operation_modes: [
              {
                Id: mode,
                power_ranges: powerRanges,
                supply_range: { start_of_range: 0, end_of_range: 10 },
                abnormal_condition_only: false,
              },
            ],
            transitions: [],
            timers: [],
          },
        ],
        present_demand_rate: { start_of_range: 0, end_of_range: 10 },
        provides_average_demand_rate_forecast: false,
      };
    case 'PEBC':
      return {
        message_type: 'PEBC.PowerConstraints',
        message_id: id,
        id: OBJECT_IDS.powerConstraints,
        valid_from: T,
        consequence_type: 'VANISH',
        allowed_limit_ranges: [
          {
            commodity_quantity: L1,
            limit_type: 'UPPER_LIMIT',
            range_boundary: { start_of_range: 0, end_of_range: 3000 },
            abnormal_condition_only: false,
          },
          {
            commodity_quantity: L1,
            limit_type: 'LOWER_LIMIT',
            range_boundary: { start_of_range: 0, end_of_range: 3000 },
            abnormal_condition_only: false,
          },
        ],
      };
    case 'PPBC':
      return {
        message_type: 'PPBC.PowerProfileDefinition',
        message_id: id,
        id: OBJECT_IDS.profile,
        start_time: T,
        end_time: T2,
        power_sequences_containers: [
          {
            id: OBJECT_IDS.container,
            power_sequences: [
              {
                id: OBJECT_IDS.sequence,
                elements: [{ duration: 60_000, power_values: [{ commodity_quantity: L1, value_expected: 500 }] }],
                is_interruptible: false,
                abnormal_condition_only: false,
              },
            ],
          },
        ],
      };
  }
}

/** An instruction of control type `ct` (sent by the CEM) that refers to {@link description}. */
export function instructionFor(id: string, ct: ControlTypeShort, instructionId: string): IdentifiedMessage {
  const common = { message_id: id, id: instructionId, execution_time: EXECUTION_TIME, abnormal_condition: false } as const;
  const { actuator, mode } = OBJECT_IDS;
  switch (ct) {
    case 'FRBC':
      return { message_type: 'FRBC.Instruction', ...common, actuator_id: actuator, operation_mode: mode, operation_mode_factor: 1 };
    case 'OMBC':
      return { message_type: 'OMBC.Instruction', ...common, operation_mode_id: mode, operation_mode_factor: 1 };
    case 'DDBC':
      return { message_type: 'DDBC.Instruction', ...common, actuator_id: actuator, operation_mode_id: mode, operation_mode_factor: 1 };
    case 'PEBC':
      return {
        message_type: 'PEBC.Instruction',
        ...common,
        power_constraints_id: OBJECT_IDS.powerConstraints,
        power_envelopes: [
          {
            id: OBJECT_IDS.envelope,
            commodity_quantity: L1,
            power_envelope_elements: [{ duration: 60_000, upper_limit: 1000, lower_limit: 0 }],
          },
        ],
      };
    case 'PPBC':
      return {
        message_type: 'PPBC.ScheduleInstruction',
        ...common,
        power_profile_id: OBJECT_IDS.profile,
        sequence_container_id: OBJECT_IDS.container,
        power_sequence_id: OBJECT_IDS.sequence,
      };
  }
}

/** RevokeObject for the object a description message created (Q10: system descriptions by message_id). */
export function revokeDescription(id: string, described: IdentifiedMessage): MessageOf<'RevokeObject'> {
  const objectId = 'id' in described && typeof described.id === 'string' ? described.id : described.message_id;
  return {
    message_type: 'RevokeObject',
    message_id: id,
    object_type: described.message_type as MessageOf<'RevokeObject'>['object_type'],
    object_id: objectId,
  };
}

/** RevokeObject for an instruction (by its `id`). */
export function revokeInstruction(id: string, instruction: IdentifiedMessage): MessageOf<'RevokeObject'> {
  return {
    message_type: 'RevokeObject',
    message_id: id,
    object_type: instruction.message_type as MessageOf<'RevokeObject'>['object_type'],
    object_id: (instruction as { id: string }).id,
  };
}

export function instructionStatusUpdate(
  id: string,
  instructionId: string,
  status: MessageOf<'InstructionStatusUpdate'>['status_type'] = 'ACCEPTED',
): MessageOf<'InstructionStatusUpdate'> {
  return { message_type: 'InstructionStatusUpdate', message_id: id, instruction_id: instructionId, status_type: status, timestamp: T };
}
