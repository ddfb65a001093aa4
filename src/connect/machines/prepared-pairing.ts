import { assign, setup } from 'xstate';
import type { EndpointDescription, NodeDescription, WaitForPairingError } from '../wire/index.js';

/**
 * The life of one LAN client node on this server's long-poll / prepare channel (digest §3.9), seen from the
 * server: it polls `waitForPairing`, may be asked for its descriptions, may be told to prepare a pairing (show its
 * token) or may prepare one itself (`POST /v1/preparePairing`), and is finally told to call `requestPairing` once
 * the user typed its pairing code here. The HTTP layer (src/connect/lan/lan-server.ts) creates one actor per
 * polling client node, sends it what happens on the wire, and reads from its state whether the client's pairing
 * code is currently accepted: only in `live.requested`.
 *
 * The machine is pure: no I/O, no timer of its own (its delays run on the actor's clock), and no secret — the
 * pairing token the user typed stays in the HTTP layer, keyed by the client node id.
 */

export interface PreparedPairingInput {
  readonly clientNodeId: string;
  /** How long the client has to answer `sendNodeDescription` (RS: 5 s + 5 s slack, digest §3.8). */
  readonly answerMs: number;
  /** How long a prepared pairing stays prepared without a follow-up (the one-time token lifetime, 15 min). */
  readonly prepareMs: number;
  /** How long the code typed for the client is accepted (15 min, like a one-time token, digest §3.8). */
  readonly offerMs: number;
}

/** Why the last requested pairing did not end paired. */
export type PreparedPairingFailure =
  /** The client node's pairing attempt failed (wrong token, cancelled, expired attempt, refused request). */
  | 'pairing-failed'
  /** The client reported `NoValidTokenOnPairingClient`. */
  | 'no-token-on-client'
  /** No pairing within the offer's lifetime. */
  | 'expired'
  /** The client stopped polling while the pairing was requested. */
  | 'gone';

export type PreparedPairingEvent =
  /** `askClient(id, 'sendNodeDescription')`. */
  | { readonly type: 'DESCRIBE' }
  /** A poll item carried the client's descriptions. */
  | { readonly type: 'DESCRIBED'; readonly node: NodeDescription; readonly endpoint: EndpointDescription | undefined }
  /** `askClient(id, 'preparePairing')` (by `server`) or `POST /v1/preparePairing` from the client (by `client`). */
  | { readonly type: 'PREPARE'; readonly by: 'server' | 'client'; readonly serverNodeId?: string | undefined }
  /** `askClient(id, 'cancelPreparePairing')` or `POST /v1/cancelPreparePairing` from the client. */
  | { readonly type: 'CANCEL'; readonly by: 'server' | 'client' }
  /** `requestPairingFrom(id, code, serverNodeId)`: the code is accepted for one pairing on `serverNodeId`. */
  | { readonly type: 'REQUEST'; readonly serverNodeId: string }
  /** A pairing of this client node with `serverNodeId` was stored. */
  | { readonly type: 'PAIRED'; readonly serverNodeId: string }
  /** A pairing attempt of this client node on `serverNodeId` failed, or its `requestPairing` was refused. */
  | { readonly type: 'PAIRING_FAILED'; readonly serverNodeId: string }
  /** A poll item carried `errorMessage` (`undefined`: a poll item without one, the error is over). */
  | { readonly type: 'CLIENT_ERROR'; readonly errorMessage: WaitForPairingError | undefined }
  /** The client node stopped polling (no poll for 2 × the hold time). */
  | { readonly type: 'GONE' };

export interface PreparedPairingContext extends PreparedPairingInput {
  /** The client's descriptions, once a poll carried them. */
  readonly node: NodeDescription | undefined;
  readonly endpoint: EndpointDescription | undefined;
  /** The node the pairing is prepared or requested on (a prepare by the server names none). */
  readonly serverNodeId: string | undefined;
  readonly errorMessage: WaitForPairingError | undefined;
  readonly failure: PreparedPairingFailure | undefined;
}

export interface PreparedPairingOutput {
  /** The client went away while its pairing was requested: that request failed (`failure` is then `gone`). */
  readonly requestFailed: boolean;
  /** The failure of the last requested pairing, if it failed. */
  readonly failure: PreparedPairingFailure | undefined;
}

const RESTING = ['idle', 'paired', 'failed', 'cancelled'] as const;

/**
 * The statechart:
 *
 * - `live` — the client node polls (or did recently). `GONE` ⇒ `gone` from wherever it is inside; a `DESCRIBED`
 *   anywhere in it stores the descriptions; a `CLIENT_ERROR` anywhere stores (or clears) the error.
 *   - `idle` — nothing going on. `DESCRIBE` ⇒ `describing`; `PREPARE` ⇒ `prepared`; `REQUEST` ⇒ `requested`.
 *   - `describing` — `sendNodeDescription` asked; `DESCRIBED` or `answerMs` without answer ⇒ `idle`.
 *   - `prepared` — the pairing is prepared (UX hint only, §3.9: nothing depends on it); `prepareMs` ⇒ `idle`;
 *     `CANCEL` ⇒ `cancelled`; `REQUEST` ⇒ `requested`; another `PREPARE` restarts the expiry.
 *   - `requested` — the user typed the client's code; the client was told to call `requestPairing`. `PAIRED` on
 *     that node ⇒ `paired`; `PAIRING_FAILED` on it, `CLIENT_ERROR` NoValidTokenOnPairingClient, or `offerMs`
 *     ⇒ `failed`; `CANCEL` ⇒ `cancelled`; another `REQUEST` replaces the offer (and restarts its lifetime).
 *   - `paired` | `failed` | `cancelled` — the outcome of the last pairing; they react like `idle`.
 * - `gone` — final: the client stopped polling. A requested pairing fails (`failure: 'gone'`).
 */
export const preparedPairingMachine = setup({
  types: {
    context: {} as PreparedPairingContext,
    input: {} as PreparedPairingInput,
    events: {} as PreparedPairingEvent,
    output: {} as PreparedPairingOutput,
  },
  delays: {
    answer: ({ context }) => context.answerMs,
    prepare: ({ context }) => context.prepareMs,
    offer: ({ context }) => context.offerMs,
  },
  guards: {
    /** The pairing outcome is about the node the code was offered on. */
    onRequestedNode: ({ context, event }) =>
      (event.type === 'PAIRED' || event.type === 'PAIRING_FAILED') && event.serverNodeId === context.serverNodeId,
    noTokenOnClient: ({ event }) => event.type === 'CLIENT_ERROR' && event.errorMessage === 'NoValidTokenOnPairingClient',
  },
  actions: {
    describe: assign(({ event }) => (event.type === 'DESCRIBED' ? { node: event.node, endpoint: event.endpoint } : {})),
    keepError: assign(({ event }) => (event.type === 'CLIENT_ERROR' ? { errorMessage: event.errorMessage } : {})),
    prepare: assign(({ event }) => (event.type === 'PREPARE' ? { serverNodeId: event.serverNodeId, failure: undefined } : {})),
    request: assign(({ event }) =>
      event.type === 'REQUEST' ? { serverNodeId: event.serverNodeId, failure: undefined, errorMessage: undefined } : {},
    ),
    fail: assign((_, failure: PreparedPairingFailure) => ({ failure })),
  },
}).createMachine({
  id: 'preparedPairing',
  context: ({ input }) => ({
    ...input,
    node: undefined,
    endpoint: undefined,
    serverNodeId: undefined,
    errorMessage: undefined,
    failure: undefined,
  }),
  initial: 'live',
  states: {
    live: {
      initial: 'idle',
      on: {
        GONE: { target: 'gone' },
        DESCRIBED: { actions: 'describe' },
        CLIENT_ERROR: { actions: 'keepError' },
      },
      states: {
        ...Object.fromEntries(
          RESTING.map((name) => [
            name,
            {
              on: {
                DESCRIBE: { target: 'describing' },
                PREPARE: { target: 'prepared', actions: 'prepare' },
                REQUEST: { target: 'requested', actions: 'request' },
              },
            },
          ]),
        ),
        describing: {
          after: { answer: { target: 'idle' } },
          on: {
            DESCRIBED: { target: 'idle', actions: 'describe' },
            PREPARE: { target: 'prepared', actions: 'prepare' },
            REQUEST: { target: 'requested', actions: 'request' },
          },
        },
        prepared: {
          after: { prepare: { target: 'idle' } },
          on: {
            PREPARE: { target: 'prepared', reenter: true, actions: 'prepare' },
            CANCEL: { target: 'cancelled' },
            REQUEST: { target: 'requested', actions: 'request' },
          },
        },
        requested: {
          after: { offer: { target: 'failed', actions: { type: 'fail', params: 'expired' } } },
          on: {
            PAIRED: { guard: 'onRequestedNode', target: 'paired' },
            PAIRING_FAILED: { guard: 'onRequestedNode', target: 'failed', actions: { type: 'fail', params: 'pairing-failed' } },
            CLIENT_ERROR: {
              guard: 'noTokenOnClient',
              target: 'failed',
              actions: ['keepError', { type: 'fail', params: 'no-token-on-client' }],
            },
            CANCEL: { target: 'cancelled' },
            REQUEST: { target: 'requested', reenter: true, actions: 'request' },
            GONE: { target: '#preparedPairing.gone', actions: { type: 'fail', params: 'gone' } },
          },
        },
      },
    },
    gone: { type: 'final' },
  },
  output: ({ context }) => ({ requestFailed: context.failure === 'gone', failure: context.failure }),
});
