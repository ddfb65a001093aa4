/**
 * Model-based tests of rmSessionMachine (docs/rules.md: #phases, #framing to #control-types). Paths generated with
 * xstate/graph from the RM test model (session-models.ts) drive a real RM `S2Session` against a
 * scripted CEM over an in-memory pair with a SimulatedClock (session-drivers.ts says what each
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

import { rmSessionMachine } from '../../src/machines/rm-session.js';
import { setFastPaths } from '../../src/roles/session.js';
import { setInspectionListener } from './inspection-hook.js';
import { TransitionCoverage } from './model-kit.js';
import { definePathTests } from './path-tests.js';
import { CONFIGS } from './session-models.js';

const coverage = new TransitionCoverage(rmSessionMachine);
setInspectionListener(coverage.listener);
// What is covered is the machine: here every decision goes through it. The session's fast paths,
// which take some of them without a macrostep, are proven equivalent over these same generated
// paths by test/roles/fast-path-equivalence.test.ts.
setFastPaths(false);
afterAll(() => setFastPaths(true));

/** Observe mode (rmSessionMachine's `observing` guard and `observed.send` event) is judged by test/proxy/judge.test.ts. */
const OBSERVE_ONLY =
  "observe mode only (the checking proxy's shadow sessions), which this normal-mode model never enables: taken by test/proxy/judge.test.ts";

/** Transitions of rmSessionMachine no path of this model can take, label → reason. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  'rmSession ── observed.send #0 [observes(SessionRequest)] → rmSession.ending': OBSERVE_ONLY,
  'rmSession ── observed.send #1 → (stay)': OBSERVE_ONLY,
  'rmSession.handshake ── observed.send [observes(Handshake)] → (stay)': OBSERVE_ONLY,
  'rmSession.connected ── observed.send [observes(ResourceManagerDetails)] → (stay)': OBSERVE_ONLY,
};

const suites = CONFIGS.map((cfg) => definePathTests('RM', cfg, 'rmSessionMachine'));
const pathCount = suites.reduce((n, s) => n + s.pathCount, 0);

describe('rmSessionMachine, coverage of the real machine by the generated paths', () => {
  it('[R11, R12, R18, R22, R24, R27, R28, R35, Q6, Q11, Q22] every transition of rmSessionMachine is taken (or listed as unreachable)', () => {
    const defined = coverage.defined();
    const missing = defined.filter((d) => !coverage.taken.has(d.definition) && !(d.label in UNREACHABLE)).map((d) => d.label);
    expect(missing, 'transitions of the real machine never taken').toEqual([]);
    const stale = defined.filter((d) => coverage.taken.has(d.definition) && d.label in UNREACHABLE).map((d) => d.label);
    expect(stale, 'listed as unreachable but taken').toEqual([]);
    console.info(
      `rmSessionMachine: ${defined.length - Object.keys(UNREACHABLE).length}/${defined.length} transitions taken over ${pathCount} paths`,
    );
  });

  it('every state node of rmSessionMachine is visited', () => {
    const all = coverage.stateNodeIds();
    expect(
      all.filter((id) => !coverage.visited.has(id)),
      'state nodes never visited',
    ).toEqual([]);
    console.info(`rmSessionMachine: ${all.length}/${all.length} state nodes visited`);
  });
});
