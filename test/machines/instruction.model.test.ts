/**
 * Model-based tests of the instruction statechart (src/machines/instruction.ts; docs/rules.md#instructions,
 * R43–R46, R54, R58) on both roles. Paths generated with xstate/graph from the instruction test
 * model (control-type-models.ts: status × time phase × revoked) drive one REAL instruction actor
 * through the real control-type actor of the five control types in turn under `controlTypeHarness` with a
 * SimulatedClock: the RM describes, the CEM instructs (execution_time one hour ahead), then the
 * model's statuses, revocations and the passing of time. After each step the real instruction
 * state, the control type's record of it and the replies (accepted / refused with the rule /
 * status, due and revoked notices) are checked. Afterwards every transition of the real machine
 * must have been taken per role, except the ones listed as unreachable with the reason.
 *
 * The bugs these paths found are fixed; see the known-bug lists in control-type-drivers.ts.
 */
import { vi } from 'vitest';
import type * as XState from 'xstate';

vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof XState>();
  const { forwardInspection } = await import('./inspection-hook.js');
  const createActor = ((logic: Parameters<typeof actual.createActor>[0], options?: Record<string, unknown>) =>
    actual.createActor(logic, { ...options, inspect: forwardInspection })) as typeof actual.createActor;
  return { ...actual, createActor };
});

import type { SessionRole } from '../../src/machines/events.js';
import { instructionMachine } from '../../src/machines/instruction.js';
import { MESSAGE_SETS } from '../support/control-type-messages.js';
import { InstructionModelRun, instructionBugsOf, instructionTagsOf } from './control-type-drivers.js';
import { createInstructionModel, instructionModelEvents } from './control-type-models.js';
import { setInspectionListener } from './inspection-hook.js';
import { titleOf, TransitionCoverage } from './model-kit.js';
import { defineCoverageTests, definePathSuite } from './path-tests.js';
import { SHORTS } from './session-models.js';

const ROLES: readonly SessionRole[] = ['CEM', 'RM'];

const UNREACHABLE: Readonly<Record<SessionRole, Readonly<Record<string, string>>>> = {
  CEM: {
    'instruction.ACCEPTED ── xstate.after.untilExecution.instruction.ACCEPTED [dueOnRm] → (stay)':
      'guarded by dueOnRm (role RM): the CEM’s copy of an instruction is never due (R43 is about the RM executing it); the timer fires on the CEM too but the guard refuses it',
  },
  RM: {},
};

const coverages = new Map<SessionRole, TransitionCoverage>(
  ROLES.map((role) => [
    role,
    new TransitionCoverage(
      instructionMachine,
      (actor, snapshot) => actor.logic === instructionMachine && (snapshot.context as { role?: SessionRole }).role === role,
    ),
  ]),
);
setInspectionListener((event) => {
  for (const c of coverages.values()) c.listener(event);
});

const model = createInstructionModel();
const pathCounts = new Map<SessionRole, number>();

// The statechart does not depend on the control type, its messages do: the control type rotates
// over the paths (path i uses SHORTS[i mod 5]), so every type's instructions and statuses are used.
for (const role of ROLES) {
  const setOf = (index: number) => MESSAGE_SETS[SHORTS[index % SHORTS.length]!];
  const { pathCount } = definePathSuite({
    model,
    events: instructionModelEvents(),
    title: ({ paths, states, edges }) =>
      `instructionMachine on the ${role}, model-based (${paths} paths, ${states} model states, ${edges} model transitions; control types ${SHORTS.join('/')} in turn)`,
    testTitle: (path, index) => `${instructionTagsOf(role, path)} (${setOf(index).instructionType}) ${titleOf(path)}`,
    bugsOf: (path) => instructionBugsOf(role, path),
    start: (_path, index) => {
      const run = new InstructionModelRun(setOf(index), role);
      return { params: run.params(model), current: () => run.current, dispose: () => run.dispose() };
    },
  });
  pathCounts.set(role, pathCount);
}

for (const role of ROLES) {
  defineCoverageTests({
    label: `instructionMachine on the ${role}`,
    tags: '[R43, R44, R45, R46, R54, R58]',
    coverage: coverages.get(role)!,
    unreachable: UNREACHABLE[role],
    pathCount: () => pathCounts.get(role) ?? 0,
  });
}
