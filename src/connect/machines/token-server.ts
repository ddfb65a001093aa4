import { assign, emit, setup } from 'xstate';
import type { CommunicationDetails, InitiateSessionResponse } from '../wire/index.js';
import { notProvided, type Sealed, type ServerReply } from './common.js';

/**
 * Access-token rotation on the communication server (CS) for one pairing (digest §4.1–4.2): at most one pending
 * access token, confirmable for 15 s; confirmation replaces the stored token by compare-and-swap, then hands out a
 * one-time WebSocket token. The HTTP layer keeps one actor per pairing while it is in use.
 *
 * What stays in the HTTP layer, before an INITIATE is sent: finding the pairing (unknown ⇒ 401), the tombstone
 * (⇒ 400 NoLongerPaired, checked before the token, as RS), the bearer against the stored token hash (constant time;
 * wrong ⇒ 401, plus throttling), protocol and version selection (⇒ 400 Incompatible…, client order), and minting
 * A_new. For `confirmAccessToken`, whose only input is the bearer, the HTTP layer needs an index from the hash of
 * a pending token to its pairing: `PairingStore.putOneTime('pending-access', hash, …, slot = the pairing)` /
 * `takeOneTime` give one, or a map of its own; the machine then decides.
 */

export interface TokenServerInput {
  /** How long an `initiateSession` answer's token stays confirmable: 15 000 ms (digest §3.8). */
  readonly pendingLifetimeMs: number;
}

/** The access token A_new handed out by `initiateSession`, waiting for `confirmAccessToken`. */
export interface PendingAccessToken {
  /** SHA-256 (base64) of A_new: the machine never holds the token itself. */
  readonly tokenHash: string;
  /** The stored token version that authorised the `initiateSession`: the compare-and-swap expects it. */
  readonly authorizedByVersion: number;
  /** The S2 message version selected in `initiateSession`: the WebSocket session will speak it. */
  readonly messageVersion: string;
}

export type TokenServerEvent =
  /** An authorised `initiateSession`; `answer` is its 200 body (with A_new), sent if the reply is 200. */
  | { readonly type: 'INITIATE'; readonly pending: PendingAccessToken; readonly answer: Sealed<InitiateSessionResponse> }
  /** `confirmAccessToken` whose bearer hashes to `tokenHash`. */
  | { readonly type: 'CONFIRM'; readonly tokenHash: string }
  /** The pairing was removed here (local unpair): nothing pending may be confirmed any more. */
  | { readonly type: 'UNPAIR' };

/** Emitted when a WebSocket token was issued: the session on it will speak `messageVersion`. */
export type TokenServerEmitted = { readonly type: 'websocketTokenIssued'; readonly messageVersion: string };

export interface TokenServerContext extends TokenServerInput {
  /** The answer to the last event (for CONFIRM: once the machine is back in `idle`). */
  readonly reply: ServerReply | undefined;
  readonly pending: PendingAccessToken | undefined;
  /** What the last failed invoked step rejected with (a 500), for the HTTP layer's log. */
  readonly cause: unknown;
}

/**
 * The statechart (drawn in docs/statecharts/token-server.md):
 *
 * - `idle` — nothing pending. INITIATE ⇒ `pending` (200 with the answer). CONFIRM ⇒ 401.
 * - `pending` — one pending token. A new INITIATE replaces it and restarts the 15 s (digest §4.2: only the newest
 *   is confirmable). The named delay `pendingLifetime` ⇒ `idle` (the token is forgotten). CONFIRM with its hash ⇒
 *   `swapping` (the pending token is used up, whatever follows); any other hash ⇒ 401, the pending one stays.
 * - `swapping` — invokes `swapTokens`: store `[hash of A_new]` iff the stored version is still the one that
 *   authorised the INITIATE. Swapped ⇒ `issuing`; refused (the pairing changed or is gone) ⇒ `idle` with 401;
 *   storage error ⇒ `idle` with 500 (the old token stays valid: nothing was swapped).
 * - `issuing` — invokes `issueWebsocketToken` (a fresh one-time W registered for ≤ 30 s). Done ⇒ `idle` with 200
 *   and the WebSocket details, emitting `websocketTokenIssued`; error ⇒ `idle` with 500 (A_new is stored by now:
 *   the client's next try with A_old gets 401 and A_new works, digest §4.2).
 *   In `swapping` and `issuing` an INITIATE or CONFIRM gets 401: the authorising token is being rotated out and
 *   the pending one is used up.
 * - `unpaired` (final) — after UNPAIR from any state.
 */
export const tokenServerMachine = setup({
  types: {
    context: {} as TokenServerContext,
    input: {} as TokenServerInput,
    events: {} as TokenServerEvent,
    emitted: {} as TokenServerEmitted,
  },
  actors: {
    /** `PairingStore.swapTokens(local, remote, expectedVersion, [tokenHash])`: true iff swapped. */
    swapTokens: notProvided<boolean, { readonly expectedVersion: number; readonly tokenHash: string }>('swapTokens'),
    /** Mints W, registers it (`putOneTime('websocket', …)`), resolves with the `confirmAccessToken` 200 body. */
    issueWebsocketToken: notProvided<Sealed<CommunicationDetails>, { readonly messageVersion: string }>('issueWebsocketToken'),
  },
  delays: {
    pendingLifetime: ({ context }) => context.pendingLifetimeMs,
  },
  guards: {
    /**
     * The confirmed token is the pending one. Plain equality of SHA-256 digests: an attacker timing it learns
     * bits of a hash of a 32-byte random token, which does not help to find the token (the store looks tokens up
     * by hash for the same reason).
     */
    matchesPending: ({ context, event }) =>
      event.type === 'CONFIRM' && context.pending !== undefined && event.tokenHash === context.pending.tokenHash,
    swapped: ({ event }) => (event as unknown as { output: boolean }).output === true,
  },
  actions: {
    reply: assign((_, status: number) => ({ reply: { status } })),
    /** Keeps the new pending token (replacing any other) and answers 200 with the `initiateSession` body. */
    keepPending: assign(({ event }) =>
      event.type === 'INITIATE' ? { pending: event.pending, reply: { status: 200, body: event.answer } } : {},
    ),
    dropPending: assign({ pending: undefined }),
    answerWebsocket: assign(({ event }) => ({
      reply: { status: 200, body: (event as unknown as { output: Sealed<CommunicationDetails> }).output },
    })),
    announce: emit(({ context }) => ({ type: 'websocketTokenIssued' as const, messageVersion: context.pending!.messageVersion })),
    keepCause: assign(({ event }) => ({ cause: (event as { error?: unknown }).error })),
  },
}).createMachine({
  id: 'tokenServer',
  context: ({ input }) => ({ ...input, reply: undefined, pending: undefined, cause: undefined }),
  initial: 'idle',
  on: { UNPAIR: { target: '.unpaired', actions: 'dropPending' } },
  states: {
    idle: {
      on: {
        INITIATE: { target: 'pending', actions: 'keepPending' },
        CONFIRM: { actions: { type: 'reply', params: 401 } },
      },
    },
    pending: {
      after: { pendingLifetime: { target: 'idle', actions: 'dropPending' } },
      on: {
        // Re-entered, so the 15 s start again for the new token.
        INITIATE: { target: 'pending', reenter: true, actions: 'keepPending' },
        CONFIRM: [{ guard: 'matchesPending', target: 'swapping' }, { actions: { type: 'reply', params: 401 } }],
      },
    },
    swapping: {
      invoke: {
        id: 'swapTokens',
        src: 'swapTokens',
        input: ({ context }) => ({ expectedVersion: context.pending!.authorizedByVersion, tokenHash: context.pending!.tokenHash }),
        onDone: [
          { guard: 'swapped', target: 'issuing' },
          { target: 'idle', actions: ['dropPending', { type: 'reply', params: 401 }] },
        ],
        onError: { target: 'idle', actions: ['dropPending', 'keepCause', { type: 'reply', params: 500 }] },
      },
      on: {
        INITIATE: { actions: { type: 'reply', params: 401 } },
        CONFIRM: { actions: { type: 'reply', params: 401 } },
      },
    },
    issuing: {
      invoke: {
        id: 'issueWebsocketToken',
        src: 'issueWebsocketToken',
        input: ({ context }) => ({ messageVersion: context.pending!.messageVersion }),
        onDone: { target: 'idle', actions: ['answerWebsocket', 'announce', 'dropPending'] },
        onError: { target: 'idle', actions: ['dropPending', 'keepCause', { type: 'reply', params: 500 }] },
      },
      on: {
        INITIATE: { actions: { type: 'reply', params: 401 } },
        CONFIRM: { actions: { type: 'reply', params: 401 } },
      },
    },
    /** The pairing is gone; the HTTP layer stops routing to this actor. */
    unpaired: { type: 'final' },
  },
});
