import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum, UUID_PATTERN } from '../../typebox/common/primitives.js';
import {
  DEPLOYMENTS,
  NODE_ID_ALIAS_PATTERN,
  NODE_ROLES,
  PAIRING_ERROR_NAMES,
  SESSION_ERROR_NAMES,
  WAIT_FOR_PAIRING_ACTIONS,
  WAIT_FOR_PAIRING_ERRORS,
} from './names.js';
import type { BodyKind } from './types.js';

/**
 * TypeBox schemas of every S2 Connect 1.0 body, with the OpenAPI field names and required/optional sets, as they
 * stand AFTER the dialect normalisation of body.ts (nulls dropped, RS spellings renamed). Objects allow unknown
 * fields (RS does, and we send compatibility fields to it); the reader keeps only the declared ones.
 *
 * Three custom keywords (registered in body.ts) carry what JSON Schema cannot say:
 * - `s2Base64: { minBytes, maxBytes }` — strict, canonical, padded standard base64 of that many bytes;
 * - `s2Url: 'https' | 'wss'` — an absolute URL of that scheme;
 * - `s2Fingerprint: true` — a fingerprint map with a `SHA256` (or typo `SHA265`) entry of 32 bytes, base64 or hex.
 * Titles name the OAS component; body.ts keys its dialect handling on them.
 */

/** RFC 6750 b64token: what fits in `Authorization: Bearer …`. Tokens are opaque, but must be presentable. */
export const TOKEN68_PATTERN = '^[A-Za-z0-9\\-._~+/]+=*$';
const MAX_TOKEN_CHARS = 1024;
/** HMAC keys beyond this are pointless (hashed to 32 bytes anyway) and only cost work. */
const MAX_CHALLENGE_BYTES = 1024;

const NodeId = Type.String({ pattern: UUID_PATTERN, title: 'NodeId' });
const NodeIdAlias = Type.String({ pattern: NODE_ID_ALIAS_PATTERN, maxLength: 64, title: 'NodeIdAlias' });
const Token = (title: string, minLength = 1) => Type.String({ pattern: TOKEN68_PATTERN, minLength, maxLength: MAX_TOKEN_CHARS, title });
const AccessToken = Token('AccessToken');
const HmacChallenge = Type.String({ title: 'HmacChallenge', s2Base64: { minBytes: 32, maxBytes: MAX_CHALLENGE_BYTES } });
// Any length up to 64 bytes reads; a wrong length then fails the constant-time comparison (403), as a wrong value does.
const HmacChallengeResponse = Type.String({ title: 'HmacChallengeResponse', s2Base64: { minBytes: 1, maxBytes: 64 } });
const Strings = () => Type.Array(Type.String());

export const NodeDescriptionSchema = Type.Object(
  {
    id: NodeId,
    brand: Type.String(),
    logoUrl: Type.Optional(Type.String()),
    type: Type.String(),
    modelName: Type.String(),
    userDefinedName: Type.Optional(Type.String()),
    role: StringEnum(NODE_ROLES, { title: 'Role' }),
  },
  { title: 'NodeDescription' },
);

export const EndpointDescriptionSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    logoUrl: Type.Optional(Type.String()),
    deployment: Type.Optional(StringEnum(DEPLOYMENTS, { title: 'Deployment' })),
  },
  { title: 'EndpointDescription' },
);

const CertificateFingerprint = Type.Object(
  {},
  { additionalProperties: Type.String(), s2Fingerprint: true, title: 'CertificateFingerprint' },
);

export const ConnectionDetailsSchema = Type.Object(
  {
    initiateSessionUrl: Type.String({ s2Url: 'https', maxLength: 2048, title: 'InitiateSessionUrl' }),
    accessToken: AccessToken,
    certificateFingerprint: Type.Optional(CertificateFingerprint),
  },
  { title: 'ConnectionDetails' },
);

export const RequestPairingRequestSchema = Type.Object(
  {
    clientNodeDescription: NodeDescriptionSchema,
    clientEndpointDescription: EndpointDescriptionSchema,
    nodeId: Type.Optional(NodeId),
    nodeIdAlias: Type.Optional(NodeIdAlias),
    supportedCommunicationProtocols: Strings(),
    supportedS2MessageVersions: Strings(),
    supportedHmacHashingAlgorithms: Strings(),
    clientHmacChallenge: HmacChallenge,
    forcePairing: Type.Optional(Type.Boolean({ default: false })),
  },
  { title: 'RequestPairingRequest' },
);

export const RequestPairingResponseSchema = Type.Object(
  {
    pairingAttemptId: Token('PairingAttemptId', 32),
    serverNodeDescription: NodeDescriptionSchema,
    serverEndpointDescription: EndpointDescriptionSchema,
    selectedHmacHashingAlgorithm: Type.String(),
    clientHmacChallengeResponse: HmacChallengeResponse,
    serverHmacChallenge: HmacChallenge,
  },
  { title: 'RequestPairingResponse' },
);

export const PairingErrorResponseSchema = Type.Object(
  {
    errorMessage: StringEnum(PAIRING_ERROR_NAMES, { title: 'PairingErrorName' }),
    additionalInfo: Type.Optional(Type.String()),
  },
  { title: 'PairingResponseErrorMessage' },
);

export const RequestConnectionDetailsRequestSchema = Type.Object(
  { serverHmacChallengeResponse: HmacChallengeResponse },
  { title: 'RequestConnectionDetailsRequest' },
);

export const PostConnectionDetailsRequestSchema = Type.Object(
  { serverHmacChallengeResponse: HmacChallengeResponse, connectionDetails: ConnectionDetailsSchema },
  { title: 'PostConnectionDetailsRequest' },
);

export const FinalizePairingRequestSchema = Type.Object({ success: Type.Boolean() }, { title: 'FinalizePairingRequest' });

export const InitiateSessionRequestSchema = Type.Object(
  {
    clientNodeId: NodeId,
    serverNodeId: NodeId,
    supportedS2MessageVersions: Strings(),
    supportedCommunicationProtocols: Strings(),
    clientNodeDescription: Type.Optional(NodeDescriptionSchema),
    clientEndpointDescription: Type.Optional(EndpointDescriptionSchema),
  },
  { title: 'InitiateSessionRequest' },
);

export const InitiateSessionResponseSchema = Type.Object(
  {
    selectedCommunicationProtocol: Type.String(),
    selectedS2MessageVersion: Type.String(),
    accessToken: AccessToken,
    serverNodeDescription: Type.Optional(NodeDescriptionSchema),
    serverEndpointDescription: Type.Optional(EndpointDescriptionSchema),
  },
  { title: 'InitiateSessionResponse' },
);

export const CommunicationDetailsSchema = Type.Object(
  {
    communicationProtocol: StringEnum(['WebSocket'] as const, { title: 'CommunicationProtocol' }),
    websocketToken: Token('CommunicationToken'),
    websocketUrl: Type.String({ s2Url: 'wss', maxLength: 2048, title: 'WebsocketUrl' }),
  },
  { title: 'WebSocketCommunicationDetails' },
);

export const SessionErrorResponseSchema = Type.Object(
  {
    errorMessage: StringEnum(SESSION_ERROR_NAMES, { title: 'SessionErrorName' }),
    additionalInfo: Type.Optional(Type.String()),
  },
  { title: 'CommunicationDetailsErrorMessage' },
);

export const UnpairRequestSchema = Type.Object({ clientNodeId: NodeId, serverNodeId: NodeId }, { title: 'UnpairRequest' });

export const PreparePairingRequestSchema = Type.Object(
  { clientNodeDescription: NodeDescriptionSchema, clientEndpointDescription: EndpointDescriptionSchema, serverNodeId: NodeId },
  { title: 'PreparePairingRequest' },
);

export const CancelPreparePairingRequestSchema = Type.Object(
  { clientNodeId: NodeId, serverNodeId: NodeId },
  { title: 'CancelPreparePairingRequest' },
);

export const WaitForPairingRequestItemSchema = Type.Object(
  {
    clientNodeId: NodeId,
    clientNodeDescription: Type.Optional(NodeDescriptionSchema),
    clientEndpointDescription: Type.Optional(EndpointDescriptionSchema),
    errorMessage: Type.Optional(StringEnum(WAIT_FOR_PAIRING_ERRORS, { title: 'WaitForPairingError' })),
  },
  { title: 'WaitForPairingRequestItem' },
);

export const WaitForPairingResponseItemSchema = Type.Object(
  { clientNodeId: NodeId, action: StringEnum(WAIT_FOR_PAIRING_ACTIONS, { title: 'WaitForPairingAction' }) },
  { title: 'WaitForPairingResponseItem' },
);

export const WaitForPairingRequestSchema = Type.Array(WaitForPairingRequestItemSchema, { title: 'WaitForPairingRequest' });
export const WaitForPairingResponseSchema = Type.Array(WaitForPairingResponseItemSchema, { minItems: 1, title: 'WaitForPairingResponse' });
export const NodeListSchema = Type.Array(NodeDescriptionSchema, { title: 'NodeList' });
export const ApiVersionsSchema = Type.Array(Type.String(), { title: 'ApiVersions' });

/** The schema of each body kind. */
export const BODY_SCHEMAS: Readonly<Record<BodyKind, TSchema>> = {
  NodeDescription: NodeDescriptionSchema,
  EndpointDescription: EndpointDescriptionSchema,
  NodeList: NodeListSchema,
  ApiVersions: ApiVersionsSchema,
  RequestPairingRequest: RequestPairingRequestSchema,
  RequestPairingResponse: RequestPairingResponseSchema,
  PairingErrorResponse: PairingErrorResponseSchema,
  ConnectionDetails: ConnectionDetailsSchema,
  RequestConnectionDetailsRequest: RequestConnectionDetailsRequestSchema,
  PostConnectionDetailsRequest: PostConnectionDetailsRequestSchema,
  FinalizePairingRequest: FinalizePairingRequestSchema,
  InitiateSessionRequest: InitiateSessionRequestSchema,
  InitiateSessionResponse: InitiateSessionResponseSchema,
  CommunicationDetails: CommunicationDetailsSchema,
  SessionErrorResponse: SessionErrorResponseSchema,
  UnpairRequest: UnpairRequestSchema,
  PreparePairingRequest: PreparePairingRequestSchema,
  CancelPreparePairingRequest: CancelPreparePairingRequestSchema,
  WaitForPairingRequestItem: WaitForPairingRequestItemSchema,
  WaitForPairingRequest: WaitForPairingRequestSchema,
  WaitForPairingResponseItem: WaitForPairingResponseItemSchema,
  WaitForPairingResponse: WaitForPairingResponseSchema,
};
