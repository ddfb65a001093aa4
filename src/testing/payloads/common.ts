/**
 * The conformance kit's payload builders for the common S2 messages (docs/rules.md#senders): realistic,
 * schema-valid messages with lowercase UUID ids (R3, R4), plus the deliberately broken frames the
 * kit sends to check the ReceptionStatus decision table (docs/design.md): not JSON, no message_id,
 * schema violations, an unknown message_type, a malformed ReceptionStatus.
 */
import { createHash, randomUUID } from 'node:crypto';
import { S2_VERSION } from '../../machines/session-setup.js';
import type {
  ControlType,
  InstructionStatus,
  ReceptionStatusValues,
  RevokableObjects,
  SessionRequestType,
} from '../../typebox/common/enums.js';
import type { MessageOf } from '../../typebox/registry.js';

export { S2_VERSION };

/** A version string no implementation offers: the kit's "no common version" probe (R27, R29). */
export const UNOFFERED_VERSION = '0.0.0-conformance-kit';

/** A fresh lowercase UUID v4 (R3, R4). */
export const newId = (): string => randomUUID();

/** A deterministic UUID-shaped id for a label (lowercase, version nibble 4), so one run's objects can be named again. */
export function uuidFor(label: string): string {
  const h = createHash('sha1').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** RFC 3339 in UTC with `Z` (R7). */
export const iso = (ms: number): string => new Date(ms).toISOString();

export function handshake(role: 'CEM' | 'RM', versions: readonly string[] = [S2_VERSION]): MessageOf<'Handshake'> {
  return { message_type: 'Handshake', message_id: newId(), role, supported_protocol_versions: [...versions] };
}

export function handshakeResponse(version: string): MessageOf<'HandshakeResponse'> {
  return { message_type: 'HandshakeResponse', message_id: newId(), selected_protocol_version: version };
}

export function receptionStatus(subject: string, status: ReceptionStatusValues, label?: string): MessageOf<'ReceptionStatus'> {
  const rs: MessageOf<'ReceptionStatus'> = { message_type: 'ReceptionStatus', subject_message_id: subject, status };
  return label ? { ...rs, diagnostic_label: label.length > 240 ? `${label.slice(0, 239)}…` : label } : rs;
}

export function selectControlType(controlType: ControlType): MessageOf<'SelectControlType'> {
  return { message_type: 'SelectControlType', message_id: newId(), control_type: controlType };
}

export function sessionRequest(request: SessionRequestType, label?: string): MessageOf<'SessionRequest'> {
  const m: MessageOf<'SessionRequest'> = { message_type: 'SessionRequest', message_id: newId(), request };
  return label ? { ...m, diagnostic_label: label } : m;
}

/** A single-phase household load drawing 1.2 kW (R9: consumption is positive; R10: L1). */
export function powerMeasurement(nowMs: number): MessageOf<'PowerMeasurement'> {
  return {
    message_type: 'PowerMeasurement',
    message_id: newId(),
    measurement_timestamp: iso(nowMs),
    values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1200 }],
  };
}

/** The details of the kit's RM: a heat-pump controller offering exactly `offer`. */
export function rmDetails(offer: readonly ControlType[], resourceId: string): MessageOf<'ResourceManagerDetails'> {
  return {
    message_type: 'ResourceManagerDetails',
    message_id: newId(),
    resource_id: resourceId,
    name: 's2-engine conformance kit RM',
    manufacturer: 's2-engine',
    model: 'conformance-kit',
    roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 100,
    available_control_types: [...offer],
    provides_forecast: false,
    provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
  };
}

export function instructionStatusUpdate(
  instructionId: string,
  status: InstructionStatus,
  atMs: number,
): MessageOf<'InstructionStatusUpdate'> {
  return {
    message_type: 'InstructionStatusUpdate',
    message_id: newId(),
    instruction_id: instructionId,
    status_type: status,
    timestamp: iso(atMs),
  };
}

export function revokeObject(objectType: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> {
  return { message_type: 'RevokeObject', message_id: newId(), object_type: objectType, object_id: objectId };
}

/** Frames that are not valid S2, and the ReceptionStatus each one must get (docs/design.md decision table). */
export const brokenFrames = {
  /** Cut off in the middle: not JSON ⇒ INVALID_DATA with the nil UUID (R15, R20, Q7). */
  notJson: (): string => `{"message_type": "PowerMeasurement", "message_id": "${newId()}", "values": [`,
  /** JSON, but no message_id to answer ⇒ INVALID_DATA with the nil UUID (R15, R20, Q7). */
  noMessageId: (nowMs: number): string => {
    const { message_id: _omitted, ...rest } = powerMeasurement(nowMs);
    return JSON.stringify(rest);
  },
  /** A message_type no schema has ⇒ INVALID_MESSAGE with its id (R1, R15). */
  unknownType: (messageId: string): string => JSON.stringify({ message_type: 'S2.ConformanceProbe', message_id: messageId }),
  /** A ReceptionStatus with an unknown status value: never answered (R11). */
  invalidReceptionStatus: (): string => JSON.stringify({ message_type: 'ReceptionStatus', subject_message_id: newId(), status: 'PERHAPS' }),
  /** A schema violation the receiver cannot act on: a control type that does not exist ⇒ INVALID_MESSAGE (R15). */
  badSelectControlType: (messageId: string): string =>
    JSON.stringify({ message_type: 'SelectControlType', message_id: messageId, control_type: 'TURBO_BASED_CONTROL' }),
  /** A harmless message with a field no schema has ⇒ INVALID_MESSAGE (R5, R15). */
  measurementWithExtraField: (messageId: string, nowMs: number): string =>
    JSON.stringify({ ...powerMeasurement(nowMs), message_id: messageId, conformance_kit_extra: true }),
};
