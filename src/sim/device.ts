import type { RmDetailsInput } from '../machines/types.js';
import type { ExecutionStatus, RmControlContext, RmControlTypeHandler } from '../roles/rm-control.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';

/** A `setInterval`-like scheduler, injectable so tests can drive the ticks themselves. */
export interface Ticker {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The process's timers. */
export const realTicker: Ticker = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Options every simulated device takes. */
export interface SimOptions {
  /** The device's clock. Default: the session's clock (`session.now()`). */
  readonly now?: () => Date;
  /** Period of the device's tick (physics, measurements, deadlines), ms. Default 1000. */
  readonly tickMs?: number;
  /**
   * Time-lapse factor: the device behaves as if its clock ran `speed` times faster, and says so on
   * the wire — every duration it announces (timers, transition durations, sequence elements,
   * forecast slices) is divided by `speed` and every per-second rate (FRBC fill rates) multiplied
   * by it; powers stay physical. Default 1 (a real device). Tests and demos use e.g. 100–10 000.
   */
  readonly speed?: number;
  /** The scheduler behind the tick. Default the process's timers. */
  readonly ticker?: Ticker;
}

/** A simulated Resource Manager of one control type, ready for `attachRmControlTypes`/`createRmClient`. */
export interface SimulatedDevice<T extends ControlTypeShort = ControlTypeShort> {
  readonly controlType: T;
  /** What the RM announces (R32): lowercase UUID ids, `available_control_types: [that type]`. */
  readonly details: RmDetailsInput;
  readonly handler: RmControlTypeHandler<T>;
  /** Stops the tick and every pending deadline; the device sends nothing more (also done by `deactivate`). */
  stop(): void;
}

type Sendable<A extends ControlTypeShort> = Parameters<RmControlContext<A>['send']>[0];

/** A duration announced by a device running at `speed` (whole ms, at least 1 when the real one is positive). */
export function scaled(ms: number, speed: number): number {
  if (ms <= 0) return 0;
  return Math.max(1, Math.round(ms / speed));
}

/** Positive, finite option or its default. */
export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/**
 * How many finished instruction ids a device remembers per activation (see `DeviceRuntime.finished`):
 * far more than a device ever has open at once, few enough to be nothing in a long session.
 */
export const FINISHED_KEPT = 64;

/**
 * The running part of a simulated device for one activation: the tick, a clock, and sends that
 * never throw into a timer callback. Everything stops when the control type is deactivated, the
 * session closes, or the device is stopped — after that nothing is sent and no timer is left.
 */
export class DeviceRuntime<A extends ControlTypeShort> {
  readonly tickMs: number;
  readonly speed: number;
  private readonly ticker: Ticker;
  private handle: unknown;
  private ctx: RmControlContext<A> | undefined;
  private lastTickMs = 0;
  /**
   * Instructions that reached a final status (or were revoked): nothing more is said about them.
   * Only the last FINISHED_KEPT, oldest first out: a device still refers only to the few
   * instructions it is carrying out (one per actuator, container or envelope), so a late status
   * can only be about a recent one, and an activation that runs for days (tens of thousands of
   * instructions) must not keep every id it ever finished (issue 15, the soak's heap slope).
   */
  private readonly finished = new Set<string>();
  /** The send queue (see `send`). */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly options: SimOptions,
  ) {
    this.tickMs = positive(options.tickMs, 1000, 'tickMs');
    this.speed = positive(options.speed, 1, 'speed');
    this.ticker = options.ticker ?? realTicker;
  }

  /** Whether the device currently speaks for an active control type. */
  get running(): boolean {
    return this.ctx !== undefined && this.ctx.active;
  }

  /** The device's clock: the `now` option, else the session's. */
  now(): Date {
    if (this.options.now) return this.options.now();
    return this.ctx ? this.ctx.session.now() : new Date();
  }

  /** Starts an activation: remembers the context and ticks `onTick(elapsedMs)` every `tickMs`. */
  start(ctx: RmControlContext<A>, onTick: (elapsedMs: number) => void): void {
    this.stop();
    this.ctx = ctx;
    this.finished.clear();
    this.lastTickMs = this.now().getTime();
    this.handle = this.ticker.setInterval(() => {
      if (!this.running) {
        this.stop();
        return;
      }
      const now = this.now().getTime();
      const elapsed = Math.max(0, now - this.lastTickMs);
      this.lastTickMs = now;
      this.guard('tick', () => onTick(elapsed));
    }, this.tickMs);
  }

  /** Ends the activation: the tick stops and nothing more is sent. Idempotent. */
  stop(): void {
    if (this.handle !== undefined) this.ticker.clearInterval(this.handle);
    this.handle = undefined;
    this.ctx = undefined;
  }

  /**
   * Sends a message if the activation still runs. Sends go out one per microtask, in order: the
   * library judges a message against what the control type has learnt, and it learns a message
   * only once the session actor has finished the step that sent it — an ActuatorStatus sent in the
   * same synchronous turn as its SystemDescription would be refused (S2Error INVALID_STATE). A
   * refusal by our own library is a bug in the device: reported, never thrown.
   */
  send(message: Sendable<A>): void {
    this.later(`send ${message.message_type}`, (ctx) => {
      void ctx.send(message).then((result) => {
        if (result.status !== 'OK' && result.status !== 'CLOSED') {
          ctx.session.report(
            'send-failed',
            `${this.name}: ${message.message_type} answered ${result.status}${result.diagnosticLabel ? `: ${result.diagnosticLabel}` : ''}`,
          );
        }
      });
    });
  }

  /** Reports an instruction status (R44), queued with the messages; after a final one the instruction is silent. */
  status(instructionId: string, status: ExecutionStatus): void {
    const id = instructionId.toLowerCase();
    if (!this.running || this.finished.has(id)) return;
    if (status === 'SUCCEEDED' || status === 'ABORTED') this.finish(id);
    this.later(`status ${status}`, (ctx) => void ctx.status(instructionId, status));
  }

  /** Runs `f` in the send queue, if this activation is still the running one then. */
  private later(what: string, f: (ctx: RmControlContext<A>) => void): void {
    const ctx = this.ctx;
    if (!ctx || !ctx.active) return;
    this.queue = this.queue.then(() => {
      if (this.ctx === ctx && ctx.active) this.guard(what, () => f(ctx));
    });
  }

  /** Marks an instruction revoked: the library answers REVOKED, the device says nothing more about it. */
  revoked(instructionId: string): void {
    this.finish(instructionId.toLowerCase());
  }

  /** Remembers a finished id, forgetting the oldest beyond FINISHED_KEPT (a Set iterates in insertion order). */
  private finish(id: string): void {
    this.finished.delete(id);
    this.finished.add(id);
    if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.values().next().value!);
  }

  /** Whether the instruction already reached a final status. */
  isFinished(instructionId: string): boolean {
    return this.finished.has(instructionId.toLowerCase());
  }

  /** Runs `f`; a throw is reported as a handler error on the session (the tests watch for it). */
  private guard(what: string, f: () => void): boolean {
    try {
      f();
      return true;
    } catch (err) {
      const detail = `${this.name}: ${what} failed: ${err instanceof Error ? err.message : String(err)}`;
      if (this.ctx) this.ctx.session.report('handler-error', detail);
      return false;
    }
  }
}
