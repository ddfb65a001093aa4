import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JudgeSummary, Violation } from '../../src/proxy/judge.js';
import { createReportWriter, formatRecord, junitXml, xmlEscape, type ProxyRecord } from '../../src/proxy/report.js';

const violation = (over: Partial<Violation> = {}): Violation => ({
  session: 's-1',
  side: 'RM',
  rules: ['R39'],
  text: 'RM sent FRBC.ActuatorStatus before FRBC.SystemDescription (R39)',
  expected: 'send FRBC.SystemDescription first',
  messageType: 'FRBC.ActuatorStatus',
  frame: '{"message_type":"FRBC.ActuatorStatus","x":"<&>"}',
  at: '2026-01-01T00:00:00.000Z',
  ...over,
});

const summary = (over: Partial<JudgeSummary> = {}): JudgeSummary => ({
  session: 's-1',
  frames: { CEM: 5, RM: 6 },
  violations: 1,
  version: '1.0.0-beta',
  states: { CEM: 'connected.active.FRBC', RM: 'connected.active.FRBC' },
  rules: { R39: { passed: 0, failed: 1 }, R12: { passed: 9, failed: 0 }, R2: { passed: 6, failed: 0 } },
  ...over,
});

describe('proxy report', () => {
  it('writes one JSON object per line, kind first, and the file holds exactly the records written', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-proxy-report-'));
    const file = path.join(dir, 'r.jsonl');
    const records: ProxyRecord[] = [
      {
        kind: 'frame',
        session: 's-1',
        seq: 1,
        from: 'RM',
        type: 'Handshake',
        id: 'a1',
        ok: true,
        violations: [],
        ts: '2026-01-01T00:00:00.000Z',
      },
      { kind: 'violation', ...violation() },
      { kind: 'summary', ...summary() },
    ];
    const w = createReportWriter(file);
    for (const r of records) w.write(r);
    await w.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l) as unknown)).toEqual(records);
    expect(lines.every((l) => l === '' || l.startsWith('{"kind":'))).toBe(true);
    expect(formatRecord(records[0]!)).toBe(`${lines[0]}\n`);
  });

  it('an unwritable report path throws at once, naming the path', () => {
    const file = path.join(os.tmpdir(), 'no-such-dir-s2', 'x', 'r.jsonl');
    expect(() => createReportWriter(file)).toThrow(/ENOENT.*no-such-dir-s2/);
  });

  it('JUnit: one testsuite per session, one testcase per rule in rule order, a failure with every violation text', () => {
    const xml = junitXml(
      [summary(), summary({ session: 's-2', violations: 0, rules: { R12: { passed: 3, failed: 0 } } })],
      [violation(), violation({ text: 'second one (R39)' })],
    );
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="s2 proxy" tests="4" failures="1" errors="0">')).toBe(
      true,
    );
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="s2 proxy session s-1" tests="3" failures="1" errors="0">');
    // R2 < R12 < R39, numerically.
    expect([...xml.matchAll(/<testcase name="(R\d+)"/g)].map((m) => m[1])).toEqual(['R2', 'R12', 'R39', 'R12']);
    const failure = /<failure message="([^"]*)" type="R39">([^<]*)<\/failure>/.exec(xml);
    expect(failure?.[1]).toBe('2 violation(s) of R39, 0 time(s) held');
    expect(failure?.[2]).toContain('[RM] RM sent FRBC.ActuatorStatus before FRBC.SystemDescription (R39)');
    expect(failure?.[2]).toContain('second one (R39)');
    expect(failure?.[2]).toContain('&lt;&amp;&gt;');
    expect(xml).toContain('<testsuite name="s2 proxy session s-2" tests="1" failures="0" errors="0">');
  });

  it('XML escaping removes what XML 1.0 cannot hold', () => {
    expect(xmlEscape('a\u0000b\u001bc"\'')).toBe('a\uFFFDb\uFFFDc&quot;&apos;');
  });
});
