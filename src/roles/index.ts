export { connectSession, S2Session, SESSION_DEFAULTS, statePath, type SessionOptions, type SessionEvents, type SendResult, type HandlerStatus, type MessageHandler, type Outgoing } from './session.js';
export { createCemServer, type CemServer, type CemServerOptions, type CemMetrics } from './cem-server.js';
export { createRmClient, type RmClient, type RmClientOptions } from './rm-client.js';
export { silentLogger, type Logger } from './logger.js';
export { newUuid } from './ids.js';
export { traceSession } from './trace.js';
export { attachRmControlTypes, type RmControlTypes, type RmControlTypeHandler, type RmControlContext, type InstructionDecision } from './rm-control.js';
export { attachCemControlTypes, type CemControlTypes, type CemControlTypeHandler, type CemControlContext, type InstructionHandle, type InstructionInput, type FinalStatus } from './cem-control.js';
