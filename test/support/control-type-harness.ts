import { createActor, createMachine, type AnyStateMachine } from 'xstate';
import { createControlTypeMachine, type ControlTypeContext, type ControlTypeReply } from '../../src/machines/control-type.js';
import type { SessionRole } from '../../src/machines/events.js';
import type { ControlTypeRules } from '../../src/rules/knowledge/types.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';

/**
 * Runs one control-type activation statechart under a stub parent that records everything the
 * control type tells its session (`ct.accepted`, `ct.refused`, `ct.notice`). Time is `now` (ms):
 * change it with `setNow`; the instruction actors' timers are real XState delays, so pass a
 * SimulatedClock via `clock` to drive them.
 */
export function controlTypeHarness(
  rules: ControlTypeRules<unknown>,
  role: SessionRole,
  options: { now?: number; clock?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } } = {},
) {
  let now = options.now ?? Date.parse('2026-01-01T00:00:00Z');
  const replies: ControlTypeReply[] = [];
  const ct = createControlTypeMachine(rules);
  const parent = createMachine({
    invoke: { id: 'ct', src: ct as unknown as AnyStateMachine, input: { role, now: () => now } },
    on: { '*': { actions: ({ event }) => replies.push(event as unknown as ControlTypeReply) } },
  });
  const actor = createActor(parent, options.clock ? { clock: options.clock } : {});
  actor.start();
  const child = () =>
    actor.getSnapshot().children.ct as unknown as {
      getSnapshot(): { value: unknown; context: ControlTypeContext };
      send(e: unknown): void;
    };
  return {
    replies,
    /** Sends a message through the control type; returns the replies it caused. */
    send(direction: 'in' | 'out', message: IdentifiedMessage): ControlTypeReply[] {
      const before = replies.length;
      child().send({ type: 'ct.message', direction, message });
      return replies.slice(before);
    },
    /** `awaitingDescription` or `described`. */
    get state(): string {
      return child().getSnapshot().value as string;
    },
    get context(): ControlTypeContext {
      return child().getSnapshot().context;
    },
    setNow(ms: number) {
      now = ms;
    },
    stop() {
      actor.stop();
    },
  };
}
