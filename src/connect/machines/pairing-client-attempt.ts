import { and, assign, setup } from 'xstate';
import type { PairingRecord } from '../store/pairing-store.js';
import type { CommunicationRole, ConnectionDetails, EndpointDescription, NodeDescription, NodeRole } from '../wire/index.js';
import { httpFactsOf, notProvided, remoteStepReason, seal, type HttpStatusReason, type Sealed } from './common.js';

/**
 * One pairing attempt on the pairing client (PC): `requestPairing`, the checks of the server's answer, the
 * connection-details call, and `finalizePairing` and local persistence in the order that lets the communication
 * server know the access token before the communication client can use it (digest §3.3–3.6). Every step that
 * talks to the PS or the store is an invoked actor provided by the HTTP layer; every check is a named guard.
 */

/** Digest §8 row 20: the server challenge must be at least 32 bytes (RS only asserts it in debug builds). */
export const MIN_SERVER_CHALLENGE_BYTES = 32;

/**
 * The HMAC work of the attempt, done by the caller (node:crypto) with the pairing token T and the client
 * challenge C_c in its closure, so that neither is in the machine. `leafFingerprint` is F (digest §3.4): the
 * SHA-256 of the PS's TLS leaf as seen during `requestPairing`, given when the pairing URL host is `.local`.
 */
export interface PairingClientHmac {
  /** Constant time: whether R_c equals HMAC(key C_c, T[‖F]). */
  verifyClientChallengeResponse(response: Uint8Array, leafFingerprint: Uint8Array | undefined): boolean;
  /** Whether C_s is HMAC-equivalent to our own C_c (digest §8: a reflected challenge). */
  isOwnChallenge(serverChallenge: Uint8Array): boolean;
  /** R_s = HMAC(key C_s, T[‖F]). */
  respond(serverChallenge: Uint8Array, leafFingerprint: Uint8Array | undefined): Uint8Array;
}

export interface PairingClientAttemptInput {
  /** This node's role: the PS must have the other one. */
  readonly ownRole: NodeRole;
  /** The algorithms offered in `requestPairing` (`['SHA256']`): the server must select one of them. */
  readonly offeredHmacAlgorithms: readonly string[];
  readonly hmac: PairingClientHmac;
  /**
   * What this node becomes for the pairing, given the PS's answer (digest §1 table; the caller uses
   * `communicationRoleOf('pairingClient', …)` of src/connect/deployment.ts with the PS's announced deployment, or
   * the one of the pairing URL host). Only called once the roles are known to differ.
   */
  readonly communicationRoleWith: (serverNode: NodeDescription, serverEndpoint: EndpointDescription) => CommunicationRole;
  /**
   * What this node posts when it becomes the communication server (digest §3.5b): its initiate URL, a fresh access
   * token and its root fingerprint. Absent when this node cannot serve session initiation: pairing then stops with
   * `no-initiate-url` if it would have to.
   */
  readonly ownConnectionDetails?: Sealed<ConnectionDetails> | undefined;
}

/** The `requestPairing` 200 answer, read by the HTTP layer, with what its TLS handshake showed. */
export interface PairingOffer {
  readonly attemptId: Sealed<string>;
  readonly serverNode: NodeDescription;
  readonly serverEndpoint: EndpointDescription;
  readonly selectedHmacHashingAlgorithm: string;
  /** R_c. */
  readonly clientHmacChallengeResponse: Sealed<Uint8Array>;
  /** C_s. */
  readonly serverHmacChallenge: Uint8Array;
  /** F: SHA-256 of the PS's TLS leaf when the pairing URL host is `.local` (LAN binding); absent on WAN. */
  readonly leafFingerprint?: Uint8Array | undefined;
  /** SHA-256 of the last certificate of the chain the PS presented: the CC's pin when the details carry none (§3.5a). */
  readonly rootFingerprint?: Uint8Array | undefined;
}

export interface DetailsCallInput {
  readonly attemptId: Sealed<string>;
  /** R_s. */
  readonly serverHmacChallengeResponse: Sealed<Uint8Array>;
}

export interface PairingClientPersistInput {
  readonly communicationRole: CommunicationRole;
  readonly serverNode: NodeDescription;
  readonly serverEndpoint: EndpointDescription;
  /**
   * `server`: the details we posted — store `[SHA-256 of their accessToken]`. `client`: the details the PS handed
   * out — store `[accessToken]`, the initiate URL and the root pin (their certificateFingerprint, else
   * `rootFingerprint` when the URL is `.local`).
   */
  readonly connectionDetails: Sealed<ConnectionDetails>;
  readonly rootFingerprint?: Uint8Array | undefined;
}

/** The step that failed. */
export type PairingClientStep = 'requestPairing' | 'requestConnectionDetails' | 'postConnectionDetails' | 'finalize' | 'persist';

export type PairingClientFailureReason =
  /** The PS selected an HMAC algorithm we did not offer. */
  | 'algorithm-not-offered'
  /** R_c does not verify: wrong pairing token, or a man in the middle. */
  | 'wrong-server-response'
  /** The PS node has our role (InvalidCombinationOfRoles). */
  | 'same-role'
  /** C_s shorter than {@link MIN_SERVER_CHALLENGE_BYTES}. */
  | 'short-server-challenge'
  /** C_s is equivalent to our own challenge: answering it would hand out R_c. */
  | 'reflected-challenge'
  /** We would have to be the communication server but have no connection details to post. */
  | 'no-initiate-url'
  /** `persist` rejected. */
  | 'persist-failed'
  /** A call answered with this status (`httpStatus`, `errorMessage` say more). */
  | HttpStatusReason
  /** A call got no usable answer (connection, TLS, pin, timeout, unreadable body; see `cause`). */
  | 'request-failed';

export interface PairingClientFailure {
  readonly reason: PairingClientFailureReason;
  readonly step: PairingClientStep;
  readonly httpStatus?: number;
  /** The OpenAPI error name the PS answered (e.g. `NodeNotFound`), or the local error name of the rejection. */
  readonly errorMessage?: string;
  /** What the failed actor rejected with (never shown to peers). */
  readonly cause?: unknown;
  /**
   * We are CC and the PS confirmed `finalizePairing{true}` (it stored the pairing), but storing ours failed: the
   * PS keeps a pairing we do not have until it is unpaired there (digest §3.6).
   */
  readonly remoteKeepsPairing: boolean;
  /** We are CS, stored the pairing, `finalizePairing{true}` failed, and removing ours (`discard`) failed too. */
  readonly localKeepsPairing: boolean;
}

export type PairingClientAttemptOutput =
  | { readonly outcome: 'paired'; readonly communicationRole: CommunicationRole; readonly record: PairingRecord }
  | ({ readonly outcome: 'failed' } & PairingClientFailure);

export interface PairingClientAttemptContext extends PairingClientAttemptInput {
  readonly offer: PairingOffer | undefined;
  readonly communicationRole: CommunicationRole | undefined;
  /** R_s, computed once the offer passed every check. */
  readonly response: Sealed<Uint8Array> | undefined;
  /** CC: the ConnectionDetails the PS handed out. */
  readonly details: Sealed<ConnectionDetails> | undefined;
  /** What `persist` stored. */
  readonly record: PairingRecord | undefined;
  readonly failure: PairingClientFailure | undefined;
}

type Ctx = PairingClientAttemptContext;
const offerOf = (context: Ctx): PairingOffer => {
  if (!context.offer) throw new Error('pairingClientAttempt: no offer yet'); // unreachable: set before any later step
  return context.offer;
};
const outputOf = (event: unknown): PairingOffer => (event as { output: PairingOffer }).output;
const detailsInput = (context: Ctx): DetailsCallInput => ({
  attemptId: offerOf(context).attemptId,
  serverHmacChallengeResponse: context.response!,
});
const persistInput = (context: Ctx): PairingClientPersistInput => {
  const offer = offerOf(context);
  const server = context.communicationRole === 'server';
  return {
    communicationRole: server ? 'server' : 'client',
    serverNode: offer.serverNode,
    serverEndpoint: offer.serverEndpoint,
    connectionDetails: server ? context.ownConnectionDetails! : context.details!,
    ...(offer.rootFingerprint === undefined ? {} : { rootFingerprint: offer.rootFingerprint }),
  };
};
const failure = (reason: PairingClientFailureReason, step: PairingClientStep): PairingClientFailure => ({
  reason,
  step,
  remoteKeepsPairing: false,
  localKeepsPairing: false,
});

/**
 * The statechart (drawn in docs/statecharts/pairing-client-attempt.md):
 *
 * - `requestingPairing` — invokes `requestPairing`. A refusal (400 with its error name, 503 …) or no answer ⇒
 *   `failed` at once (there is no attempt to finalize). A 200 answer meets the checks in this order, the first
 *   that fails leading to `abandoning`: algorithm not offered, R_c does not verify, same role, C_s too short,
 *   C_s reflected, CS without connection details. Then, by the communication role:
 * - `becomingServer` (we are CS): `postingDetails` (invokes `postConnectionDetails` with R_s and our details) →
 *   `persisting` (invokes `persist`) → `finalizing` (invokes `finalize{true}`) ⇒ `paired`. The token is stored
 *   before the PS, as CC, can learn that it may use it. If `finalize{true}` fails, `discarding` removes the
 *   pairing just stored (invokes `discard`) before `abandoning`.
 * - `becomingClient` (we are CC): `requestingDetails` (invokes `requestConnectionDetails` with R_s) →
 *   `finalizing` (`finalize{true}`: the PS, as CS, stores the token first) → `persisting` ⇒ `paired`.
 * - `abandoning` — every failure after a successful `requestPairing` passes here: invokes `finalize{false}`,
 *   best effort (its own failure is ignored), then `failed`.
 * - `paired` (final; output: the stored record and our role) / `failed` (final; output: the typed failure).
 */
export const pairingClientAttemptMachine = setup({
  types: {
    context: {} as PairingClientAttemptContext,
    input: {} as PairingClientAttemptInput,
    output: {} as PairingClientAttemptOutput,
  },
  actors: {
    /** `POST /v1/requestPairing` (after `GET /` for the API version); resolves with the 200 answer. */
    requestPairing: notProvided<PairingOffer, void>('requestPairing'),
    /** `POST /v1/requestConnectionDetails`; resolves with the ConnectionDetails the PS hands out. */
    requestConnectionDetails: notProvided<Sealed<ConnectionDetails>, DetailsCallInput>('requestConnectionDetails'),
    /** `POST /v1/postConnectionDetails` with our ConnectionDetails; resolves on 204. */
    postConnectionDetails: notProvided<void, DetailsCallInput & { readonly connectionDetails: Sealed<ConnectionDetails> }>(
      'postConnectionDetails',
    ),
    /** `POST /v1/finalizePairing {success}`; resolves on 204. */
    finalize: notProvided<void, { readonly attemptId: Sealed<string>; readonly success: boolean }>('finalize'),
    /** Stores the pairing (`PairingStore.put`); resolves with the stored record. */
    persist: notProvided<PairingRecord, PairingClientPersistInput>('persist'),
    /** Removes the pairing `persist` stored (`PairingStore.remove`, no tombstone). */
    discard: notProvided<void, { readonly record: PairingRecord }>('discard'),
  },
  guards: {
    algorithmNotOffered: ({ context, event }) => !context.offeredHmacAlgorithms.includes(outputOf(event).selectedHmacHashingAlgorithm),
    wrongServerResponse: ({ context, event }) => {
      const offer = outputOf(event);
      return !context.hmac.verifyClientChallengeResponse(offer.clientHmacChallengeResponse.reveal(), offer.leafFingerprint);
    },
    sameRole: ({ context, event }) => outputOf(event).serverNode.role === context.ownRole,
    shortServerChallenge: ({ event }) => outputOf(event).serverHmacChallenge.length < MIN_SERVER_CHALLENGE_BYTES,
    reflectedChallenge: ({ context, event }) => context.hmac.isOwnChallenge(outputOf(event).serverHmacChallenge),
    becomesServer: ({ context, event }) => {
      const offer = outputOf(event);
      return context.communicationRoleWith(offer.serverNode, offer.serverEndpoint) === 'server';
    },
    noConnectionDetails: ({ context }) => context.ownConnectionDetails === undefined,
  },
  actions: {
    keepOffer: assign(({ event }) => ({ offer: outputOf(event) })),
    /** A check of the `requestPairing` answer failed. */
    refuse: assign((_, reason: PairingClientFailureReason) => ({ failure: failure(reason, 'requestPairing') })),
    /** Our role for this pairing, and R_s over C_s. */
    answerChallenge: assign(({ context }, role: CommunicationRole) => {
      const offer = offerOf(context);
      return { communicationRole: role, response: seal(context.hmac.respond(offer.serverHmacChallenge, offer.leafFingerprint)) };
    }),
    keepDetails: assign(({ event }) => ({ details: (event as unknown as { output: Sealed<ConnectionDetails> }).output })),
    keepRecord: assign(({ event }) => ({ record: (event as unknown as { output: PairingRecord }).output })),
    /** An invoked step rejected: its HTTP status (or none) becomes the reason. */
    failStep: assign(({ event }, step: PairingClientStep) => {
      const error = (event as { error?: unknown }).error;
      const { httpStatus, errorMessage } = httpFactsOf(error);
      return {
        failure: {
          ...failure(step === 'persist' ? 'persist-failed' : remoteStepReason(error), step),
          ...(httpStatus === undefined ? {} : { httpStatus }),
          ...(errorMessage === undefined ? {} : { errorMessage }),
          cause: error,
        },
      };
    }),
    /** CC: `finalize{true}` was confirmed before `persist` failed. */
    markRemoteKeepsPairing: assign(({ context }) => ({ failure: { ...context.failure!, remoteKeepsPairing: true } })),
    /** CS: `discard` failed after `finalize{true}` did. */
    markLocalKeepsPairing: assign(({ context }) => ({ failure: { ...context.failure!, localKeepsPairing: true } })),
  },
}).createMachine({
  id: 'pairingClientAttempt',
  context: ({ input }) => ({
    ...input,
    offer: undefined,
    communicationRole: undefined,
    response: undefined,
    details: undefined,
    record: undefined,
    failure: undefined,
  }),
  initial: 'requestingPairing',
  states: {
    requestingPairing: {
      invoke: {
        id: 'requestPairing',
        src: 'requestPairing',
        onDone: [
          {
            guard: 'algorithmNotOffered',
            target: 'abandoning',
            actions: ['keepOffer', { type: 'refuse', params: 'algorithm-not-offered' }],
          },
          {
            guard: 'wrongServerResponse',
            target: 'abandoning',
            actions: ['keepOffer', { type: 'refuse', params: 'wrong-server-response' }],
          },
          { guard: 'sameRole', target: 'abandoning', actions: ['keepOffer', { type: 'refuse', params: 'same-role' }] },
          {
            guard: 'shortServerChallenge',
            target: 'abandoning',
            actions: ['keepOffer', { type: 'refuse', params: 'short-server-challenge' }],
          },
          { guard: 'reflectedChallenge', target: 'abandoning', actions: ['keepOffer', { type: 'refuse', params: 'reflected-challenge' }] },
          {
            guard: and(['becomesServer', 'noConnectionDetails']),
            target: 'abandoning',
            actions: ['keepOffer', { type: 'refuse', params: 'no-initiate-url' }],
          },
          { guard: 'becomesServer', target: 'becomingServer', actions: ['keepOffer', { type: 'answerChallenge', params: 'server' }] },
          { target: 'becomingClient', actions: ['keepOffer', { type: 'answerChallenge', params: 'client' }] },
        ],
        onError: { target: 'failed', actions: { type: 'failStep', params: 'requestPairing' } },
      },
    },
    becomingServer: {
      initial: 'postingDetails',
      states: {
        postingDetails: {
          invoke: {
            id: 'postConnectionDetails',
            src: 'postConnectionDetails',
            input: ({ context }) => ({ ...detailsInput(context), connectionDetails: context.ownConnectionDetails! }),
            onDone: { target: 'persisting' },
            onError: { target: '#pairingClientAttempt.abandoning', actions: { type: 'failStep', params: 'postConnectionDetails' } },
          },
        },
        persisting: {
          invoke: {
            id: 'persist',
            src: 'persist',
            input: ({ context }) => persistInput(context),
            onDone: { target: 'finalizing', actions: 'keepRecord' },
            onError: { target: '#pairingClientAttempt.abandoning', actions: { type: 'failStep', params: 'persist' } },
          },
        },
        finalizing: {
          invoke: {
            id: 'finalize',
            src: 'finalize',
            input: ({ context }) => ({ attemptId: offerOf(context).attemptId, success: true }),
            onDone: { target: '#pairingClientAttempt.paired' },
            onError: { target: 'discarding', actions: { type: 'failStep', params: 'finalize' } },
          },
        },
        /** The PS did not take the pairing: remove ours, or its token would wait for a client that never comes. */
        discarding: {
          invoke: {
            id: 'discard',
            src: 'discard',
            input: ({ context }) => ({ record: context.record! }),
            onDone: { target: '#pairingClientAttempt.abandoning' },
            onError: { target: '#pairingClientAttempt.abandoning', actions: 'markLocalKeepsPairing' },
          },
        },
      },
    },
    becomingClient: {
      initial: 'requestingDetails',
      states: {
        requestingDetails: {
          invoke: {
            id: 'requestConnectionDetails',
            src: 'requestConnectionDetails',
            input: ({ context }) => detailsInput(context),
            onDone: { target: 'finalizing', actions: 'keepDetails' },
            onError: { target: '#pairingClientAttempt.abandoning', actions: { type: 'failStep', params: 'requestConnectionDetails' } },
          },
        },
        finalizing: {
          invoke: {
            id: 'finalize',
            src: 'finalize',
            input: ({ context }) => ({ attemptId: offerOf(context).attemptId, success: true }),
            onDone: { target: 'persisting' },
            onError: { target: '#pairingClientAttempt.abandoning', actions: { type: 'failStep', params: 'finalize' } },
          },
        },
        persisting: {
          invoke: {
            id: 'persist',
            src: 'persist',
            input: ({ context }) => persistInput(context),
            onDone: { target: '#pairingClientAttempt.paired', actions: 'keepRecord' },
            onError: {
              target: '#pairingClientAttempt.abandoning',
              actions: [{ type: 'failStep', params: 'persist' }, 'markRemoteKeepsPairing'],
            },
          },
        },
      },
    },
    /** Best-effort `finalizePairing{false}` (digest §3.6); its outcome does not change the failure. */
    abandoning: {
      invoke: {
        id: 'finalizeFalse',
        src: 'finalize',
        input: ({ context }) => ({ attemptId: offerOf(context).attemptId, success: false }),
        onDone: { target: 'failed' },
        onError: { target: 'failed' },
      },
    },
    paired: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'paired' as const, communicationRole: context.communicationRole!, record: context.record! }),
    },
    failed: {
      type: 'final',
      output: ({ context }) => ({ outcome: 'failed' as const, ...context.failure! }),
    },
  },
  output: ({ event }) => (event as unknown as { output: PairingClientAttemptOutput }).output,
});
