/**
 * Registers one vitest test per generated path of a role's test model, plus the check that the
 * paths take every model transition. Paths that run into a KNOWN BUG are registered with
 * `it.fails` and titled with the bug id; they pass only while the bug is there AND the failure
 * happens at the bug's step with the bug's symptom — any other failure is reported as such.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { rmDetailsBody } from '../support/session-messages.js';
import { eventLabel, edgesOf, generatePaths, keyOfEdge, leafOf, SessionHarness, titleOf } from './model-kit.js';
import { bugsOf, CEM_KNOWN_BUGS, CemDriver, RM_KNOWN_BUGS, RmDriver, tagsOf } from './session-drivers.js';
import { createCemModel, createRmModel, modelEvents, type ModelConfig } from './session-models.js';

export interface PathSuite {
  readonly machine: AnyStateMachine;
  readonly pathCount: number;
}

export function definePathTests(role: 'CEM' | 'RM', cfg: ModelConfig, label: string): PathSuite {
  const machine = role === 'CEM' ? createCemModel(cfg) : createRmModel(cfg);
  const model = createTestModel(machine, { events: modelEvents(role, cfg) });
  const { paths, edges, states } = generatePaths(model);
  const knownBugs = role === 'CEM' ? CEM_KNOWN_BUGS : RM_KNOWN_BUGS;

  describe(`${label}, model-based (${cfg.name}; ${paths.length} paths, ${states.length} model states, ${edges.length} model transitions)`, () => {
    it('the generated paths reach every model state and take every model transition', () => {
      const taken = new Set(paths.flatMap(edgesOf));
      expect(edges.map(keyOfEdge).filter((e) => !taken.has(e)), 'model transitions no path takes').toEqual([]);
      const reached = new Set(paths.flatMap((p) => p.steps.map((s) => leafOf(s.state))));
      expect([...reached].sort(), 'model states reached').toEqual([...states].sort());
    });

    for (const path of paths) {
      const bugs = bugsOf(knownBugs, path);
      const title = `${tagsOf(role, cfg, path)} ${titleOf(path)}`;
      const run = async () => {
        const h =
          role === 'CEM' ? new SessionHarness('CEM') : new SessionHarness('RM', { details: rmDetailsBody(cfg.offer) });
        const driver = role === 'CEM' ? new CemDriver(h, cfg) : new RmDriver(h, cfg);
        try {
          await h.flush();
          await model.testPath(path, driver.params(machine));
        } catch (err) {
          if (bugs.length === 0) throw err;
          const at = driver.current;
          const message = err instanceof Error ? err.message : String(err);
          const bug = bugs.find((b) => at && b.hits(at.from, at.event) && b.symptom.test(message));
          if (bug) throw err; // the known bug, as documented: it.fails passes
          // Anything else must make it.fails fail, so swallow it and say why.
          console.error(`${bugs.map((b) => b.id).join(', ')}: path failed elsewhere or differently (at ${at?.from} ${at ? eventLabel(at.event) : ''}):\n${message}`);
          return;
        } finally {
          await h.dispose();
        }
        if (bugs.length) console.error(`${bugs.map((b) => b.id).join(', ')} no longer reproduces on this path: remove it from the known bugs`);
      };
      if (bugs.length) it.fails(`${bugs.map((b) => b.id).join(', ')} — src bug, fails until fixed — ${title}`, run);
      else it(title, run);
    }
  });
  return { machine, pathCount: paths.length };
}
