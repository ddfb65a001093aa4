/**
 * The S2 Connect statecharts: a pairing attempt on each side, the access-token rotation on each side, and on a LAN
 * the long-poll client and the server's view of a client node waiting to be paired (prepared pairing). Pure
 * XState v5 machines; the HTTP layer supplies their I/O with `machine.provide({ actors })`, their clock with the
 * actor's `clock` option, and every secret wrapped in {@link Sealed}.
 */
export {
  httpFactsOf,
  notProvided,
  remoteStepReason,
  seal,
  Sealed,
  type HttpFacts,
  type HttpStatusReason,
  type ServerReply,
} from './common.js';
export {
  pairingServerAttemptMachine,
  type DetailsStep,
  type PairingServerAttemptContext,
  type PairingServerAttemptEvent,
  type PairingServerAttemptInput,
  type PairingServerAttemptOutcome,
  type PairingServerAttemptOutput,
  type PairingToPersist,
} from './pairing-server-attempt.js';
export {
  MIN_SERVER_CHALLENGE_BYTES,
  pairingClientAttemptMachine,
  type DetailsCallInput,
  type PairingClientAttemptContext,
  type PairingClientAttemptInput,
  type PairingClientAttemptOutput,
  type PairingClientFailure,
  type PairingClientFailureReason,
  type PairingClientHmac,
  type PairingClientPersistInput,
  type PairingClientStep,
  type PairingOffer,
} from './pairing-client-attempt.js';
export {
  tokenServerMachine,
  type PendingAccessToken,
  type TokenServerContext,
  type TokenServerEmitted,
  type TokenServerEvent,
  type TokenServerInput,
} from './token-server.js';
export {
  tokenClientMachine,
  type InitiateAnswer,
  type StoredTokens,
  type StoreTokensResult,
  type TokenClientContext,
  type TokenClientFailure,
  type TokenClientFailureReason,
  type TokenClientInput,
  type TokenClientOutput,
  type TokenClientStep,
  type WebSocketDetails,
} from './token-client.js';
export {
  longPollClientMachine,
  longPollItemsOf,
  type LongPollAnswer,
  type LongPollClientContext,
  type LongPollClientEmitted,
  type LongPollClientEvent,
  type LongPollClientInput,
  type LongPollItem,
  type LongPollNode,
  type LongPollOutcome,
  type LongPollStopReason,
} from './long-poll-client.js';
export {
  preparedPairingMachine,
  type PreparedPairingContext,
  type PreparedPairingEvent,
  type PreparedPairingFailure,
  type PreparedPairingInput,
  type PreparedPairingOutput,
} from './prepared-pairing.js';
