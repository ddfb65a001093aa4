import { and, assign, setup } from 'xstate';
import type { EndpointDescription, NodeDescription } from '../wire/index.js';
import { httpFactsOf, notProvided, remoteStepReason, seal, type HttpStatusReason, type Sealed } from './common.js';

/**
 * One session initiation on the communication client (CC), with access-token rotation (digest §4.1–4.2): try the
 * stored tokens oldest first, store old and new token durably before confirming, confirm, keep only the new
 * token, open the WebSocket with the one-time token. Every I/O step is an invoked actor provided by the HTTP
 * layer (store access, the two HTTPS calls, the WebSocket).
 */

export interface TokenClientInput {
  /** The S2 message versions offered in `initiateSession`: the CS must select one of them. */
  readonly versions: readonly string[];
  /** The communication protocols offered (`['WebSocket']`). */
  readonly protocols: readonly string[];
}

/** The pairing's stored access tokens (oldest first) and their version for compare-and-swap. */
export interface StoredTokens {
  readonly tokens: Sealed<readonly string[]>;
  readonly version: number;
}

/** The `initiateSession` 200 answer, read by the HTTP layer. */
export interface InitiateAnswer {
  readonly selectedS2MessageVersion: string;
  readonly selectedCommunicationProtocol: string;
  /** A_new, pending on the CS until confirmed. */
  readonly accessToken: Sealed<string>;
  /** Updated descriptions of the CS, when it sent them (the API layer may update the stored record). */
  readonly serverNode?: NodeDescription | undefined;
  readonly serverEndpoint?: EndpointDescription | undefined;
}

export type StoreTokensResult = { readonly swapped: true; readonly version: number } | { readonly swapped: false };

/** The `confirmAccessToken` 200 answer. */
export interface WebSocketDetails {
  readonly websocketUrl: string;
  /** W: one-time, ≤ 30 s. */
  readonly websocketToken: Sealed<string>;
}

export type TokenClientStep = 'loadTokens' | 'initiateSession' | 'storeTokens' | 'confirmAccessToken' | 'openWebSocket';

export type TokenClientFailureReason =
  /** The store has no pairing (or no token) for this pair. */
  | 'no-stored-pairing'
  /** `loadTokens` rejected. */
  | 'load-failed'
  /** The CS selected an S2 message version we did not offer. */
  | 'version-not-offered'
  /** The CS selected a communication protocol we did not offer. */
  | 'protocol-not-offered'
  /** The compare-and-swap before confirming found other tokens (a concurrent connect rotated them). */
  | 'token-store-conflict'
  /** `storeTokens` rejected before confirming: nothing was confirmed, the old token stays valid. */
  | 'persist-failed'
  /** The WebSocket URL is not `wss:` (digest §9, client side). */
  | 'insecure-websocket-url'
  /** A call answered with this status (`httpStatus`, `errorMessage` say more). */
  | HttpStatusReason
  /** A call got no usable answer (connection, TLS, pin, timeout, unreadable body; see `cause`). */
  | 'request-failed';

export interface TokenClientFailure {
  readonly reason: TokenClientFailureReason;
  readonly step: TokenClientStep;
  readonly httpStatus?: number;
  readonly errorMessage?: string;
  readonly cause?: unknown;
}

export type TokenClientOutput =
  | {
      readonly outcome: 'connected';
      readonly messageVersion: string;
      /** What `openWebSocket` resolved with (the open connection). */
      readonly connection: unknown;
      readonly serverNode?: NodeDescription | undefined;
      readonly serverEndpoint?: EndpointDescription | undefined;
      /** False when storing `[A_new]` alone failed: `[A_old, A_new]` stay stored, which still works (A_old ⇒ 401, A_new). */
      readonly tokensPruned: boolean;
    }
  /** Every stored token got 401: possibly unpaired, or a token was stolen and used first. Surface it; do not delete. */
  | { readonly outcome: 'notPaired'; readonly reason: 'all-tokens-rejected'; readonly tried: number }
  /** 400 NoLongerPaired: the CS unpaired; the caller drops the pairing. */
  | { readonly outcome: 'unpaired'; readonly reason: 'no-longer-paired' }
  | ({ readonly outcome: 'failed' } & TokenClientFailure);

export interface TokenClientContext extends TokenClientInput {
  readonly tokens: Sealed<readonly string[]> | undefined;
  /** The stored version: what the next compare-and-swap expects. */
  readonly version: number;
  /** The token being tried (index into `tokens`). */
  readonly index: number;
  readonly answer: InitiateAnswer | undefined;
  readonly websocket: WebSocketDetails | undefined;
  readonly connection: unknown;
  readonly tokensPruned: boolean;
  readonly failure: TokenClientFailure | undefined;
}

type Ctx = TokenClientContext;
const stored = (context: Ctx): readonly string[] => context.tokens?.reveal() ?? [];
const answerOf = (context: Ctx): InitiateAnswer => {
  if (!context.answer) throw new Error('tokenClient: no initiateSession answer yet'); // unreachable: set before use
  return context.answer;
};
const errorOf = (event: unknown): unknown => (event as { error?: unknown }).error;
const outputOf = <T>(event: unknown): T => (event as { output: T }).output;

/**
 * The statechart (drawn in docs/statecharts/token-client.md):
 *
 * - `loading` — invokes `loadTokens`. No pairing ⇒ `failed` (`no-stored-pairing`).
 * - `initiating` — invokes `initiateSession` with token `index` (oldest first). 401 ⇒ the next token (re-entering
 *   `initiating`); 401 on the last ⇒ `notPaired`; 400 NoLongerPaired ⇒ `unpaired`; any other failure ⇒ `failed`.
 *   A 200 selecting a version or protocol we did not offer ⇒ `failed`; else ⇒ `storingBoth`.
 * - `storingBoth` — invokes `storeTokens` with `[the token that worked, A_new]` by compare-and-swap, so that a
 *   crash from here on loses neither (digest §4.2). Conflict or error ⇒ `failed` (nothing was confirmed).
 * - `confirming` — invokes `confirmAccessToken` with A_new. A non-`wss:` URL ⇒ `failed`.
 * - `storingNew` — invokes `storeTokens` with `[A_new]`. Its failure is not fatal: the two stored tokens still
 *   work (the output says `tokensPruned: false`).
 * - `connecting` — invokes `openWebSocket` with W and the selected version.
 * - `connected` | `notPaired` | `unpaired` | `failed` — final, with the output above.
 */
export const tokenClientMachine = setup({
  types: {
    context: {} as TokenClientContext,
    input: {} as TokenClientInput,
    output: {} as TokenClientOutput,
  },
  actors: {
    /** `PairingStore.get(local, remote)`: its tokens and version, or undefined when not paired. */
    loadTokens: notProvided<StoredTokens | undefined, void>('loadTokens'),
    /** `POST /v1/initiateSession` (RS: initiateConnection) with `Authorization: Bearer <token>`. */
    initiateSession: notProvided<InitiateAnswer, { readonly token: Sealed<string>; readonly index: number }>('initiateSession'),
    /** `PairingStore.swapTokens(local, remote, expectedVersion, tokens)`, resolving with the new version when swapped. */
    storeTokens: notProvided<StoreTokensResult, { readonly expectedVersion: number; readonly tokens: Sealed<readonly string[]> }>(
      'storeTokens',
    ),
    /** `POST /v1/confirmAccessToken` with `Authorization: Bearer <A_new>`. */
    confirmAccessToken: notProvided<WebSocketDetails, { readonly token: Sealed<string> }>('confirmAccessToken'),
    /** Opens the WebSocket with `Authorization: Bearer <W>`; resolves with the open connection. */
    openWebSocket: notProvided<unknown, WebSocketDetails & { readonly messageVersion: string }>('openWebSocket'),
  },
  guards: {
    noStoredPairing: ({ event }) => {
      const found = outputOf<StoredTokens | undefined>(event);
      return found === undefined || found.tokens.reveal().length === 0;
    },
    versionNotOffered: ({ context, event }) => !context.versions.includes(outputOf<InitiateAnswer>(event).selectedS2MessageVersion),
    protocolNotOffered: ({ context, event }) => !context.protocols.includes(outputOf<InitiateAnswer>(event).selectedCommunicationProtocol),
    noLongerPaired: ({ event }) => {
      const { httpStatus, errorMessage } = httpFactsOf(errorOf(event));
      return httpStatus === 400 && errorMessage === 'NoLongerPaired';
    },
    tokenRejected: ({ event }) => httpFactsOf(errorOf(event)).httpStatus === 401,
    anotherTokenLeft: ({ context }) => context.index + 1 < stored(context).length,
    swapRefused: ({ event }) => !outputOf<StoreTokensResult>(event).swapped,
    insecureWebsocketUrl: ({ event }) => !/^wss:\/\//i.test(outputOf<WebSocketDetails>(event).websocketUrl),
  },
  actions: {
    keepTokens: assign(({ event }) => {
      const found = outputOf<StoredTokens>(event);
      return { tokens: found.tokens, version: found.version, index: 0 };
    }),
    nextToken: assign(({ context }) => ({ index: context.index + 1 })),
    keepAnswer: assign(({ event }) => ({ answer: outputOf<InitiateAnswer>(event) })),
    keepVersion: assign(({ event }) => {
      const result = outputOf<StoreTokensResult>(event);
      return result.swapped ? { version: result.version } : {};
    }),
    keepWebsocket: assign(({ event }) => ({ websocket: outputOf<WebSocketDetails>(event) })),
    keepConnection: assign(({ event }) => ({ connection: outputOf<unknown>(event) })),
    markNotPruned: assign({ tokensPruned: false }),
    /** A check of an answer failed. */
    refuse: assign((_, params: { readonly reason: TokenClientFailureReason; readonly step: TokenClientStep }) => ({
      failure: { ...params },
    })),
    /** An invoked step rejected: its HTTP status (or none) becomes the reason. */
    failStep: assign(({ event }, step: TokenClientStep) => {
      const error = errorOf(event);
      const { httpStatus, errorMessage } = httpFactsOf(error);
      const reason: TokenClientFailureReason =
        step === 'loadTokens' ? 'load-failed' : step === 'storeTokens' ? 'persist-failed' : remoteStepReason(error);
      return {
        failure: {
          reason,
          step,
          ...(httpStatus === undefined ? {} : { httpStatus }),
          ...(errorMessage === undefined ? {} : { errorMessage }),
          cause: error,
        },
      };
    }),
  },
}).createMachine({
  id: 'tokenClient',
  context: ({ input }) => ({
    ...input,
    tokens: undefined,
    version: 0,
    index: 0,
    answer: undefined,
    websocket: undefined,
    connection: undefined,
    tokensPruned: true,
    failure: undefined,
  }),
  initial: 'loading',
  states: {
    loading: {
      invoke: {
        id: 'loadTokens',
        src: 'loadTokens',
        onDone: [
          {
            guard: 'noStoredPairing',
            target: 'failed',
            actions: { type: 'refuse', params: { reason: 'no-stored-pairing', step: 'loadTokens' } },
          },
          { target: 'initiating', actions: 'keepTokens' },
        ],
        onError: { target: 'failed', actions: { type: 'failStep', params: 'loadTokens' } },
      },
    },
    initiating: {
      invoke: {
        id: 'initiateSession',
        src: 'initiateSession',
        input: ({ context }) => ({ token: seal(stored(context)[context.index]!), index: context.index }),
        onDone: [
          {
            guard: 'versionNotOffered',
            target: 'failed',
            actions: { type: 'refuse', params: { reason: 'version-not-offered', step: 'initiateSession' } },
          },
          {
            guard: 'protocolNotOffered',
            target: 'failed',
            actions: { type: 'refuse', params: { reason: 'protocol-not-offered', step: 'initiateSession' } },
          },
          { target: 'storingBoth', actions: 'keepAnswer' },
        ],
        onError: [
          { guard: 'noLongerPaired', target: 'unpaired' },
          // Re-entered: the invoke restarts with the next token.
          { guard: and(['tokenRejected', 'anotherTokenLeft']), target: 'initiating', reenter: true, actions: 'nextToken' },
          { guard: 'tokenRejected', target: 'notPaired' },
          { target: 'failed', actions: { type: 'failStep', params: 'initiateSession' } },
        ],
      },
    },
    storingBoth: {
      invoke: {
        id: 'storeBoth',
        src: 'storeTokens',
        input: ({ context }) => ({
          expectedVersion: context.version,
          tokens: seal([stored(context)[context.index]!, answerOf(context).accessToken.reveal()]),
        }),
        onDone: [
          {
            guard: 'swapRefused',
            target: 'failed',
            actions: { type: 'refuse', params: { reason: 'token-store-conflict', step: 'storeTokens' } },
          },
          { target: 'confirming', actions: 'keepVersion' },
        ],
        onError: { target: 'failed', actions: { type: 'failStep', params: 'storeTokens' } },
      },
    },
    confirming: {
      invoke: {
        id: 'confirmAccessToken',
        src: 'confirmAccessToken',
        input: ({ context }) => ({ token: answerOf(context).accessToken }),
        onDone: [
          {
            guard: 'insecureWebsocketUrl',
            target: 'failed',
            actions: { type: 'refuse', params: { reason: 'insecure-websocket-url', step: 'confirmAccessToken' } },
          },
          { target: 'storingNew', actions: 'keepWebsocket' },
        ],
        onError: { target: 'failed', actions: { type: 'failStep', params: 'confirmAccessToken' } },
      },
    },
    storingNew: {
      invoke: {
        id: 'storeNew',
        src: 'storeTokens',
        input: ({ context }) => ({ expectedVersion: context.version, tokens: seal([answerOf(context).accessToken.reveal()]) }),
        onDone: [{ guard: 'swapRefused', target: 'connecting', actions: 'markNotPruned' }, { target: 'connecting' }],
        onError: { target: 'connecting', actions: 'markNotPruned' },
      },
    },
    connecting: {
      invoke: {
        id: 'openWebSocket',
        src: 'openWebSocket',
        input: ({ context }) => ({ ...context.websocket!, messageVersion: answerOf(context).selectedS2MessageVersion }),
        onDone: { target: 'connected', actions: 'keepConnection' },
        onError: { target: 'failed', actions: { type: 'failStep', params: 'openWebSocket' } },
      },
    },
    connected: {
      type: 'final',
      output: ({ context }) => {
        const answer = answerOf(context);
        return {
          outcome: 'connected' as const,
          messageVersion: answer.selectedS2MessageVersion,
          connection: context.connection,
          ...(answer.serverNode === undefined ? {} : { serverNode: answer.serverNode }),
          ...(answer.serverEndpoint === undefined ? {} : { serverEndpoint: answer.serverEndpoint }),
          tokensPruned: context.tokensPruned,
        };
      },
    },
    notPaired: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'notPaired' as const, reason: 'all-tokens-rejected' as const, tried: context.index + 1 }),
    },
    unpaired: { type: 'final', output: () => ({ outcome: 'unpaired' as const, reason: 'no-longer-paired' as const }) },
    failed: { type: 'final', output: ({ context }) => ({ outcome: 'failed' as const, ...context.failure! }) },
  },
  output: ({ event }) => (event as unknown as { output: TokenClientOutput }).output,
});
