/**
 * Clock wrappers that every session timer goes through (session.ts applies them to the default
 * clock and to an injected one), so that the statecharts' delays stay plain numbers:
 *
 * - {@link longDelayClock}: Node's setTimeout clamps a delay above 2^31 − 1 ms (≈ 24.8 days) to
 *   1 ms (TimeoutOverflowWarning), so an instruction whose execution_time is a month ahead would
 *   run at once (R43). The wrapper chains timers of at most 2^31 − 1 ms until the whole delay has
 *   passed; clearTimeout cancels the chain.
 * - {@link ioDrainClock}: when a timer fires, its callback runs one macrotask later
 *   (setImmediate), after the event loop's poll phase. After a pause (SIGSTOP/SIGCONT, a long GC,
 *   a blocked loop) timers fire before sockets are read; the deferral lets a frame that is already
 *   buffered — e.g. the ReceptionStatus a timeout is about to give up on — arrive first and cancel
 *   the timer. Only for the real clock: a simulated clock has no I/O to wait for.
 */
import type { SessionClock } from './types.js';

/** The longest delay setTimeout honours; a longer one fires at once in Node. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A clock that may tell the time (XState's SimulatedClock does). */
type BaseClock = SessionClock & { now?: () => number };

/** One chained wait: the handle of the chunk now running. */
class LongTimer {
  constructor(public handle: unknown) {}
}

/**
 * `base` with setTimeout delays of any length. Delays up to {@link MAX_TIMER_MS} go straight to
 * `base`. A longer one runs as chunks of at most MAX_TIMER_MS: counted against `base.now()` when
 * the base clock tells the time (a SimulatedClock advanced by 30 days at once fires the first
 * chunk at the end, so the rest is due then), else by adding up the chunks (the real clock:
 * monotonic, not fooled by wall-clock changes).
 */
export function longDelayClock(base: BaseClock): SessionClock {
  const now = typeof base.now === 'function' ? () => (base.now as () => number).call(base) : undefined;
  return {
    setTimeout(callback, ms) {
      if (!(ms > MAX_TIMER_MS)) return base.setTimeout(callback, ms);
      const timer = new LongTimer(undefined);
      const due = now ? now() + ms : 0;
      let left = ms;
      const arm = (): void => {
        const chunk = Math.min(left, MAX_TIMER_MS);
        timer.handle = base.setTimeout(() => {
          left = now ? due - now() : left - chunk;
          if (left > 0) arm();
          else callback();
        }, chunk);
      };
      arm();
      return timer;
    },
    clearTimeout(handle) {
      base.clearTimeout(handle instanceof LongTimer ? handle.handle : handle);
    },
  };
}

/** A timer whose callback waits for one macrotask after it fired. */
class DrainTimer {
  timer: unknown;
  immediate: ReturnType<typeof setImmediate> | undefined;
}

/** `base` whose timer callbacks run one macrotask (setImmediate) after they fire: pending I/O is read first. */
export function ioDrainClock(base: SessionClock): SessionClock {
  return {
    setTimeout(callback, ms) {
      const t = new DrainTimer();
      t.timer = base.setTimeout(() => {
        t.timer = undefined;
        t.immediate = setImmediate(() => {
          t.immediate = undefined;
          callback();
        });
      }, ms);
      return t;
    },
    clearTimeout(handle) {
      if (!(handle instanceof DrainTimer)) return base.clearTimeout(handle);
      if (handle.timer !== undefined) base.clearTimeout(handle.timer);
      if (handle.immediate !== undefined) clearImmediate(handle.immediate);
      handle.timer = handle.immediate = undefined;
    },
  };
}

/** The real timers, looked up at call time (so test doubles such as vi fake timers apply). */
export const realClock: SessionClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The clock a session's statecharts run on: the injected one with delays of any length, or by
 * default the real timers with delays of any length and a due timer deferred until pending I/O
 * is read.
 */
export function sessionClock(injected: SessionClock | undefined): SessionClock {
  return injected ? longDelayClock(injected) : ioDrainClock(longDelayClock(realClock));
}
