/**
 * Model-based tests of the control-type activation statechart `createControlTypeMachine(rules)`
 * (src/machines/control-type.ts; docs/rules.md#instructions to #ppbc) for each of the five control types, on
 * both roles. Paths generated with xstate/graph from the control-type test model
 * (control-type-models.ts) drive the REAL actor under `controlTypeHarness` with concrete,
 * codec-valid messages (test/support/control-type-messages.ts); control-type-drivers.ts says what
 * each model event is and what the actor must answer. Afterwards the transitions of the real
 * machine that the runs took (seen through XState's inspection API) must be all it defines, per
 * type and role, except the ones listed as unreachable with the reason.
 *
 * The bugs these paths found are fixed; see the known-bug lists in control-type-drivers.ts.
 */
import { describe, it, vi } from 'vitest';
import type * as XState from 'xstate';

// controlTypeHarness has no option for an inspector: give one to every actor it creates.
vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof XState>();
  const { forwardInspection } = await import('./inspection-hook.js');
  const createActor = ((logic: Parameters<typeof actual.createActor>[0], options?: Record<string, unknown>) =>
    actual.createActor(logic, { ...options, inspect: forwardInspection })) as typeof actual.createActor;
  return { ...actual, createActor };
});

import { CONTROL_TYPE_MACHINES } from '../../src/machines/control-types.js';
import type { SessionRole } from '../../src/machines/events.js';
import { catalogue, expectDecodes, MESSAGE_SETS } from '../support/control-type-messages.js';
import { ControlTypeModelRun, ctBugsOf, ctTagsOf } from './control-type-drivers.js';
import { createControlTypeModel } from './control-type-models.js';
import { setInspectionListener } from './inspection-hook.js';
import { titleOf, TransitionCoverage } from './model-kit.js';
import { defineCoverageTests, definePathSuite } from './path-tests.js';
import { SHORTS } from './session-models.js';

const ROLES: readonly SessionRole[] = ['CEM', 'RM'];

/** Why some transitions of the control-type machine cannot be taken on one role. */
const unreachable = (area: string, role: SessionRole): Record<string, string> =>
  role === 'CEM'
    ? {
        [`${area} ── instruction.due → (stay)`]:
          'the CEM’s instruction actors never report due: their `after: untilExecution` transition is guarded by isRm (R43: the RM executes)',
      }
    : {
        [`${area} ── instruction.accepted → (stay)`]:
          'on the RM, InstructionStatusUpdates are outgoing (direction out): the instruction actor acknowledges only received ones, and the session refuses an InstructionStatusUpdate from the CEM (wrong sender) before the control type sees it',
        [`${area} ── instruction.refused → (stay)`]:
          'on the RM, InstructionStatusUpdates are outgoing: the instruction actor refuses only received ones (an illegal outgoing one is stopped by the session gate, statusTransitionRefusal)',
      };

describe('the message sets of the control-type models', () => {
  for (const short of SHORTS) {
    it(`[R3, R5] every ${short} message kind decodes with the engine's codec (schema and rules, UUID ids)`, () => {
      for (const m of catalogue(MESSAGE_SETS[short])) expectDecodes(m);
    });
  }
});

const suites: { label: string; coverage: TransitionCoverage; area: string; role: SessionRole; pathCount: number }[] = [];
setInspectionListener((event) => {
  for (const s of suites) s.coverage.listener(event);
});

for (const role of ROLES) {
  for (const short of SHORTS) {
    const set = MESSAGE_SETS[short];
    const model = createControlTypeModel({ kind: set.kind, statusReferences: set.statusUnknown !== undefined });
    const label = `controlType(${short}) on the ${role}`;
    const coverage = new TransitionCoverage(
      CONTROL_TYPE_MACHINES[`ct.${short}`],
      // The harness builds its own machine from the rules: count every actor of this area and role.
      (actor, snapshot) =>
        (actor.logic as { id?: string } | undefined)?.id === short &&
        (snapshot.context as { role?: SessionRole } | undefined)?.role === role,
    );
    const { pathCount } = definePathSuite({
      model,
      title: ({ paths, states, edges }) =>
        `${label}, model-based (${set.kind} descriptions; ${paths} paths, ${states} model states, ${edges} model transitions)`,
      testTitle: (path) => `${ctTagsOf(set, role, path)} ${titleOf(path)}`,
      bugsOf: ctBugsOf,
      start: () => {
        const run = new ControlTypeModelRun(set, role);
        return { params: run.params(model), current: () => run.current, dispose: () => run.dispose() };
      },
    });
    suites.push({ label, coverage, area: short, role, pathCount });
  }
}

for (const s of suites) {
  defineCoverageTests({
    label: s.label,
    tags: '[R39, R42, R44, R45, R46, R54, R55, R57, R58]',
    coverage: s.coverage,
    unreachable: unreachable(s.area, s.role),
    pathCount: () => s.pathCount,
  });
}
