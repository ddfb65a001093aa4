import type { S2Message } from '../typebox/registry.js';

/** The first 8 characters of an id: enough to follow a message through a log. */
export const shortId = (id: string): string => id.slice(0, 8);

/** One readable phrase for a message: its type plus the fields a person looks for first. */
export function summarize(m: S2Message): string {
  switch (m.message_type) {
    case 'ReceptionStatus':
      return `ReceptionStatus ${m.status} for ${shortId(m.subject_message_id)}${m.diagnostic_label ? ` (${m.diagnostic_label})` : ''}`;
    case 'Handshake':
      return `Handshake role=${m.role}${m.supported_protocol_versions ? ` versions=${m.supported_protocol_versions.join(',')}` : ''}`;
    case 'HandshakeResponse':
      return `HandshakeResponse version=${m.selected_protocol_version}`;
    case 'ResourceManagerDetails':
      return `ResourceManagerDetails ${m.name ?? shortId(m.resource_id)} offers ${m.available_control_types.join(',')}`;
    case 'SelectControlType':
      return `SelectControlType ${m.control_type}`;
    case 'SessionRequest':
      return `SessionRequest ${m.request}${m.diagnostic_label ? ` (${m.diagnostic_label})` : ''}`;
    case 'PowerMeasurement':
      return `PowerMeasurement ${m.values.map((v) => `${v.commodity_quantity}=${v.value}`).join(' ')}`;
    case 'InstructionStatusUpdate':
      return `InstructionStatusUpdate ${shortId(m.instruction_id)} → ${m.status_type}`;
    case 'RevokeObject':
      return `RevokeObject ${m.object_type} ${shortId(m.object_id)}`;
    default:
      return `${m.message_type}${'id' in m && typeof m.id === 'string' ? ` ${shortId(m.id)}` : ''}`;
  }
}

/** `12:00:01.234`, the local wall-clock time of a log line. */
export function clockTime(d: Date): string {
  return d.toISOString().slice(11, 23);
}
