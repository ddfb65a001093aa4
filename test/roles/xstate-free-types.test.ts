/**
 * The `clock` and `inspect` options are typed without xstate (src/roles/types.ts), so that the
 * public declarations never load xstate's. These tests hold the structural types to what XState
 * really hands over: at compile time (`expectTypeOf`, checked by `tsc -p tsconfig.json`) and at
 * run time (every inspection event of a real session, timers on a SimulatedClock).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SimulatedClock, type InspectionEvent } from 'xstate';
import {
  CloseCode,
  type RmDetailsInput,
  type SessionClock,
  type SessionInspectionEvent,
  type SessionInspector,
  type SessionOptions,
} from '../../src/index.js';
import { S2Session } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';

const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

const INSPECTION_TYPES: ReadonlySet<string> = new Set<SessionInspectionEvent['type']>([
  '@xstate.snapshot',
  '@xstate.transition',
  '@xstate.microstep',
  '@xstate.event',
  '@xstate.action',
  '@xstate.actor',
]);
const SNAPSHOT_STATUSES: ReadonlySet<unknown> = new Set(['active', 'done', 'error', 'stopped']);

/** What a SessionInspectionEvent promises, checked on a value that came from XState. */
function violations(e: SessionInspectionEvent): string[] {
  const out: string[] = [];
  if (!INSPECTION_TYPES.has(e.type)) out.push(`unknown type ${e.type}`);
  if (typeof e.rootId !== 'string') out.push(`${e.type}: rootId`);
  if (typeof e.actorRef.sessionId !== 'string' || typeof e.actorRef.getSnapshot !== 'function') out.push(`${e.type}: actorRef`);
  switch (e.type) {
    case '@xstate.snapshot':
    case '@xstate.transition':
    case '@xstate.microstep':
      if (typeof e.event.type !== 'string') out.push(`${e.type}: event`);
      if (!SNAPSHOT_STATUSES.has(e.snapshot.status)) out.push(`${e.type}: snapshot.status ${String(e.snapshot.status)}`);
      break;
    case '@xstate.event':
      if (typeof e.event.type !== 'string') out.push(`${e.type}: event`);
      if (e.sourceRef !== undefined && typeof e.sourceRef.sessionId !== 'string') out.push(`${e.type}: sourceRef`);
      break;
    case '@xstate.action':
      if (typeof e.action.type !== 'string' || !('params' in e.action)) out.push(`${e.type}: action`);
      break;
  }
  return out;
}

describe('clock and inspect options without xstate types', () => {
  it('XState’s own clock and inspection types fit them, and observers written against XState’s type are accepted', () => {
    expectTypeOf<SimulatedClock>().toExtend<SessionClock>();
    expectTypeOf<{ setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout }>().toExtend<SessionClock>();
    expectTypeOf<InspectionEvent>().toExtend<SessionInspectionEvent>();
    expectTypeOf<(event: InspectionEvent) => void>().toExtend<SessionInspector>();
    expectTypeOf<(event: SessionInspectionEvent) => void>().toExtend<SessionInspector>();
    expectTypeOf<SessionOptions['clock']>().toEqualTypeOf<SessionClock | undefined>();
    expectTypeOf<SessionOptions['inspect']>().toEqualTypeOf<SessionInspector | undefined>();
    // @ts-expect-error an observer must take the event
    const wrong: SessionInspector = (event: number) => void event;
    expect(typeof wrong).toBe('function');
  });

  it('a CEM/RM pair on a SimulatedClock: every inspection event is what SessionInspectionEvent says, and the clock drives the timeouts', async () => {
    const clock = new SimulatedClock();
    const events: SessionInspectionEvent[] = [];
    const [a, b] = createMemoryPair();
    const cem = new S2Session(a, { role: 'CEM', clock, now: () => clock.now(), inspect: (e) => events.push(e) });
    const rm = new S2Session(b, { role: 'RM', details, clock, now: () => clock.now() });
    cem.start();
    rm.start();
    await new Promise<void>((resolve) => cem.on('controlType', () => resolve()));
    await cem.close();
    expect(events.length).toBeGreaterThan(10);
    expect(events.flatMap(violations)).toEqual([]);
    // Each kind the session's actors produce (XState also declares `@xstate.transition`, unused here).
    expect([...new Set(events.map((e) => e.type))].sort()).toEqual([
      '@xstate.action',
      '@xstate.actor',
      '@xstate.event',
      '@xstate.microstep',
      '@xstate.snapshot',
    ]);
    expect(new Set(events.map((e) => e.rootId)).size).toBe(1);

    // A handshake that never finishes, with a timeout no real timer reaches during the test: only
    // the injected clock can end it.
    const [c] = createMemoryPair();
    const lonely = new S2Session(c, { role: 'CEM', clock, now: () => clock.now(), handshakeTimeoutMs: 3_600_000, logger: false });
    lonely.start();
    clock.increment(3_599_999);
    expect(lonely.isClosed).toBe(false);
    clock.increment(1);
    const closed = await Promise.race([
      lonely.closed,
      new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 2_000)),
    ]);
    if (closed === 'still open') throw new Error('the handshake timeout did not run on the injected clock');
    expect(closed.code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
  });
});
