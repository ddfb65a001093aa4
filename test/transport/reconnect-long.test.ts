/** Issue 15 #1: a reconnect back-off longer than setTimeout's 2^31 − 1 ms waits its full length. */
import { afterEach, expect, it, vi } from 'vitest';
import { createReconnectingClient } from '../../src/transport/index.js';

const DAY = 86_400_000;
const MAX_TIMER_MS = 2_147_483_647;

afterEach(() => {
  vi.useRealTimers();
});

it('a 30-day back-off is not cut short by the 2^31 − 1 ms timer limit, and stop() cancels it mid-wait', async () => {
  vi.useFakeTimers();
  let dials = 0;
  const client = createReconnectingClient({
    connect: () => {
      dials += 1;
      return Promise.reject(new Error('refused'));
    },
    backoff: { initialMs: 30 * DAY, maxMs: 30 * DAY, jitter: 0 },
    onTransport: () => undefined,
  });
  await vi.advanceTimersByTimeAsync(0);
  expect(dials).toBe(1);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(dials).toBe(1);
  await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
  expect(dials).toBe(1);
  await vi.advanceTimersByTimeAsync(30 * DAY - MAX_TIMER_MS - 1_001);
  expect(dials).toBe(1);
  await vi.advanceTimersByTimeAsync(1);
  expect(dials).toBe(2);
  await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1);
  client.stop();
  await vi.advanceTimersByTimeAsync(60 * DAY);
  expect(dials).toBe(2);
  expect(vi.getTimerCount()).toBe(0);
});
