import type { Deployment, NodeRole, PairingErrorName, SessionErrorName, WaitForPairingAction, WaitForPairingError } from './names.js';

/**
 * The values `readBody` returns and `writeBody` takes: OAS field names, `null` already turned into "absent",
 * Rust-dialect spellings already mapped, binary fields (challenges, HMAC responses, fingerprints) as raw bytes.
 * Tokens and attempt ids stay opaque strings: they are compared and presented as text, never decoded.
 */

export interface NodeDescription {
  /** NodeId: a UUID, lowercase after reading. */
  id: string;
  brand: string;
  type: string;
  modelName: string;
  role: NodeRole;
  logoUrl?: string;
  userDefinedName?: string;
}

export interface EndpointDescription {
  name?: string;
  logoUrl?: string;
  /** Optional on the wire (RS infers it from the URL host); `writeBody` requires it (digest §8 row 22). */
  deployment?: Deployment;
}

/** `POST /v1/requestPairing` body. */
export interface RequestPairingRequest {
  clientNodeDescription: NodeDescription;
  clientEndpointDescription: EndpointDescription;
  /** At most one of nodeId / nodeIdAlias (both given is a ParsingError). */
  nodeId?: string;
  nodeIdAlias?: string;
  /** Plain strings, not an enum: an unknown protocol must lead to "incompatible", not to a parsing error. */
  supportedCommunicationProtocols: string[];
  supportedS2MessageVersions: string[];
  /** Plain strings for the same reason: no `SHA256` ⇒ `IncompatibleHmacHashingAlgorithms`. */
  supportedHmacHashingAlgorithms: string[];
  /** ≥ 32 bytes. */
  clientHmacChallenge: Uint8Array;
  /** Absent on the wire reads as false. */
  forcePairing: boolean;
}

/** `requestPairing` 200 body. */
export interface RequestPairingResponse {
  pairingAttemptId: string;
  serverNodeDescription: NodeDescription;
  serverEndpointDescription: EndpointDescription;
  selectedHmacHashingAlgorithm: string;
  /** R_c (32 bytes for SHA256; other lengths are read and then fail the comparison). */
  clientHmacChallengeResponse: Uint8Array;
  /** C_s, ≥ 32 bytes. */
  serverHmacChallenge: Uint8Array;
}

/** 400 body of the pairing API (`PairingResponseErrorMessage`). */
export interface PairingErrorResponse {
  errorMessage: PairingErrorName;
  additionalInfo?: string;
}

/** `ConnectionDetails`: what the communication client needs after pairing. */
export interface ConnectionDetails {
  /** Base URL (https:) of the CS's session-initiation API, without `v1/`. Read from either spelling. */
  initiateSessionUrl: string;
  accessToken: string;
  /** SHA-256 of the CS's root certificate DER (32 bytes), from `{"SHA256": …}` (or the OAS typo `SHA265`). */
  certificateFingerprint?: Uint8Array;
}

/** `POST /v1/requestConnectionDetails` body. */
export interface RequestConnectionDetailsRequest {
  serverHmacChallengeResponse: Uint8Array;
}

/** `POST /v1/postConnectionDetails` body. */
export interface PostConnectionDetailsRequest {
  serverHmacChallengeResponse: Uint8Array;
  connectionDetails: ConnectionDetails;
}

/** `POST /v1/finalizePairing` body; `success` is required (digest §8 row 18). */
export interface FinalizePairingRequest {
  success: boolean;
}

/** `POST /v1/initiateSession` (RS: `initiateConnection`) body. */
export interface InitiateSessionRequest {
  clientNodeId: string;
  serverNodeId: string;
  supportedS2MessageVersions: string[];
  supportedCommunicationProtocols: string[];
  clientNodeDescription?: NodeDescription;
  clientEndpointDescription?: EndpointDescription;
}

/** `initiateSession` 200 body. */
export interface InitiateSessionResponse {
  selectedCommunicationProtocol: string;
  selectedS2MessageVersion: string;
  /** The pending access token A_new. */
  accessToken: string;
  serverNodeDescription?: NodeDescription;
  serverEndpointDescription?: EndpointDescription;
}

/** `confirmAccessToken` 200 body (WebSocketCommunicationDetails). */
export interface CommunicationDetails {
  communicationProtocol: 'WebSocket';
  /** One-time WebSocket token W. Read from `websocketToken` or `websocket_token`. */
  websocketToken: string;
  /** wss: URL. Read from `websocketUrl` or `websocket_url`. */
  websocketUrl: string;
}

/** 400 body of the session-initiation API (`CommunicationDetailsErrorMessage`). */
export interface SessionErrorResponse {
  errorMessage: SessionErrorName;
  additionalInfo?: string;
}

/** `POST /v1/unpair` body. */
export interface UnpairRequest {
  clientNodeId: string;
  serverNodeId: string;
}

/** `POST /v1/preparePairing` body (LAN); `serverNodeId` required (digest §8 row 17). */
export interface PreparePairingRequest {
  clientNodeDescription: NodeDescription;
  clientEndpointDescription: EndpointDescription;
  serverNodeId: string;
}

/** `POST /v1/cancelPreparePairing` body (LAN). */
export interface CancelPreparePairingRequest {
  clientNodeId: string;
  serverNodeId: string;
}

/** One item of the `waitForPairing` request (one per node of the polling client). */
export interface WaitForPairingRequestItem {
  clientNodeId: string;
  /** Read from `clientNodeDescription` or RS's `clienNodeDescription`; written under both. */
  clientNodeDescription?: NodeDescription;
  clientEndpointDescription?: EndpointDescription;
  errorMessage?: WaitForPairingError;
}

/** One item of the `waitForPairing` 200 answer. */
export interface WaitForPairingResponseItem {
  clientNodeId: string;
  action: WaitForPairingAction;
}

/** Every body `readBody` / `writeBody` know, by kind. */
export interface BodyValues {
  NodeDescription: NodeDescription;
  EndpointDescription: EndpointDescription;
  /** `GET /v1/nodes` 200. */
  NodeList: NodeDescription[];
  /** `GET <base>/` 200 (RS): the API versions, e.g. `["v1"]`. */
  ApiVersions: string[];
  RequestPairingRequest: RequestPairingRequest;
  RequestPairingResponse: RequestPairingResponse;
  PairingErrorResponse: PairingErrorResponse;
  ConnectionDetails: ConnectionDetails;
  RequestConnectionDetailsRequest: RequestConnectionDetailsRequest;
  PostConnectionDetailsRequest: PostConnectionDetailsRequest;
  FinalizePairingRequest: FinalizePairingRequest;
  InitiateSessionRequest: InitiateSessionRequest;
  InitiateSessionResponse: InitiateSessionResponse;
  CommunicationDetails: CommunicationDetails;
  SessionErrorResponse: SessionErrorResponse;
  UnpairRequest: UnpairRequest;
  PreparePairingRequest: PreparePairingRequest;
  CancelPreparePairingRequest: CancelPreparePairingRequest;
  WaitForPairingRequestItem: WaitForPairingRequestItem;
  /** The whole request: an array (a single object is accepted on read). */
  WaitForPairingRequest: WaitForPairingRequestItem[];
  WaitForPairingResponseItem: WaitForPairingResponseItem;
  /** The OAS answer: an array of ≥ 1 items. RS servers send a single object, which reads as a one-item array. */
  WaitForPairingResponse: WaitForPairingResponseItem[];
}

export type BodyKind = keyof BodyValues;
