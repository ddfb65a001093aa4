import type { S2Session } from './session.js';

/**
 * Writes a session's life as JSON lines (docs/design.md §The `s2` command): one line per message sent
 * or received, per state change and for the close. Returns a function that stops tracing.
 * Frames that did not decode are traced with their raw text (`frame`) instead of `message`.
 */
export function traceSession(session: S2Session, write: (line: string) => void, now: () => Date = () => new Date()): () => void {
  const base = () => ({ ts: now().toISOString(), session: session.id, role: session.role });
  const line = (entry: object) => write(`${JSON.stringify({ ...base(), ...entry })}\n`);
  const offs = [
    session.on('sent', ({ message }) => line({ event: 'send', message })),
    session.on('received', ({ frame, message }) => line(message ? { event: 'recv', message } : { event: 'recv', frame })),
    session.on('state', ({ state }) => line({ event: 'state', state })),
    session.on('close', ({ code, reason }) => line({ event: 'close', code, reason })),
  ];
  return () => offs.forEach((off) => off());
}
