import type { S2Message } from '../typebox/registry.js';

/**
 * The sanitising hook: receives a deep copy of every message before the inspector shows it and
 * returns what may be shown (remove or mask secrets, personal data …). It may change the copy in
 * place; the engine's own message is never touched. If it throws, the body is hidden.
 */
export type Sanitizer = (message: S2Message) => S2Message;

/** Longest message body kept for the page; a PPBC description can be hundreds of KiB. */
export const MAX_BODY_CHARS = 16_000;
/** Frames longer than this are not parsed again for the page (the codec already judged them). */
const MAX_PARSE_CHARS = 1_000_000;
const HIDDEN = '(hidden: the sanitize hook threw)';

/**
 * Bearer tokens belong to the HTTP upgrade and never reach the inspector; should one appear in a
 * payload or a reason anyway (a peer echoing a header), it is masked here too.
 */
const BEARER = /\bbearer(\s+|%20)[^\s"'<>,;]+/gi;

export function redact(text: string): string {
  return text.replace(BEARER, 'Bearer [redacted]');
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What the page may show of a message: its sanitised JSON text and a sanitised copy to summarise. */
export interface Shown {
  readonly body: string;
  readonly message: Record<string, unknown> | undefined;
}

export function showMessage(message: S2Message, sanitize: Sanitizer | undefined): Shown {
  return showObject(structuredClone(message), sanitize);
}

/** A frame that did not decode: parsed again when it is a JSON object, so the hook can see it; else its text. */
export function showFrame(frame: string, sanitize: Sanitizer | undefined): Shown {
  let parsed: unknown;
  if (frame.length <= MAX_PARSE_CHARS) {
    try {
      parsed = JSON.parse(frame);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return showObject(parsed as Record<string, unknown>, sanitize);
  // Not an object: nothing a hook could pick fields from. With a hook installed, show only the size.
  if (sanitize)
    return { body: `(${frame.length} characters, not a JSON object; not shown because a sanitize hook is installed)`, message: undefined };
  return { body: clip(redact(frame), MAX_BODY_CHARS), message: undefined };
}

function showObject(copy: Record<string, unknown>, sanitize: Sanitizer | undefined): Shown {
  let shown: Record<string, unknown> = copy;
  if (sanitize) {
    try {
      shown = sanitize(copy as S2Message);
    } catch {
      return { body: HIDDEN, message: undefined };
    }
  }
  let body: string;
  try {
    body = JSON.stringify(shown) ?? '';
  } catch {
    body = '(not serialisable)';
  }
  return { body: clip(redact(body), MAX_BODY_CHARS), message: shown && typeof shown === 'object' ? shown : undefined };
}

/** The first 8 characters of an id: enough to follow a message through the log. */
const short = (v: unknown): string => (typeof v === 'string' ? redact(v.slice(0, 8)) : '?');
const text = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? redact(clip(String(v), 60)) : '?';

/** One line for the log: the type plus what a person looks for first (from the sanitised copy). */
export function summarize(m: Record<string, unknown> | undefined, fallback: string): string {
  if (!m) return fallback;
  const type = typeof m.message_type === 'string' ? clip(m.message_type, 60) : fallback;
  switch (type) {
    case 'ReceptionStatus':
      return `ReceptionStatus ${text(m.status)} for ${short(m.subject_message_id)}${m.diagnostic_label !== undefined ? ` (${text(m.diagnostic_label)})` : ''}`;
    case 'Handshake':
      return `Handshake role=${text(m.role)}${Array.isArray(m.supported_protocol_versions) ? ` versions=${m.supported_protocol_versions.map(text).join(',')}` : ''}`;
    case 'HandshakeResponse':
      return `HandshakeResponse version=${text(m.selected_protocol_version)}`;
    case 'ResourceManagerDetails':
      return `ResourceManagerDetails ${m.name !== undefined ? text(m.name) : short(m.resource_id)}${Array.isArray(m.available_control_types) ? ` offers ${m.available_control_types.map(text).join(',')}` : ''}`;
    case 'SelectControlType':
      return `SelectControlType ${text(m.control_type)}`;
    case 'SessionRequest':
      return `SessionRequest ${text(m.request)}${m.diagnostic_label !== undefined ? ` (${text(m.diagnostic_label)})` : ''}`;
    case 'InstructionStatusUpdate':
      return `InstructionStatusUpdate ${short(m.instruction_id)} → ${text(m.status_type)}`;
    case 'RevokeObject':
      return `RevokeObject ${text(m.object_type)} ${short(m.object_id)}`;
    default:
      return `${type}${typeof m.id === 'string' ? ` ${short(m.id)}` : ''}`;
  }
}
