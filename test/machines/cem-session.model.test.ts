/**
 * Model-based tests of cemSessionMachine (docs/rules.md: #phases, #framing to #control-types). Paths generated with
 * xstate/graph from the CEM test model (session-models.ts) drive a real CEM `S2Session` against a
 * scripted RM over an in-memory pair with a SimulatedClock (session-drivers.ts says what each
 * model event means and which frames the rules demand). Afterwards the transitions of the real
 * machine that all runs took (seen through XState's inspection API) must be all it defines.
 *
 * The bugs these paths found (BUG-CEM-1..3, BUG-SESSION-1..3) are fixed; a new one would be listed
 * in session-drivers.ts and its paths registered with it.fails until fixed.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type * as XState from 'xstate';

// S2Session has no option for an inspector: give one to every actor it creates.
vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof XState>();
  const { forwardInspection } = await import('./inspection-hook.js');
  const createActor = ((logic: Parameters<typeof actual.createActor>[0], options?: Record<string, unknown>) =>
    actual.createActor(logic, { ...options, inspect: forwardInspection })) as typeof actual.createActor;
  return { ...actual, createActor };
});

import { cemSessionMachine } from '../../src/machines/cem-session.js';
import { setFastPaths } from '../../src/roles/session.js';
import { setInspectionListener } from './inspection-hook.js';
import { TransitionCoverage } from './model-kit.js';
import { definePathTests } from './path-tests.js';
import { CONFIGS } from './session-models.js';

const coverage = new TransitionCoverage(cemSessionMachine);
setInspectionListener(coverage.listener);
// What is covered is the machine: here every decision goes through it. The session's fast paths,
// which take some of them without a macrostep, are proven equivalent over these same generated
// paths by test/roles/fast-path-equivalence.test.ts.
setFastPaths(false);
afterAll(() => setFastPaths(true));

/** Observe mode (cemSessionMachine's `observing` guard and `observed.send` event) is judged by test/proxy/judge.test.ts. */
const OBSERVE_ONLY =
  "observe mode only (the checking proxy's shadow sessions), which this normal-mode model never enables: taken by test/proxy/judge.test.ts";

/** Transitions of cemSessionMachine no path of this model can take, label → reason. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  'cemSession ── observed.send #0 [observes(SessionRequest)] → cemSession.ending': OBSERVE_ONLY,
  'cemSession ── observed.send #1 → (stay)': OBSERVE_ONLY,
  'cemSession.handshake ── s2.Handshake #1 [not(observing,peerHandshakeSeen)] → (stay)': OBSERVE_ONLY,
  'cemSession.handshake ── s2.Handshake #2 [not(observing,hasCommonVersion)] → (stay)': OBSERVE_ONLY,
  'cemSession.handshake ── s2.Handshake #3 [observing] → (stay)': OBSERVE_ONLY,
  'cemSession.handshake ── observed.send #0 [observes(Handshake)] → (stay)': OBSERVE_ONLY,
  'cemSession.handshake ── observed.send #1 [observes(HandshakeResponse)] → cemSession.connected': OBSERVE_ONLY,
  'cemSession.connected ── s2.ResourceManagerDetails #0 [observing] → (stay)': OBSERVE_ONLY,
};

const suites = CONFIGS.map((cfg) => definePathTests('CEM', cfg, 'cemSessionMachine'));
const pathCount = suites.reduce((n, s) => n + s.pathCount, 0);

describe('cemSessionMachine, coverage of the real machine by the generated paths', () => {
  it('[R11, R12, R18, R22, R24, R28, R29, R34, R41, Q6, Q11, Q22] every transition of cemSessionMachine is taken (or listed as unreachable)', () => {
    const defined = coverage.defined();
    const missing = defined.filter((d) => !coverage.taken.has(d.definition) && !(d.label in UNREACHABLE)).map((d) => d.label);
    expect(missing, 'transitions of the real machine never taken').toEqual([]);
    const stale = defined.filter((d) => coverage.taken.has(d.definition) && d.label in UNREACHABLE).map((d) => d.label);
    expect(stale, 'listed as unreachable but taken').toEqual([]);
    console.info(
      `cemSessionMachine: ${defined.length - Object.keys(UNREACHABLE).length}/${defined.length} transitions taken over ${pathCount} paths`,
    );
  });

  it('every state node of cemSessionMachine is visited', () => {
    const all = coverage.stateNodeIds();
    expect(
      all.filter((id) => !coverage.visited.has(id)),
      'state nodes never visited',
    ).toEqual([]);
    console.info(`cemSessionMachine: ${all.length}/${all.length} state nodes visited`);
  });
});
