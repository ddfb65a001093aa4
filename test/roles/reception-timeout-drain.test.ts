/**
 * Issue 15 #6: after a pause (SIGSTOP/SIGCONT) the timers fire before the socket is read. A
 * ReceptionStatus already waiting to be read when the reception timeout fires must still count:
 * the real clock runs a due timer's event one macrotask later, after pending I/O.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { S2Session } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { rs } from '../support/e2e-messages.js';
import { MemoryPeer } from '../support/memory-peer.js';

afterEach(() => {
  vi.useRealTimers();
});

it('[R21] a ReceptionStatus that arrives in the same turn as the reception timeout fires answers the message (OK, not TIMEOUT)', async () => {
  vi.useFakeTimers();
  const receptionTimeoutMs = 5_000;
  const [mine, theirs] = createMemoryPair({ a: 'cem', b: 'rm' });
  const peer = new MemoryPeer(theirs);
  const session = new S2Session(mine, { role: 'CEM', receptionTimeoutMs });
  const reports: string[] = [];
  session.on('report', (r) => reports.push(r.kind));
  session.start(); // sends our Handshake and starts its reception timeout
  await vi.advanceTimersByTimeAsync(0);
  const hs = await peer.message('Handshake');
  // The peer's OK is queued at the very moment the timeout is due, after the session's timer
  // (registered later, so it runs right after it): like a frame read right after the timers phase.
  setTimeout(() => peer.send(rs(String(hs.message_id), 'OK')), receptionTimeoutMs);
  await vi.advanceTimersByTimeAsync(receptionTimeoutMs);
  await vi.advanceTimersByTimeAsync(0);
  expect(reports).not.toContain('reception-status-timeout');
  expect(reports).not.toContain('unknown-reception-status');
  expect(session.pendingCount).toBe(0);
  expect(session.isClosed).toBe(false);
  await vi.advanceTimersByTimeAsync(0);
});

it('[R21] without an answer the reception timeout still fires, one macrotask after it is due', async () => {
  vi.useFakeTimers();
  const receptionTimeoutMs = 5_000;
  const [mine, theirs] = createMemoryPair({ a: 'cem', b: 'rm' });
  new MemoryPeer(theirs);
  const session = new S2Session(mine, { role: 'CEM', receptionTimeoutMs, handshakeTimeoutMs: 60_000 });
  const reports: string[] = [];
  session.on('report', (r) => reports.push(r.kind));
  session.start();
  await vi.advanceTimersByTimeAsync(receptionTimeoutMs - 1);
  expect(reports).not.toContain('reception-status-timeout');
  await vi.advanceTimersByTimeAsync(1); // due: the timer fires and defers its event by one macrotask
  expect(reports).not.toContain('reception-status-timeout');
  await vi.advanceTimersByTimeAsync(1); // the setImmediate (fake timers run one made during a tick 1 ms later)
  expect(reports).toContain('reception-status-timeout');
  expect(session.pendingCount).toBe(0);
});
