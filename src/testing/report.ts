/**
 * The kit's reports: a plain-text table of scenarios (pass / FAIL / n/a / ERROR) with every
 * failure's rule ids, expected and observed frames, and JUnit XML for CI systems.
 */
import type { ConformanceReport, Outcome, ScenarioResult } from './runner.js';
import type { Scenario } from './scenarios.js';

const SHOWN: Record<Outcome, string> = { pass: 'pass', fail: 'FAIL', skip: 'n/a', error: 'ERROR' };

const rulesOf = (r: ScenarioResult): string => [...new Set(r.failures.flatMap((f) => f.rules))].join(', ');

/** One table row (without a trailing newline). */
export function formatRow(r: ScenarioResult, index: number, width = 110): string {
  const title = r.scenario.title.length > width ? `${r.scenario.title.slice(0, width - 1)}…` : r.scenario.title;
  const rules = r.outcome === 'fail' ? rulesOf(r) : '';
  return `${String(index + 1).padStart(4)}  ${r.scenario.id.padEnd(18)} ${SHOWN[r.outcome].padEnd(5)} ${rules.padEnd(16)} ${String(r.durationMs).padStart(6)} ms  ${title}`;
}

export const TABLE_HEADER = `${'#'.padStart(4)}  ${'scenario'.padEnd(18)} ${'result'.padEnd(5)} ${'rules'.padEnd(16)} ${'time'.padStart(9)}  path ⇒ model state`;

/** Failure details: rule ids, the step, expected, and the frames of that step. */
export function formatFailures(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    if (r.outcome !== 'fail' && r.outcome !== 'error') continue;
    out.push(`${r.scenario.id} — ${r.scenario.title}`);
    if (r.note && r.outcome === 'error') out.push(`  error: ${r.note}`);
    for (const f of r.failures) {
      out.push(`  [${f.rules.join(', ')}] at ${f.step}`);
      out.push(`    expected: ${f.expected}`);
      out.push('    observed:');
      for (const line of f.observed) out.push(`      ${line}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function groupCounts(results: readonly ScenarioResult[]): string {
  const groups = new Map<string, number>();
  for (const r of results) {
    const g = r.scenario.model === 'control-type' ? (r.scenario.controlType ?? '?') : r.scenario.model;
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return [...groups].map(([g, n]) => `${g} ${n}`).join(', ');
}

export function formatSummary(report: ConformanceReport): string {
  const c = report.counts;
  const verdict = c.failed === 0 && c.errors === 0 ? 'CONFORMANT' : 'NOT CONFORMANT';
  return (
    `${c.total} scenarios against the ${report.role} at ${report.target} in S2 ${report.version} (${groupCounts(report.results)}): ` +
    `${c.passed} passed, ${c.failed} failed, ${c.skipped} not applicable, ${c.errors} errors in ${(report.durationMs / 1000).toFixed(1)} s — ${verdict}`
  );
}

/** The whole text report: table, failures, not-applicable notes, summary. */
export function formatReport(report: ConformanceReport): string {
  const lines = [TABLE_HEADER, ...report.results.map((r, i) => formatRow(r, i)), ''];
  const failures = formatFailures(report.results);
  if (failures) lines.push('Failures:', '', failures);
  const skipped = report.results.filter((r) => r.outcome === 'skip');
  if (skipped.length) {
    lines.push('Not applicable:');
    for (const note of new Set(skipped.map((r) => r.note ?? '')))
      lines.push(`  ${skipped.filter((r) => (r.note ?? '') === note).length} × ${note}`);
    lines.push('');
  }
  lines.push(formatSummary(report));
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

/** Text fit for XML 1.0: escaped, without the control characters XML cannot carry. */
export function xmlEscape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- matching the control characters XML 1.0 forbids is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);
const suiteOf = (s: Scenario) => `${s.role} ${s.model === 'control-type' ? `${s.controlType} control type` : s.model}`;

/** JUnit XML: one testsuite per role and model (per control type), one testcase per scenario. */
export function toJUnitXml(report: ConformanceReport): string {
  const suites = new Map<string, ScenarioResult[]>();
  for (const r of report.results) {
    const name = suiteOf(r.scenario);
    suites.set(name, [...(suites.get(name) ?? []), r]);
  }
  const c = report.counts;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(`s2 conformance: ${report.role} at ${report.target} in S2 ${report.version}`)}" tests="${c.total}" failures="${c.failed}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(report.durationMs)}">`,
  ];
  for (const [name, results] of suites) {
    const n = (o: Outcome) => results.filter((r) => r.outcome === o).length;
    const time = results.reduce((t, r) => t + r.durationMs, 0);
    out.push(
      `  <testsuite name="${xmlEscape(`s2 conformance ${name}`)}" tests="${results.length}" failures="${n('fail')}" errors="${n('error')}" skipped="${n('skip')}" time="${seconds(time)}">`,
    );
    for (const r of results) {
      const s = r.scenario;
      const attrs = `classname="${xmlEscape(`s2.conformance.${s.role}.${s.model === 'control-type' ? s.controlType : s.model}`)}" name="${xmlEscape(`${s.id} ${s.title} [${s.rules.join(', ')}]`)}" time="${seconds(r.durationMs)}"`;
      if (r.outcome === 'pass') {
        out.push(`    <testcase ${attrs}/>`);
        continue;
      }
      out.push(`    <testcase ${attrs}>`);
      if (r.outcome === 'skip') out.push(`      <skipped message="${xmlEscape(r.note ?? '')}"/>`);
      if (r.outcome === 'error') out.push(`      <error message="${xmlEscape(r.note ?? 'error')}"/>`);
      // One <failure> per testcase (what every JUnit reader understands), listing every finding.
      const first = r.failures[0];
      if (first) {
        const body = r.failures
          .map((f) =>
            [`[${f.rules.join(', ')}] at ${f.step}`, `expected: ${f.expected}`, 'observed:', ...f.observed.map((l) => `  ${l}`)].join('\n'),
          )
          .join('\n\n');
        out.push(
          `      <failure type="${xmlEscape(rulesOf(r))}" message="${xmlEscape(`${first.rules.join(', ')}: ${first.expected}`)}">${xmlEscape(body)}</failure>`,
        );
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
