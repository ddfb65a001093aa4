import type { S2Session } from '../roles/session.js';
import { printable, shortId, summarize, clockTime } from './format.js';

/**
 * Prints one readable line per session event: messages sent (→) and received (←), refusals,
 * state changes, the completed handshake with the S2 version selected (✓), reports and the close. This is the CLI's view; the library itself never prints.
 * Peer-supplied text (names, labels, reasons, close reasons) is escaped and capped with
 * {@link printable}, and each line as a whole is escaped again, so that one event is one line.
 */
export function logSession(
  session: S2Session,
  write: (line: string) => void,
  options: { label?: () => string; now?: () => Date } = {},
): void {
  const now = options.now ?? (() => new Date());
  const label = options.label ?? (() => `${shortId(session.id)} ${session.peer}`);
  const out = (text: string) => write(`${clockTime(now())} ${session.role} ${printable(`${label()} ${text}`, Infinity)}\n`);
  session.on('sent', ({ message }) => out(`→ ${summarize(message)}`));
  session.on('received', ({ frame, message }) => out(`← ${message ? summarize(message) : `undecodable frame (${frame.length} chars)`}`));
  session.on('refused', ({ status, reason }) => out(`✗ answered ${status}: ${printable(reason)}`));
  session.on('state', ({ state }) => out(`@ ${state}`));
  // Which message set the session speaks from here on: the one the CEM selected (R26, R27).
  session.on('handshake', ({ version }) => out(`✓ handshake: S2 ${printable(version)}`));
  session.on('report', ({ kind, detail }) => out(`! ${kind}: ${printable(detail)}`));
  session.on('close', ({ code, reason }) => out(`closed ${code}${reason ? ` ${printable(reason)}` : ''}`));
}
