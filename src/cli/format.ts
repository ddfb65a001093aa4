import type { S2Message } from '../typebox/registry.js';

/** How many characters of one peer-supplied string the CLI prints; longer ones end in `…`. */
export const MAX_PRINTED_CHARS = 200;

// C0 controls, DEL, C1 controls, the line and paragraph separators, the bidi embeddings,
// overrides and isolates, and the implicit bidi marks (ALM, LRM, RLM).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * Text that came from a peer, made safe to print on one log line: control characters (newlines,
 * tabs, ANSI escapes, other C0 and C1 controls, DEL), Unicode line and paragraph separators and
 * bidi controls are shown as visible escapes (`\n`, `\x1b`, `\u202e`), so that a peer can neither
 * forge log lines nor recolour or reorder the terminal. At most `max` characters of the result are
 * kept (default {@link MAX_PRINTED_CHARS}); a longer one is cut and ends in `…`.
 */
export function printable(text: string, max: number = MAX_PRINTED_CHARS): string {
  const escaped = text.replace(UNPRINTABLE, escapeOne);
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, Math.max(0, max - 1));
  // Do not leave half an escape (`\x1`) or half a surrogate pair at the cut.
  const partial = /\\(?:x[0-9a-f]?|u[0-9a-f]{0,3})?$/.exec(cut);
  if (partial) cut = cut.slice(0, partial.index);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** The first 8 characters of an id: enough to follow a message through a log (escaped: ids come from peers). */
export const shortId = (id: string): string => printable(id.slice(0, 8));

/**
 * One readable phrase for a message: its type plus the fields a person looks for first. Every
 * string taken from the message goes through {@link printable}.
 */
export function summarize(m: S2Message): string {
  switch (m.message_type) {
    case 'ReceptionStatus':
      return `ReceptionStatus ${m.status} for ${shortId(m.subject_message_id)}${m.diagnostic_label ? ` (${printable(m.diagnostic_label)})` : ''}`;
    case 'Handshake':
      return `Handshake role=${m.role}${m.supported_protocol_versions ? ` versions=${printable(m.supported_protocol_versions.join(','))}` : ''}`;
    case 'HandshakeResponse':
      return `HandshakeResponse version=${printable(m.selected_protocol_version)}`;
    case 'ResourceManagerDetails':
      return `ResourceManagerDetails ${m.name !== undefined ? printable(m.name) : shortId(m.resource_id)} offers ${m.available_control_types.join(',')}`;
    case 'SelectControlType':
      return `SelectControlType ${m.control_type}`;
    case 'SessionRequest':
      return `SessionRequest ${m.request}${m.diagnostic_label ? ` (${printable(m.diagnostic_label)})` : ''}`;
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
