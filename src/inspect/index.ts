export { createInspector, type Inspector, type InspectorOptions, type LocalInspector } from './inspector.js';
export { connectInspector, type FeedOptions } from './feed.js';
export { startInspectorServer, type InspectorServer, type InspectorServerOptions } from './server.js';
export {
  ViewStore,
  DEFAULT_LIMITS,
  type ActorView,
  type InspectorOp,
  type InstructionView,
  type MessageEntry,
  type SessionHeader,
  type SessionSnapshot,
  type ViewLimits,
} from './model.js';
export type { Sanitizer } from './sanitize.js';
