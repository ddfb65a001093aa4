export {
  connectSession,
  S2Session,
  SESSION_DEFAULTS,
  statePath,
  type SessionOptions,
  type SessionEvents,
  type SendResult,
  type HandlerStatus,
  type MessageHandler,
  type Outgoing,
} from './session.js';
export type { SessionClock, SessionInspector, SessionInspectionEvent, InspectedActor, InspectedSnapshot } from './types.js';
export {
  createCemServer,
  createCemHost,
  type CemHost,
  type CemHostOptions,
  type CemServer,
  type CemServerOptions,
  type CemMetrics,
} from './cem-server.js';
export { createRmClient, type DialledTransport, type RmClient, type RmClientOptions } from './rm-client.js';
export {
  createRmGateway,
  type GatewayDevice,
  type RmGateway,
  type RmGatewayEvents,
  type RmGatewayOptions,
  type RmGatewayStatus,
} from './rm-gateway.js';
export {
  silentLogger,
  createStderrLogger,
  DEFAULT_LOG_INTERVAL_MS,
  type Logger,
  type LogLevel,
  type StderrLogger,
  type StderrLoggerOptions,
} from './logger.js';
export { newUuid } from './ids.js';
export { traceSession } from './trace.js';
export {
  attachRmControlTypes,
  type RmControlTypes,
  type RmControlTypeHandler,
  type RmControlContext,
  type RmInstruction,
  type InstructionDecision,
  type ExecutionStatus,
} from './rm-control.js';
export {
  attachCemControlTypes,
  type CemControlTypes,
  type CemControlTypeHandler,
  type RmMessageHandlers,
  type CemControlContext,
  type CemInstruction,
  type InstructionHandle,
  type InstructionInput,
  type FinalStatus,
} from './cem-control.js';
