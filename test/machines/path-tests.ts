/**
 * Registers one vitest test per generated path of a test model, plus the check that the paths
 * take every model transition. Paths that run into a KNOWN BUG are registered with `it.fails` and
 * titled with the bug id; they pass only while the bug is there AND the failure happens at the
 * bug's step with the bug's symptom — any other failure is reported as such.
 *
 * `definePathSuite` is the machine-independent part (used by the session, control-type and
 * instruction suites); `definePathTests` wires it to the session models and drivers;
 * `defineCoverageTests` asserts that the runs took every transition of a real machine.
 */
import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { createTestModel, type TestParam } from 'xstate/graph';
import { rmDetailsBody } from '../support/session-messages.js';
import {
  eventLabel,
  edgesOf,
  generatePaths,
  keyOfEdge,
  leafOf,
  SessionHarness,
  titleOf,
  type AnyTestModel,
  type ModelPath,
  type TransitionCoverage,
} from './model-kit.js';
import { bugsOf, CEM_KNOWN_BUGS, CemDriver, RM_KNOWN_BUGS, RmDriver, tagsOf, type KnownBug } from './session-drivers.js';
import { createCemModel, createRmModel, modelEvents, type ModelConfig } from './session-models.js';

export interface PathSuite {
  readonly machine: AnyStateMachine;
  readonly pathCount: number;
}

/** One execution of one path: the test parameters, the failing step, and the clean-up. */
export interface PathRun {
  readonly params: TestParam<AnyMachineSnapshot, EventObject>;
  /** The step being executed (left set when it fails, for the known-bug check). */
  readonly current: () => { readonly from: string; readonly event: EventObject } | undefined;
  readonly before?: () => Promise<void>;
  readonly dispose: () => Promise<void> | void;
}

export interface PathSuiteSpec {
  /** The test model (a machine without invoke/after). */
  readonly model: AnyStateMachine;
  /** The concrete events to explore for parameterised event types. */
  readonly events?: readonly EventObject[];
  /** The describe title, given the path / model-state / model-transition counts. */
  readonly title: (counts: { readonly paths: number; readonly states: number; readonly edges: number }) => string;
  /** A path's test title (the known-bug prefix is added here); `index` is the path's place in the suite. */
  readonly testTitle: (path: ModelPath, index: number) => string;
  /** The known bugs a path runs into. */
  readonly bugsOf: (path: ModelPath) => readonly KnownBug[];
  /** Sets up the real actors for one path. */
  readonly start: (path: ModelPath, index: number) => PathRun;
}

export function definePathSuite(spec: PathSuiteSpec): { readonly pathCount: number } {
  // The test models are untyped machines (AnyStateMachine types their events `any`): their events are plain EventObjects.
  const model = createTestModel(spec.model, spec.events ? { events: [...spec.events] } : {}) as AnyTestModel;
  const { paths, edges, states } = generatePaths(model);

  describe(spec.title({ paths: paths.length, states: states.length, edges: edges.length }), () => {
    it('the generated paths reach every model state and take every model transition', () => {
      const taken = new Set(paths.flatMap(edgesOf));
      expect(
        edges.map(keyOfEdge).filter((e) => !taken.has(e)),
        'model transitions no path takes',
      ).toEqual([]);
      const reached = new Set(paths.flatMap((p) => p.steps.map((s) => leafOf(s.state))));
      expect([...reached].sort(), 'model states reached').toEqual([...states].sort());
    });

    for (const [index, path] of paths.entries()) {
      const bugs = spec.bugsOf(path);
      const title = spec.testTitle(path, index);
      const run = async () => {
        const r = spec.start(path, index);
        try {
          await r.before?.();
          await model.testPath(path, r.params);
        } catch (err) {
          if (bugs.length === 0) throw err;
          const at = r.current();
          const message = err instanceof Error ? err.message : String(err);
          const bug = bugs.find((b) => at && b.hits(at.from, at.event) && b.symptom.test(message));
          if (bug) throw err; // the known bug, as documented: it.fails passes
          // Anything else must make it.fails fail, so swallow it and say why.
          console.error(
            `${bugs.map((b) => b.id).join(', ')}: path failed elsewhere or differently (at ${at?.from} ${at ? eventLabel(at.event) : ''}):\n${message}`,
          );
          return;
        } finally {
          await r.dispose();
        }
        if (bugs.length)
          console.error(`${bugs.map((b) => b.id).join(', ')} no longer reproduces on this path: remove it from the known bugs`);
      };
      if (bugs.length) it.fails(`${bugs.map((b) => b.id).join(', ')} — src bug, fails until fixed — ${title}`, run);
      else it(title, run);
    }
  });
  return { pathCount: paths.length };
}

export function definePathTests(role: 'CEM' | 'RM', cfg: ModelConfig, label: string): PathSuite {
  const machine = role === 'CEM' ? createCemModel(cfg) : createRmModel(cfg);
  const knownBugs = role === 'CEM' ? CEM_KNOWN_BUGS : RM_KNOWN_BUGS;
  const { pathCount } = definePathSuite({
    model: machine,
    events: modelEvents(role, cfg),
    title: ({ paths, states, edges }) =>
      `${label}, model-based (${cfg.name}; ${paths} paths, ${states} model states, ${edges} model transitions)`,
    testTitle: (path) => `${tagsOf(role, cfg, path)} ${titleOf(path)}`,
    bugsOf: (path) => bugsOf(knownBugs, path),
    start: () => {
      const h = role === 'CEM' ? new SessionHarness('CEM') : new SessionHarness('RM', { details: rmDetailsBody(cfg.offer) });
      const driver = role === 'CEM' ? new CemDriver(h, cfg) : new RmDriver(h, cfg);
      return { params: driver.params(machine), current: () => driver.current, before: () => h.flush(), dispose: () => h.dispose() };
    },
  });
  return { machine, pathCount };
}

/**
 * The check that the runs of a file took every transition of a real machine (or that it is listed
 * as unreachable, with the reason) and visited every one of its state nodes. Register it after the
 * path suites that feed `coverage`: vitest runs a file's tests in order.
 */
export function defineCoverageTests(spec: {
  readonly label: string;
  /** `[R…]` tags for the title. */
  readonly tags: string;
  readonly coverage: TransitionCoverage;
  /** Transition label (as {@link TransitionCoverage.defined} prints it) → why no run can take it. */
  readonly unreachable: Readonly<Record<string, string>>;
  readonly pathCount: () => number;
}): void {
  const { label, coverage, unreachable } = spec;
  describe(`${label}, coverage of the real machine by the generated paths`, () => {
    it(`${spec.tags} every transition of ${label} is taken (or listed as unreachable)`, () => {
      const defined = coverage.defined();
      const labels = new Set(defined.map((d) => d.label));
      expect(
        Object.keys(unreachable).filter((l) => !labels.has(l)),
        'listed as unreachable but not defined',
      ).toEqual([]);
      const missing = defined.filter((d) => !coverage.wasTaken(d) && !(d.label in unreachable)).map((d) => d.label);
      expect(missing, 'transitions of the real machine never taken').toEqual([]);
      const stale = defined.filter((d) => coverage.wasTaken(d) && d.label in unreachable).map((d) => d.label);
      expect(stale, 'listed as unreachable but taken').toEqual([]);
      const taken = defined.length - Object.keys(unreachable).length;
      console.info(
        `${label}: ${taken}/${defined.length} transitions taken over ${spec.pathCount()} paths${taken < defined.length ? ` (${defined.length - taken} unreachable: ${Object.keys(unreachable).join('; ')})` : ''}`,
      );
    });

    it(`every state node of ${label} is visited`, () => {
      const all = coverage.stateNodeIds();
      expect(
        all.filter((id) => !coverage.visited.has(id)),
        'state nodes never visited',
      ).toEqual([]);
      console.info(`${label}: ${all.length}/${all.length} state nodes visited`);
    });
  });
}
