/**
 * s2-engine/connect — S2 Connect 1.0: pairing two nodes with a pairing code, initiating every S2
 * session with rotating one-time tokens, unpairing, and on a LAN: discovery over mDNS, node lists,
 * prepared pairings and the long poll of a device waiting to be paired (docs/s2-connect.md).
 *
 * ```ts
 * import { createS2ConnectServer, pair, connectPaired, DirectoryPairingStore } from 's2-engine/connect';
 * ```
 *
 * @module s2-engine/connect
 */
export {
  createS2ConnectServer,
  S2_CONNECT_TIMEOUTS,
  WEBSOCKET_PATH,
  type PairingCodeOffer,
  type S2ConnectConnectionInfo,
  type S2ConnectNode,
  type S2ConnectServer,
  type S2ConnectServerEvent,
  type S2ConnectServerOptions,
} from './server.js';
export {
  connectPaired,
  pair,
  unpair,
  type ConnectPairedOptions,
  type PairedConnection,
  type PairOptions,
  type S2ConnectClientOptions,
  type UnpairOptions,
  type UnpairResult,
} from './client.js';
export {
  cancelPreparePairing,
  getEndpoint,
  listNodes,
  preparePairing,
  waitForPairing,
  DEFAULT_LONG_POLL_HOLD_MS,
  type LanCallOptions,
  type LongPollClient,
  type LongPollNodeOptions,
  type WaitForPairingOptions,
} from './lan/lan-client.js';
export {
  isLocalAddress,
  LAN_TIMEOUTS,
  type AskableAction,
  type LanServerEvent,
  type LanServerOptions,
  type WaitingClient,
} from './lan/lan-server.js';
export type { LongPollClientState, LongPollOutcome, LongPollStopReason } from './lan/long-poll-types.js';
export {
  advertise,
  browse,
  discover,
  endpointFromTxt,
  resolverFor,
  DISCOVERY_ROLES,
  type AdvertiseOptions,
  type Advertisement,
  type BrowseOptions,
  type DiscoverOptions,
  type Discovered,
  type DiscoveryBrowser,
  type DiscoveryEndpoint,
  type DiscoveryEvent,
  type DiscoveryRole,
  type MdnsOptions,
} from './discovery.js';
export { generateCertificates, rootPinOfChain, type CertificateOptions, type GeneratedCertificates } from './certificates.js';
export {
  DirectoryPairingStore,
  MemoryPairingStore,
  PairingStoreError,
  DEFAULT_TOMBSTONE_TTL_MS,
  type AccessTokens,
  type OneTimeKind,
  type OneTimePayload,
  type PairingRecord,
  type PairingStore,
  type PairingStoreOptions,
} from './store/index.js';
export {
  S2ConnectError,
  isS2ConnectError,
  type S2ConnectErrorName,
  type LocalErrorName,
  type S2ConnectErrorOptions,
  type ErrorBody,
} from './errors.js';
export { formatPairingCode, parsePairingCode, MIN_PAIRING_TOKEN_BYTES, type PairingCode } from './crypto.js';
export type { HostResolver } from './http/tls-trust.js';
export type { ThrottleOptions } from './http/https-server.js';
export type {
  CommunicationRole,
  ConnectionDetails,
  Deployment,
  EndpointDescription,
  NodeDescription,
  NodeRole,
  PairingErrorName,
  SessionErrorName,
  WaitForPairingAction,
  WaitForPairingError,
  WaitForPairingResponseItem,
} from './wire/index.js';
export {
  DEPLOYMENTS,
  NODE_ROLES,
  PAIRING_ERROR_NAMES,
  SESSION_ERROR_NAMES,
  WAIT_FOR_PAIRING_ACTIONS,
  WAIT_FOR_PAIRING_ERRORS,
} from './wire/index.js';
