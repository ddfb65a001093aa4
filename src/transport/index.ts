/**
 * Transport layer: text frames in, text frames out, one close. Knows nothing about S2 messages;
 * the session layer runs over any {@link Transport}.
 */
export {
  CloseCode,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SEND_HIGH_WATER_MARK,
  type CloseCodeValue,
  type Transport,
  type TransportHandlers,
} from './transport.js';
export {
  DEFAULT_RECEIVE_BURST_MESSAGES,
  DEFAULT_RECEIVE_BYTES_PER_SECOND,
  DEFAULT_RECEIVE_INITIAL_BYTES,
  DEFAULT_RECEIVE_MESSAGES_PER_SECOND,
  RECEIVE_BURST_HEADROOM_BYTES,
  type ReceiveBudgetOptions,
} from './budget.js';
export { createMemoryPair, type MemoryPairNames } from './memory.js';
export {
  createWsServer,
  DEFAULT_MAX_HEADER_BYTES,
  type ConnectionInfo,
  type UpgradeVerdict,
  type WsServer,
  type WsServerOptions,
} from './ws-server.js';
export { connectWs, TransportConnectError, type WsClientOptions } from './ws-client.js';
export {
  backoffDelay,
  createReconnectingClient,
  type BackoffOptions,
  type Clock,
  type ReconnectOptions,
  type ReconnectingClient,
} from './reconnect.js';
