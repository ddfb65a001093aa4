/**
 * The XState-facing options of a session (`clock`, `inspect`), typed structurally. XState's own
 * `Clock` and `InspectionEvent` would put xstate's declarations into every consumer's compilation,
 * and those do not compile with `skipLibCheck: false` under `exactOptionalPropertyTypes` (an
 * upstream issue, statelyai/xstate#4613). These types describe the same objects without importing
 * xstate: XState's `SimulatedClock` is a {@link SessionClock}, and every XState `InspectionEvent` is
 * a {@link SessionInspectionEvent} (session.ts hands both to `createActor`, so the compiler checks
 * that on every build). Nothing here may import xstate.
 */

/**
 * The timers of a session: XState's `Clock` (setTimeout and clearTimeout). Tests inject XState's
 * `SimulatedClock`; `{ setTimeout, clearTimeout }` of the global scope works too.
 */
export interface SessionClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** An actor as an inspection event names it (XState's `ActorRefLike`, the parts an observer reads). */
export interface InspectedActor {
  /** Unique per actor in its system, e.g. `x:3`. */
  readonly sessionId: string;
  /** Its current snapshot (for a statechart: `value`, `context`, `status` …). */
  getSnapshot(): unknown;
}

/** A snapshot in an inspection event; a statechart's also has its `value` and `context`. */
export interface InspectedSnapshot {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
}

/**
 * One event of XState v5's inspection API, as the `inspect` option receives it: the same objects
 * as XState's `InspectionEvent`, described without importing xstate.
 * - `@xstate.snapshot`, `@xstate.transition`, `@xstate.microstep`: an actor took a step
 *   (`event` caused it, `snapshot` is the result);
 * - `@xstate.event`: `event` was sent to `actorRef` (by `sourceRef`, undefined from outside);
 * - `@xstate.action`: an action ran;
 * - `@xstate.actor`: an actor was created.
 */
export type SessionInspectionEvent = {
  /** The `sessionId` of the root actor (the session's). */
  readonly rootId: string;
  /** The snapshot's actor, the event's recipient, or the actor that was created. */
  readonly actorRef: InspectedActor;
} & (
  | {
      readonly type: '@xstate.snapshot' | '@xstate.transition' | '@xstate.microstep';
      readonly event: { readonly type: string };
      readonly snapshot: InspectedSnapshot;
    }
  | { readonly type: '@xstate.event'; readonly sourceRef: InspectedActor | undefined; readonly event: { readonly type: string } }
  | { readonly type: '@xstate.action'; readonly action: { readonly type: string; readonly params: unknown } }
  | { readonly type: '@xstate.actor' }
);

/**
 * The `inspect` option: called with every {@link SessionInspectionEvent} of a session's actors.
 * Typed as a method so that an observer written against XState's own type,
 * `(event: InspectionEvent) => void`, is accepted as well: its parameter is narrower than
 * SessionInspectionEvent, which a plain function type would refuse (parameters of methods are
 * compared both ways, of function types only one way).
 */
export type SessionInspector = { inspect(event: SessionInspectionEvent): void }['inspect'];
