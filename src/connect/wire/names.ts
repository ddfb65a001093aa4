/**
 * The fixed strings of S2 Connect 1.0: roles, deployments, error names, long-poll actions, and the spellings of the
 * maintainers' Rust implementation (digest §8) that are mapped onto the OpenAPI names when read.
 */

/** Wire "role" of a NodeDescription. */
export const NODE_ROLES = ['CEM', 'RM'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export const DEPLOYMENTS = ['LAN', 'WAN'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

/** What a node is for one pairing: communication server (CS) or communication client (CC). */
export type CommunicationRole = 'server' | 'client';

/** The API version served under every base URL (`GET /` answers `["v1"]`) and the path segment `v1/`. */
export const API_VERSION = 'v1';

/** The only HMAC algorithm of S2 Connect 1.0. */
export const HMAC_SHA256 = 'SHA256';

/** The only communication protocol of S2 Connect 1.0. */
export const WEBSOCKET = 'WebSocket';

/** `PairingResponseErrorMessage.errorMessage` (OAS spelling). */
export const PAIRING_ERROR_NAMES = [
  'InvalidCombinationOfRoles',
  'IncompatibleS2MessageVersions',
  'IncompatibleHmacHashingAlgorithms',
  'IncompatibleCommunicationProtocols',
  'NodeNotFound',
  'NoNodeIdProvided',
  'NoValidPairingTokenOnPairingServer',
  'ParsingError',
  'Other',
] as const;
export type PairingErrorName = (typeof PAIRING_ERROR_NAMES)[number];

/** `CommunicationDetailsErrorMessage.errorMessage` (OAS spelling; the Rust implementation agrees). */
export const SESSION_ERROR_NAMES = [
  'IncompatibleS2MessageVersions',
  'IncompatibleCommunicationProtocols',
  'NoLongerPaired',
  'ParsingError',
  'Other',
] as const;
export type SessionErrorName = (typeof SESSION_ERROR_NAMES)[number];

/**
 * The Rust implementation's spellings of pairing errors (digest §8 row 4). Read as the OAS name; never sent.
 * `InvalidPairingToken` is what RS calls "no valid pairing token on the pairing server".
 */
export const RS_PAIRING_ERROR_NAMES: Readonly<Record<string, PairingErrorName>> = Object.freeze({
  S2NodeNotFound: 'NodeNotFound',
  S2NodeNotProvided: 'NoNodeIdProvided',
  InvalidPairingToken: 'NoValidPairingTokenOnPairingServer',
  IncompatibleHMACHashingAlgorithms: 'IncompatibleHmacHashingAlgorithms',
});

/** `waitForPairing` 200 actions. */
export const WAIT_FOR_PAIRING_ACTIONS = ['sendNodeDescription', 'preparePairing', 'cancelPreparePairing', 'requestPairing'] as const;
export type WaitForPairingAction = (typeof WAIT_FOR_PAIRING_ACTIONS)[number];

/** The one error a long-polling client may report for one of its nodes. */
export const WAIT_FOR_PAIRING_ERRORS = ['NoValidTokenOnPairingClient'] as const;
export type WaitForPairingError = (typeof WAIT_FOR_PAIRING_ERRORS)[number];

/** NodeIdAlias: short, endpoint-unique, typed by users as part of a pairing code. */
export const NODE_ID_ALIAS_PATTERN = '^[0-9a-zA-Z]+$';

export function isPairingErrorName(text: string): text is PairingErrorName {
  return (PAIRING_ERROR_NAMES as readonly string[]).includes(text);
}

export function isSessionErrorName(text: string): text is SessionErrorName {
  return (SESSION_ERROR_NAMES as readonly string[]).includes(text);
}

/** The OAS pairing error a received name stands for, in either dialect; undefined when unknown. */
export function pairingErrorName(text: string): PairingErrorName | undefined {
  if (isPairingErrorName(text)) return text;
  return Object.prototype.hasOwnProperty.call(RS_PAIRING_ERROR_NAMES, text) ? RS_PAIRING_ERROR_NAMES[text] : undefined;
}
