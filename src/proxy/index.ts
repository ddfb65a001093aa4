/**
 * s2-engine/proxy — the checking relay behind `s2 proxy`: `createProxy` relays every frame between
 * RMs and a CEM unchanged and judges both sides with the engine's own statecharts (one observing
 * shadow session per side); `createSessionJudge` judges a session from frames you give it; the
 * report writers produce JSON lines and JUnit (docs/proxy.md).
 *
 * ```ts
 * import { createProxy } from 's2-engine/proxy';
 * const proxy = await createProxy({ upstream: 'ws://127.0.0.1:8080', onRecord: (r) => console.log(r) });
 * ```
 *
 * @module s2-engine/proxy
 */
export {
  createSessionJudge,
  decodeRules,
  rulesOf,
  type FrameVerdict,
  type JudgeOptions,
  type JudgeSummary,
  type SessionJudge,
  type Side,
  type Violation,
} from './judge.js';
export { createProxy, type Proxy, type ProxyOptions, type ProxySession } from './relay.js';
export {
  createReportWriter,
  formatRecord,
  junitXml,
  writeJunit,
  type FrameRecord,
  type ProxyRecord,
  type ReportWriter,
  type SummaryRecord,
  type ViolationRecord,
} from './report.js';
