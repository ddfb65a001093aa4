/**
 * s2-engine — the public API. Everything exported here is supported; anything else is internal.
 */
export * from './typebox/common/index.js';
export * from './typebox/frbc/index.js';
export * from './typebox/ppbc/index.js';
export * from './typebox/ombc/index.js';
export * from './typebox/pebc/index.js';
export * from './typebox/ddbc/index.js';
export {
  MESSAGES,
  MESSAGE_TYPES,
  messageSpec,
  CONTROL_TYPE_OF_SHORT,
  shortOfControlType,
  type MessageType,
  type MessageOf,
  type S2Message,
  type IdentifiedMessage,
} from './typebox/registry.js';
export { CONTROL_TYPE_SHORT, type ControlTypeShort, type MessageArea, type MessageSpec, type Sender } from './typebox/message-spec.js';
export { S2Error, type S2ErrorCode } from './typebox/errors.js';
export type { Problem } from './typebox/problem.js';
export type { IdMode } from './typebox/validators.js';
export { decode, encode, codecFor, Codec, NIL_UUID, diagnosticLabel, type CodecOptions, type DecodeFailure, type DecodeResult } from './codec/index.js';
export { ALL_RULES, checkRules, type Rule, type RuleTable } from './rules/index.js';
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
  DEFAULT_SEND_HIGH_WATER_MARK,
  type Transport,
  type TransportHandlers,
  type WsServer,
  type WsServerOptions,
  type WsClientOptions,
  type ConnectionInfo,
  type BackoffOptions,
} from './transport/index.js';
export { CloseCode, type CloseCodeValue } from './machines/close-codes.js';
export { cemSessionMachine } from './machines/cem-session.js';
export { rmSessionMachine } from './machines/rm-session.js';
export { S2_VERSION, defaultControlTypePolicy, type ControlTypePolicy, type RmDetailsInput } from './machines/session-setup.js';
export type { Role } from './machines/events.js';
export { createInspector, connectInspector, type Inspector, type InspectorOptions, type LocalInspector, type FeedOptions, type Sanitizer } from './inspect/index.js';
