/**
 * s2-engine — the public API. Everything exported here is supported; anything else is internal.
 *
 * @module s2-engine
 */
export * from './typebox/common/index.js';
export * from './typebox/frbc/index.js';
export * from './typebox/ppbc/index.js';
export * from './typebox/ombc/index.js';
export * from './typebox/pebc/index.js';
export * from './typebox/ddbc/index.js';
export {
  MESSAGES,
  MESSAGES_V1,
  MESSAGE_TYPES,
  messageSpec,
  messageSpecIn,
  messagesOf,
  messageTypesOf,
  CONTROL_TYPE_OF_SHORT,
  shortOfControlType,
  type MessageType,
  type MessageOf,
  type S2Message,
  type IdentifiedMessage,
  type MessageFrom,
  type MessageTypeIn,
  type MessageIn,
  type S2MessageIn,
} from './typebox/registry.js';
export { CONTROL_TYPE_SHORT, type ControlTypeShort, type MessageArea, type MessageSpec, type Sender } from './typebox/message-spec.js';
export { S2_VERSIONS, isS2Version, type S2Version } from './typebox/versions.js';
export { S2Error, type S2ErrorCode } from './typebox/errors.js';
export type { Problem } from './typebox/problem.js';
export type { IdMode } from './typebox/validators.js';
export {
  decode,
  encode,
  codecFor,
  Codec,
  NIL_UUID,
  diagnosticLabel,
  type CodecOptions,
  type DecodeFailure,
  type DecodeResult,
} from './codec/index.js';
export { ALL_RULES, checkRules, type Rule, type RuleTable } from './rules/index.js';
export type { ControlTypeRules } from './rules/knowledge/types.js';
export * from './roles/index.js';
export {
  createMemoryPair,
  createWsServer,
  connectWs,
  createReconnectingClient,
  backoffDelay,
  TransportConnectError,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_SEND_HIGH_WATER_MARK,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_RECEIVE_BYTES_PER_SECOND,
  DEFAULT_RECEIVE_INITIAL_BYTES,
  DEFAULT_RECEIVE_MESSAGES_PER_SECOND,
  DEFAULT_RECEIVE_BURST_MESSAGES,
  type ReceiveBudgetOptions,
  type Transport,
  type TransportHandlers,
  type WsServer,
  type WsServerOptions,
  type WsClientOptions,
  type ConnectionInfo,
  type BackoffOptions,
  type ReconnectOptions,
  type ReconnectingClient,
  type Clock,
  type MemoryPairNames,
  type UpgradeVerdict,
} from './transport/index.js';
export { CloseCode, type CloseCodeValue } from './machines/close-codes.js';
// The statechart objects (cemSessionMachine, rmSessionMachine) are exported by `s2-engine/machines`,
// not here: their types are XState's, and loading xstate's declarations breaks a consumer's
// compilation under exactOptionalPropertyTypes with skipLibCheck false (statelyai/xstate#4613).
// So everything exported here comes from modules whose declarations do not import xstate.
export { S2_VERSION, defaultControlTypePolicy, type ControlTypePolicy, type RmDetailsInput } from './machines/types.js';
// `Role` is the S2 schema of ResourceManagerDetails.roles[] (exported above with the common
// messages); the side a session plays is `SessionRole`.
export type { SessionRole, SessionStatePath, ReportKind, ControlTypeNotice } from './machines/types.js';
export {
  createInspector,
  connectInspector,
  type Inspector,
  type InspectorOptions,
  type LocalInspector,
  type FeedOptions,
  type ViewLimits,
  type Sanitizer,
} from './inspect/index.js';
