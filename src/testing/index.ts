/**
 * s2-engine/testing — a model-based conformance kit for OTHER S2 implementations. Scenarios are
 * generated with xstate/graph from test models that mirror s2-engine's statecharts (session,
 * control-type activation, instruction) and run over WebSocket against any CEM or RM: the kit
 * plays the other role, sends realistic S2 payloads (and broken frames), and checks every reply
 * against the rule catalogue (docs/rules.md) — the ReceptionStatus decision table, the order of messages, instruction
 * statuses (R46) and how sessions end.
 *
 * ```ts
 * import { runConformance, formatReport, toJUnitXml } from 's2-engine/testing';
 * const report = await runConformance({ role: 'RM', listen: { port: 8080 } });
 * process.stdout.write(formatReport(report));
 * ```
 *
 * The test models and paths have XState's types (`AnyStateMachine`, xstate/graph), so this entry
 * point loads xstate's type declarations, and those do not compile with `skipLibCheck: false`
 * under `exactOptionalPropertyTypes` (an upstream issue, statelyai/xstate#4613): a project that
 * imports it with that flag needs `skipLibCheck: true`. The engine's entry points (`s2-engine`,
 * `s2-engine/frbc` …, `s2-engine/sim`) never load them.
 *
 * @module s2-engine/testing
 */
export { runConformance, passed, type ConformanceOptions, type ConformanceReport, type ScenarioResult, type Outcome } from './runner.js';
export { cemScenarios, rmScenarios, RM_DISCOVERY, type Scenario, type ScenarioModel, type TestedRole, type RmOffer } from './scenarios.js';
export { formatReport, formatRow, formatFailures, formatSummary, toJUnitXml, xmlEscape, TABLE_HEADER } from './report.js';
export type { Failure } from './kit-base.js';
export {
  rmSessionModel,
  rmControlTypeModel,
  cemSessionModel,
  cemControlTypeModel,
  instructionModel,
  RM_ROLE_EVENTS,
  CEM_ROLE_EVENTS,
  type EventInfo,
  type RmSessionModelConfig,
  type CemControlTypeModelConfig,
} from './models.js';
export { coveringPaths, type ModelPath } from './paths.js';
export * as payloads from './payloads/index.js';
