import type { S2Session } from './session.js';

// JSON.stringify escapes C0 controls (ESC becomes \u001b) but leaves DEL, C1 controls, the line and
// paragraph separators (which some readers take for line ends) and bidi controls as they are.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON of `value` on one line of plain ASCII-safe text: the characters above as `\uXXXX` escapes (same value when parsed). */
function jsonLine(value: object): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Writes a session's life as JSON lines (docs/design.md §The `s2` command): one line per message sent
 * or received, per state change, one when the handshake completes (`event: 'handshake'` with the
 * selected S2 `version`) and one for the close. Returns a function that stops tracing.
 * Frames that did not decode are traced with their raw text (`frame`) instead of `message`.
 * Peer-supplied strings keep their exact value, but every control, line-separator and bidi
 * character is written as a JSON escape, so that one entry is always one line.
 */
export function traceSession(session: S2Session, write: (line: string) => void, now: () => Date = () => new Date()): () => void {
  const base = () => ({ ts: now().toISOString(), session: session.id, role: session.role });
  const line = (entry: object) => write(`${jsonLine({ ...base(), ...entry })}\n`);
  const offs = [
    session.on('sent', ({ message }) => line({ event: 'send', message })),
    session.on('received', ({ frame, message }) => line(message ? { event: 'recv', message } : { event: 'recv', frame })),
    session.on('state', ({ state }) => line({ event: 'state', state })),
    // The S2 version selected at the handshake: every later message is of that version's set.
    session.on('handshake', ({ version }) => line({ event: 'handshake', version })),
    session.on('close', ({ code, reason }) => line({ event: 'close', code, reason })),
  ];
  return () => offs.forEach((off) => off());
}
