/**
 * Issue 15 #1: delays beyond setTimeout's 2^31 − 1 ms (Node clamps them to 1 ms) — an instruction
 * whose execution_time is 30 days ahead must wait 30 days (R43), under the real clock (vi fake
 * timers) and under XState's SimulatedClock.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { longDelayClock, MAX_TIMER_MS } from '../../src/roles/long-clock.js';
import { S2Session, type SessionOptions } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { FRBCInstruction } from '../../src/typebox/frbc/instruction.js';
import type { FRBCSystemDescription } from '../../src/typebox/frbc/system-description.js';
import { fixtureText } from '../support/fixtures.js';

const sd = JSON.parse(fixtureText('FRBC.SystemDescription')) as FRBCSystemDescription;
const instruction = JSON.parse(fixtureText('FRBC.Instruction')) as FRBCInstruction;
const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};
const DAY = 86_400_000;
const START = Date.parse('2026-01-01T00:00:00.000Z');

afterEach(() => {
  vi.useRealTimers();
});

/** A CEM and an FRBC RM over a memory pair; `executed` counts the RM's execute calls. */
async function frbcPair(settle: () => Promise<void>, timers: Pick<SessionOptions, 'clock' | 'now'> = {}) {
  const [a, b] = createMemoryPair();
  const cem = new S2Session(a, { role: 'CEM', ...timers });
  const rm = new S2Session(b, { role: 'RM', details, ...timers });
  const executed: string[] = [];
  attachRmControlTypes(rm, {
    FRBC: {
      activate(ctx) {
        const { message_id: _, ...description } = sd;
        void ctx.send(description);
      },
      execute(i) {
        executed.push(i.id);
      },
    },
  });
  const active = new Promise<void>((r) => rm.on('controlType', () => r()));
  cem.start();
  rm.start();
  await settle();
  await active;
  await settle();
  return { cem, rm, executed };
}

it('[R43] an FRBC instruction 30 days ahead waits 30 days under the real clock (timers > 2^31 − 1 ms are chained)', async () => {
  vi.useFakeTimers({ now: START });
  const settle = async () => {
    await vi.advanceTimersByTimeAsync(0);
  };
  const { cem, executed } = await frbcPair(settle);
  const { message_id: _, ...rest } = instruction;
  const sent = cem.send({ ...rest, execution_time: new Date(Date.now() + 30 * DAY).toISOString() });
  await settle();
  expect((await sent).status).toBe('OK');
  await vi.advanceTimersByTimeAsync(1_000);
  expect(executed).toEqual([]);
  await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1 - 1_000);
  expect(executed).toEqual([]);
  await vi.advanceTimersByTimeAsync(30 * DAY - MAX_TIMER_MS - 2);
  expect(executed).toEqual([]);
  await vi.advanceTimersByTimeAsync(2);
  expect(executed).toEqual([instruction.id]);
});

it('[R43] an FRBC instruction 30 days ahead waits 30 days under a SimulatedClock', async () => {
  const clock = new SimulatedClock();
  clock.set(START);
  const settle = () => new Promise<void>((r) => setTimeout(r, 0));
  const { cem, executed } = await frbcPair(settle, { clock, now: () => clock.now() });
  const { message_id: _, ...rest } = instruction;
  const sent = cem.send({ ...rest, execution_time: new Date(clock.now() + 30 * DAY).toISOString() });
  await settle();
  expect((await sent).status).toBe('OK');
  clock.increment(1_000);
  await settle();
  expect(executed).toEqual([]);
  clock.increment(MAX_TIMER_MS + 1 - 1_000);
  await settle();
  expect(executed).toEqual([]);
  clock.increment(30 * DAY - MAX_TIMER_MS - 2);
  await settle();
  expect(executed).toEqual([]);
  clock.increment(2);
  await settle();
  expect(executed).toEqual([instruction.id]);
});

it('longDelayClock: a chained wait fires once at the full delay, and clearTimeout cancels it mid-chain', () => {
  vi.useFakeTimers({ now: START });
  const clock = longDelayClock({ setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as never) });
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('long'), 3 * MAX_TIMER_MS + 5);
  const cancelled = clock.setTimeout(() => fired.push('cancelled'), 2 * MAX_TIMER_MS + 5);
  clock.setTimeout(() => fired.push('short'), 10);
  vi.advanceTimersByTime(MAX_TIMER_MS + 1);
  expect(fired).toEqual(['short']);
  clock.clearTimeout(cancelled);
  vi.advanceTimersByTime(2 * MAX_TIMER_MS + 3);
  expect(fired).toEqual(['short']);
  vi.advanceTimersByTime(1);
  expect(fired).toEqual(['short', 'long']);
  vi.advanceTimersByTime(10 * MAX_TIMER_MS);
  expect(fired).toEqual(['short', 'long']);
});
