/**
 * Shared machinery of the model-based tests of the S2 Connect statecharts (src/connect/machines/):
 *
 * - {@link ScriptedActors}: the invoked actors a machine gets through `machine.provide`, each call recorded (name,
 *   input, order) and held open until the test settles it — so a test model's events can say "the store write
 *   fails now" or "the PS answers 204 now";
 * - {@link ConnectDriver}: the base of the drivers, which run one REAL actor under a SimulatedClock, map each
 *   model event to what happens to it, and check the real state after every step;
 * - {@link definePathsFor}: the vitest registration (one test per generated path, through the session suites'
 *   `definePathSuite`), with the `[S2C §…]` tags of the digest sections a path checks.
 *
 * The coverage of the real machine uses `TransitionCoverage` of test/machines/model-kit.ts, fed through the
 * actors' `inspect` option (no module mock is needed: the drivers create the actors themselves).
 */
import { expect } from 'vitest';
import {
  createActor,
  createMachine,
  fromPromise,
  SimulatedClock,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { getStateNodes, type TestParam } from 'xstate/graph';
import { statePath } from '../../../src/roles/session.js';
import { leafOf, titleOf, TransitionCoverage, type ModelPath } from '../../machines/model-kit.js';
import { definePathSuite } from '../../machines/path-tests.js';

/** Lets settled promises and the actor's reactions to them run. Not a timer: the clock is simulated. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** One invocation of a provided actor, open until the test resolves or rejects it. */
export interface ScriptedCall {
  readonly name: string;
  readonly input: unknown;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class ScriptedActors {
  readonly calls: ScriptedCall[] = [];

  /** A promise actor named `name`: each invocation is recorded and waits for the test. */
  actor<TOutput, TInput>(name: string) {
    return fromPromise<TOutput, TInput>(
      ({ input }) =>
        new Promise<TOutput>((resolve, reject) => {
          const call: ScriptedCall = {
            name,
            input,
            settled: false,
            resolve: (value) => {
              call.settled = true;
              resolve(value as TOutput);
            },
            reject: (error) => {
              call.settled = true;
              reject(error);
            },
          };
          this.calls.push(call);
        }),
    );
  }

  /** The calls not settled yet. */
  open(): ScriptedCall[] {
    return this.calls.filter((c) => !c.settled);
  }

  /** The one open call, which must be `name`. */
  take(name: string): ScriptedCall {
    const open = this.open();
    expect(
      open.map((c) => c.name),
      `open invoked calls (expected exactly ${name})`,
    ).toEqual([name]);
    return open[0]!;
  }

  /** `name(label)` of every call so far, in order. */
  log(label: (call: ScriptedCall) => string = (c) => c.name): string[] {
    return this.calls.map(label);
  }
}

/** What the checks read of the actor's snapshot. */
export interface DriverSnapshot {
  readonly status: AnyMachineSnapshot['status'];
  readonly value: AnyMachineSnapshot['value'];
  readonly context: unknown;
  readonly output: unknown;
}

/** The base of the drivers: one real actor, its clock, the step bookkeeping TestModel.testPath needs. */
export abstract class ConnectDriver {
  readonly clock = new SimulatedClock();
  readonly scripted = new ScriptedActors();
  /** The model leaf the last check saw ('' before the first). */
  leaf = '';
  current: { readonly from: string; readonly event: EventObject } | undefined;
  protected actor: AnyActorRef | undefined;

  constructor(protected readonly coverage: TransitionCoverage) {}

  /** Starts `machine` (already provided with its actors) with `input`, inspected for coverage. */
  protected startActor(machine: AnyStateMachine, input: unknown): AnyActorRef {
    const actor = createActor(machine, { input, clock: this.clock, inspect: (e) => this.coverage.listener(e as never) });
    actor.subscribe({ error: () => {} }); // an error must fail the checks, not crash the worker
    actor.start();
    this.actor = actor;
    return actor;
  }

  /** Context and output are `unknown` here: each driver narrows them to its machine's types where it reads them. */
  protected get snapshot(): DriverSnapshot {
    if (!this.actor) throw new Error('driver: actor not started');
    return this.actor.getSnapshot() as AnyMachineSnapshot;
  }

  /** The real state as a dotted path (`becomingServer.persisting`). */
  protected get realState(): string {
    return statePath(this.snapshot.value);
  }

  /** Advances the simulated clock and lets the reactions run. */
  protected async advance(ms: number): Promise<void> {
    this.clock.increment(ms);
    await flush();
  }

  /** Starts the actor (through {@link startActor}); synchronous, so a failed check throws from here. */
  abstract start(): void;
  abstract step(event: EventObject): Promise<void>;
  abstract check(leaf: string): void;

  params(model: AnyStateMachine): TestParam<AnyMachineSnapshot, EventObject> {
    const types = new Set([model.root, ...getStateNodes(model.root)].flatMap((n) => [...n.transitions.keys()]));
    const exec = async (step: { event: EventObject }) => {
      this.current = { from: this.leaf, event: step.event };
      await this.step(step.event);
    };
    return {
      events: Object.fromEntries([...types].map((t) => [t, exec])),
      states: {
        '*': (state) => {
          const leaf = leafOf(state);
          this.check(leaf);
          this.leaf = leaf;
        },
      },
    };
  }

  dispose(): void {
    this.actor?.stop();
  }
}

/** A targetless model transition needs an action, or xstate/graph does not explore it. */
const stay = (): void => {};
export const STAY = { actions: stay };

/** `[S2C §3.5, §3.6]` from the tags of a path's events. */
export function tagsOf(path: ModelPath, tagsOfEvent: (type: string) => readonly string[]): string {
  const tags = new Set<string>();
  for (const step of path.steps.slice(1)) for (const t of tagsOfEvent(step.event.type)) tags.add(t);
  const order = (t: string) =>
    t
      .split('.')
      .map((n) => n.padStart(3, '0'))
      .join('.');
  return `[S2C ${[...tags]
    .sort((a, b) => order(a).localeCompare(order(b)))
    .map((t) => `§${t}`)
    .join(', ')}]`;
}

/** Registers one test per generated path of `model`, each run by a fresh driver. Returns the path count. */
export function definePathsFor(spec: {
  readonly label: string;
  readonly model: AnyStateMachine;
  readonly tagsOfEvent: (type: string) => readonly string[];
  readonly driver: () => ConnectDriver;
}): number {
  const { pathCount } = definePathSuite({
    model: spec.model,
    title: ({ paths, states, edges }) => `${spec.label}, model-based (${paths} paths, ${states} model states, ${edges} model transitions)`,
    testTitle: (path) => `${tagsOf(path, spec.tagsOfEvent)} ${titleOf(path)}`,
    bugsOf: () => [],
    start: () => {
      const driver = spec.driver();
      return {
        params: driver.params(spec.model),
        current: () => driver.current,
        before: () => {
          driver.start();
          return Promise.resolve();
        },
        dispose: () => driver.dispose(),
      };
    },
  });
  return pathCount;
}

/** Coverage of one machine across all its suites (any provided copy counts: matched by transition key). */
export function coverageOf(machine: AnyStateMachine): TransitionCoverage {
  return new TransitionCoverage(machine, (actor) => (actor.logic as { id?: string } | undefined)?.id === machine.id);
}

/** Builds a nested model machine from leaf paths (`a.b`) and their transitions (targets as leaf paths). */
export function modelFromLeaves(
  id: string,
  initialLeaf: string,
  leaves: ReadonlyMap<string, Record<string, string | typeof STAY>>,
): AnyStateMachine {
  interface NodeConfig {
    initial?: string;
    on?: Record<string, unknown>;
    states?: Record<string, NodeConfig>;
  }
  const root: NodeConfig = { states: {} };
  for (const [leaf, on] of leaves) {
    let node = root;
    for (const part of leaf.split('.')) {
      node.states ??= {};
      node = node.states[part] ??= {};
    }
    node.on = Object.fromEntries(Object.entries(on).map(([event, to]) => [event, typeof to === 'string' ? `#${id}.${to}` : to]));
  }
  const initialParts = initialLeaf.split('.');
  const setInitial = (node: NodeConfig, depth: number, onInitialPath: boolean): void => {
    if (!node.states) return;
    const keys = Object.keys(node.states);
    const want = onInitialPath ? initialParts[depth] : undefined;
    node.initial = want !== undefined && keys.includes(want) ? want : keys[0]!;
    for (const [key, child] of Object.entries(node.states)) setInitial(child, depth + 1, onInitialPath && key === node.initial);
  };
  setInitial(root, 0, true);
  return createMachine({ id, ...root } as Parameters<typeof createMachine>[0]);
}
