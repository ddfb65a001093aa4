/**
 * The long-poll client's public types, free of XState (its declarations must not reach the `s2-engine/connect`
 * types: statelyai/xstate#4613). The statechart is src/connect/machines/long-poll-client.ts.
 */

/** Why the poller ended. */
export type LongPollStopReason =
  /** `stop()` (a pairing under way was finished first). */
  | 'stopped'
  /** 400: long polling is not available there (disabled, or a poll for one of the nodes is already held). */
  | 'unavailable'
  /** 401: the server sees this client as off-LAN. */
  | 'off-lan'
  /** 404: the server does not implement long polling (or is a WAN endpoint). */
  | 'not-implemented';

export interface LongPollOutcome {
  readonly reason: LongPollStopReason;
}

/** Where a poller is (its statechart's state and what it counts). */
export interface LongPollClientState {
  /** `polling` | `handling` | `pairing` | `backingOff` | `stopped` (docs/statecharts/long-poll-client.md). */
  readonly value: string;
  /** `active` while it polls, `done` once stopped. */
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  /** Polls sent so far. */
  readonly polls: number;
  /** The wait before the next poll after a failed one (ms); doubles per failure up to the back-off maximum. */
  readonly delayMs: number;
}
