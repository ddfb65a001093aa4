import { assign, setup } from 'xstate';
import type { PairingRecord } from '../store/pairing-store.js';
import type { ConnectionDetails } from '../wire/index.js';
import { notProvided, type Sealed, type ServerReply } from './common.js';

/**
 * One pairing attempt on the pairing server (PS), from its `requestPairing` 200 answer to its end (digest
 * §3.5–3.6, hostile cases §9). The HTTP layer creates one actor per attempt id after answering
 * `requestPairing`, routes the attempt's later calls to it as events, and answers each call from
 * `snapshot.context.reply` — or, for a call that leads into `persisting`, from the final output's `reply`.
 * When the actor is done it forgets the attempt id, so any later call is an unknown attempt: 401.
 *
 * The attempt id is not part of the machine: it is the HTTP layer's key for the actor, and leaving it out keeps
 * it out of every snapshot. Everything secret that does pass through (R_s, the connection details, the pairing
 * to persist) is {@link Sealed}.
 */

/** Which of the two detail calls the pairing client must make (digest §3.5a/b). */
export type DetailsStep = 'request' | 'post';

export interface PairingServerAttemptInput {
  /**
   * `request` when this PS will be the communication server (the PC must call `requestConnectionDetails`),
   * `post` when the PC will be (it must call `postConnectionDetails`). The HTTP layer recomputes it from role ×
   * deployment of both nodes (digest §1, §8 row 14); the wrong call is refused with 400.
   */
  readonly expectedStep: DetailsStep;
  /**
   * Constant-time check of the PC's `serverHmacChallengeResponse` against R_s = HMAC(C_s, T[‖F]) that the PS
   * computed when it answered `requestPairing` (digest §3.4). Injected, so that the expected bytes stay in the
   * caller's closure (never in a snapshot) and the machine needs no node:crypto: the caller passes e.g.
   * `(r) => timingSafeEqualBytes(r, expected)`.
   */
  readonly verifyResponse: (response: Uint8Array) => boolean;
  /** The attempt lifetime from the `requestPairing` answer to `finalizePairing`: 15 000 ms (digest §3.8). */
  readonly lifetimeMs: number;
}

/** What the PS stores once the PC finalizes with success: `PairingStore.put(record, tokens)`. */
export interface PairingToPersist {
  readonly record: PairingRecord;
  /** PS is CS: `[SHA-256 (base64) of the access token it handed out]`. PS is CC: `[the access token the PC posted]`. */
  readonly tokens: readonly string[];
}

export type PairingServerAttemptEvent =
  /**
   * `POST /v1/requestConnectionDetails` with a well-formed body (the HTTP layer answers 400 to a malformed one
   * without an event). `details` are the ConnectionDetails the PS will hand out — minted beforehand, sent only
   * if the reply is 200 — and `pairing` is what it will persist at finalize.
   */
  | {
      readonly type: 'REQUEST_DETAILS';
      readonly response: Sealed<Uint8Array>;
      readonly details: Sealed<ConnectionDetails>;
      readonly pairing: Sealed<PairingToPersist>;
    }
  /** `POST /v1/postConnectionDetails` with a well-formed body; `pairing` holds the posted details (URL, token, root pin). */
  | { readonly type: 'POST_DETAILS'; readonly response: Sealed<Uint8Array>; readonly pairing: Sealed<PairingToPersist> }
  /** `POST /v1/finalizePairing` with `{ success }` (a body without `success` is a 400 of the HTTP layer, digest §8 row 18). */
  | { readonly type: 'FINALIZE'; readonly success: boolean };

/** How the attempt ended. */
export type PairingServerAttemptOutcome = 'paired' | 'persistFailed' | 'cancelled' | 'expired' | 'failed' | 'refused';

export interface PairingServerAttemptOutput {
  readonly outcome: PairingServerAttemptOutcome;
  /** The answer to the call that ended the attempt (none for `expired`: its reply is 401 for any late caller). */
  readonly reply: ServerReply;
  /** `persistFailed`: what `persistPairing` rejected with. */
  readonly cause?: unknown;
}

export interface PairingServerAttemptContext extends PairingServerAttemptInput {
  /** The answer to the last event; undefined before the first one. */
  readonly reply: ServerReply | undefined;
  /** Set by the accepted detail call; what `persistPairing` stores. */
  readonly pairing: Sealed<PairingToPersist> | undefined;
  readonly cause: unknown;
}

const DETAIL_CALL = { request: 'REQUEST_DETAILS', post: 'POST_DETAILS' } as const;

// Every final state sets its reply on entry or on the transition into it.
const ended = (outcome: PairingServerAttemptOutcome, context: PairingServerAttemptContext): PairingServerAttemptOutput => ({
  outcome,
  reply: context.reply ?? { status: 401 },
});

/**
 * The statechart (drawn in docs/statecharts/pairing-server-attempt.md):
 *
 * - `open` — the attempt lives; the named delay `lifetime` (15 s from the `requestPairing` answer) ends it in
 *   `expired` wherever it is inside.
 *   - `open.awaitingConnectionDetails` — the PC must now make the detail call of `expectedStep`. The other
 *     call ⇒ `refused` (400); a response R_s that does not verify ⇒ `failed` (403, the one-time pairing token
 *     stays burnt); a good one ⇒ `open.awaitingFinalize` (200 with the ConnectionDetails, or 204).
 *     `finalizePairing{true}` now is too early ⇒ `refused` (400); `{false}` ⇒ `cancelled` (204).
 *   - `open.awaitingFinalize` — details exchanged. A second detail call ⇒ `failed` (401, as RS: the attempt is
 *     destroyed). `finalizePairing{false}` ⇒ `cancelled` (204); `{true}` ⇒ `persisting`.
 * - `persisting` — invokes `persistPairing`; the lifetime no longer runs (the PC finalized in time). Calls that
 *   arrive meanwhile get 401 (the attempt is already finalized) and change nothing. Done ⇒ `paired` (204);
 *   rejected ⇒ `persistFailed` (500, nothing stored).
 * - Final states, each with its reply in the output: `paired` 204, `persistFailed` 500, `cancelled` 204,
 *   `failed` 403/401, `refused` 400, `expired` (401 to anyone still asking).
 */
export const pairingServerAttemptMachine = setup({
  types: {
    context: {} as PairingServerAttemptContext,
    input: {} as PairingServerAttemptInput,
    events: {} as PairingServerAttemptEvent,
    output: {} as PairingServerAttemptOutput,
  },
  actors: {
    /** Stores the pairing (`PairingStore.put`); when the PS is CS it must accept the token from then on. */
    persistPairing: notProvided<void, { readonly pairing: Sealed<PairingToPersist> }>('persistPairing'),
  },
  delays: {
    lifetime: ({ context }) => context.lifetimeMs,
  },
  guards: {
    /** The PC made the detail call that does not fit role × deployment (digest §8 row 14). */
    wrongStep: ({ context, event }) => event.type !== DETAIL_CALL[context.expectedStep],
    /** R_s verifies (constant time, by the injected `verifyResponse`). */
    responseVerifies: ({ context, event }) =>
      (event.type === 'REQUEST_DETAILS' || event.type === 'POST_DETAILS') && context.verifyResponse(event.response.reveal()),
    success: ({ event }) => event.type === 'FINALIZE' && event.success,
  },
  actions: {
    reply: assign((_, status: number) => ({ reply: { status } })),
    /** 200 with the ConnectionDetails (requestConnectionDetails), or 204 (postConnectionDetails). */
    acceptDetails: assign(({ event }) => {
      if (event.type === 'REQUEST_DETAILS') return { pairing: event.pairing, reply: { status: 200, body: event.details } };
      if (event.type === 'POST_DETAILS') return { pairing: event.pairing, reply: { status: 204 } };
      return {};
    }),
    keepCause: assign(({ event }) => ({ cause: (event as { error?: unknown }).error })),
  },
}).createMachine({
  id: 'pairingServerAttempt',
  context: ({ input }) => ({ ...input, reply: undefined, pairing: undefined, cause: undefined }),
  initial: 'open',
  states: {
    open: {
      initial: 'awaitingConnectionDetails',
      after: { lifetime: { target: 'expired' } },
      states: {
        awaitingConnectionDetails: {
          on: {
            REQUEST_DETAILS: [
              { guard: 'wrongStep', target: '#pairingServerAttempt.refused', actions: { type: 'reply', params: 400 } },
              { guard: 'responseVerifies', target: 'awaitingFinalize', actions: 'acceptDetails' },
              { target: '#pairingServerAttempt.failed', actions: { type: 'reply', params: 403 } },
            ],
            POST_DETAILS: [
              { guard: 'wrongStep', target: '#pairingServerAttempt.refused', actions: { type: 'reply', params: 400 } },
              { guard: 'responseVerifies', target: 'awaitingFinalize', actions: 'acceptDetails' },
              { target: '#pairingServerAttempt.failed', actions: { type: 'reply', params: 403 } },
            ],
            FINALIZE: [
              { guard: 'success', target: '#pairingServerAttempt.refused', actions: { type: 'reply', params: 400 } },
              { target: '#pairingServerAttempt.cancelled', actions: { type: 'reply', params: 204 } },
            ],
          },
        },
        awaitingFinalize: {
          on: {
            REQUEST_DETAILS: { target: '#pairingServerAttempt.failed', actions: { type: 'reply', params: 401 } },
            POST_DETAILS: { target: '#pairingServerAttempt.failed', actions: { type: 'reply', params: 401 } },
            FINALIZE: [
              { guard: 'success', target: '#pairingServerAttempt.persisting' },
              { target: '#pairingServerAttempt.cancelled', actions: { type: 'reply', params: 204 } },
            ],
          },
        },
      },
    },
    persisting: {
      invoke: {
        id: 'persistPairing',
        src: 'persistPairing',
        // Only reachable from awaitingFinalize, where acceptDetails has set `pairing`.
        input: ({ context }) => ({ pairing: context.pairing! }),
        onDone: { target: 'paired' },
        onError: { target: 'persistFailed', actions: 'keepCause' },
      },
      on: {
        REQUEST_DETAILS: { actions: { type: 'reply', params: 401 } },
        POST_DETAILS: { actions: { type: 'reply', params: 401 } },
        FINALIZE: { actions: { type: 'reply', params: 401 } },
      },
    },
    /** Stored: 204 to the finalize. */
    paired: { type: 'final', entry: { type: 'reply', params: 204 }, output: ({ context }) => ended('paired', context) },
    /** Storing failed: 500 to the finalize; nothing was stored (the store writes atomically). */
    persistFailed: {
      type: 'final',
      entry: { type: 'reply', params: 500 },
      output: ({ context }) => ({ ...ended('persistFailed', context), cause: context.cause }),
    },
    /** `finalizePairing{false}`: 204, nothing stored. */
    cancelled: { type: 'final', output: ({ context }) => ended('cancelled', context) },
    /** Wrong R_s (403) or a repeated detail call (401): the attempt is destroyed. */
    failed: { type: 'final', output: ({ context }) => ended('failed', context) },
    /** A call out of order: the wrong detail call, or `finalizePairing{true}` before the details (400). */
    refused: { type: 'final', output: ({ context }) => ended('refused', context) },
    /** 15 s passed before `finalizePairing`: nothing stored; a late call is an unknown attempt (401). */
    expired: { type: 'final', entry: { type: 'reply', params: 401 }, output: ({ context }) => ended('expired', context) },
  },
  // The final state's own output (XState hands it to the root as the done event's output).
  output: ({ event }) => (event as unknown as { output: PairingServerAttemptOutput }).output,
});
