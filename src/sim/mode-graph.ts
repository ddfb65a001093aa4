import type { Timer, Transition } from '../typebox/common/operation-mode.js';

/** A timer (re)started by a transition, as a TimerStatus reports it (R64, R71). */
export interface TimerRun {
  readonly timerId: string;
  readonly finishedAt: Date;
}

/**
 * The operation-mode state of one OMBC device or one FRBC/DDBC actuator (docs/rules.md#operation-modes): the
 * active mode (R59), the transitions between modes and the timers guarding them. Used by the
 * simulated devices to judge instructions the way a CEM must plan them (R50, R63, R64) and to
 * report what a switch did (R60, R61, R71).
 */
export class ModeGraph {
  active: string;
  factor: number;
  previous: string | undefined;
  transitionAt: Date | undefined;
  /** finished_at (ms) per timer id; absent = never started (counts as finished, R71). */
  private readonly finishedAt = new Map<string, number>();

  constructor(
    initial: string,
    initialFactor: number,
    readonly transitions: readonly Transition[],
    readonly timers: readonly Timer[],
  ) {
    this.active = initial;
    this.factor = initialFactor;
  }

  /** The transition that would take the active mode to `to` at `atMs`, or why there is none (R50, R63, R64). Same mode: none needed. */
  route(to: string, abnormal: boolean, atMs: number): { readonly transition: Transition | undefined } | { readonly reason: string } {
    if (to === this.active) return { transition: undefined };
    const candidates = this.transitions.filter((t) => t.from === this.active && t.to === to);
    if (candidates.length === 0) return { reason: `no transition from ${this.active} to ${to} (R63)` };
    const usable = candidates.filter((t) => abnormal || !t.abnormal_condition_only);
    if (usable.length === 0) return { reason: `the transition from ${this.active} to ${to} is for abnormal conditions only (R50)` };
    let blocked: string | undefined;
    for (const t of usable) {
      const running = t.blocking_timers.find((id) => (this.finishedAt.get(id) ?? -Infinity) > atMs);
      if (running === undefined) return { transition: t };
      blocked ??= `transition ${t.id} is blocked by timer ${running} until ${new Date(this.finishedAt.get(running)!).toISOString()} (R64)`;
    }
    return { reason: blocked ?? `no usable transition from ${this.active} to ${to}` };
  }

  /** Switches to `to` at `at` through `transition` (undefined: same mode, or the device's own move, R66); returns the timers it started. */
  switchTo(to: string, factor: number, at: Date, transition: Transition | undefined): TimerRun[] {
    const runs: TimerRun[] = [];
    if (to !== this.active) {
      this.previous = this.active;
      this.transitionAt = at;
      this.active = to;
    }
    this.factor = factor;
    for (const id of transition?.start_timers ?? []) {
      const timer = this.timers.find((t) => t.id === id);
      if (!timer) continue;
      const finishedAt = at.getTime() + timer.duration;
      this.finishedAt.set(id, finishedAt);
      runs.push({ timerId: id, finishedAt: new Date(finishedAt) });
    }
    return runs;
  }

  /** Every timer's finished_at as a TimerStatus gives it; a never-started one reports `now` (any past instant will do, R71). */
  timerRuns(now: Date): TimerRun[] {
    return this.timers.map((t) => ({ timerId: t.id, finishedAt: new Date(this.finishedAt.get(t.id) ?? now.getTime()) }));
  }

  /** The status fields R61 asks for: previous mode and transition time once there was a switch. */
  statusFields(): {
    active_operation_mode_id: string;
    operation_mode_factor: number;
    previous_operation_mode_id?: string;
    transition_timestamp?: string;
  } {
    return {
      active_operation_mode_id: this.active,
      operation_mode_factor: this.factor,
      ...(this.previous !== undefined ? { previous_operation_mode_id: this.previous } : {}),
      ...(this.transitionAt !== undefined ? { transition_timestamp: this.transitionAt.toISOString() } : {}),
    };
  }
}

/** Value of a range at an operation-mode factor (R67: start + factor·(end − start)). */
export function atFactor(range: { readonly start_of_range: number; readonly end_of_range: number }, factor: number): number {
  return range.start_of_range + factor * (range.end_of_range - range.start_of_range);
}
