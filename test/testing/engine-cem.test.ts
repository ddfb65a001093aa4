/**
 * The conformance kit against s2-engine's own CEM (createCemServer with the simulated CEM policy):
 * every generated scenario, for all five control types, must pass — the kit plays the RM over
 * real WebSockets on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCemServer, type CemServer } from '../../src/roles/cem-server.js';
import { createCemPolicy } from '../../src/sim/index.js';
import { formatReport, runConformance, toJUnitXml, type ConformanceReport } from '../../src/testing/index.js';

let server: CemServer;
let report: ConformanceReport;

beforeAll(async () => {
  server = await createCemServer({ port: 0, host: '127.0.0.1', controlTypes: createCemPolicy() });
  report = await runConformance({ role: 'CEM', url: server.url, ids: 'uuid', timeoutMs: 2000, quietMs: 150 });
}, 30_000);

afterAll(async () => {
  await server.close();
});

describe('the conformance kit against s2-engine’s CEM (createCemServer + createCemPolicy)', () => {
  it('[R11–R105] passes every scenario of every model and control type', () => {
    const notPassed = report.results.filter((r) => r.outcome !== 'pass');
    expect(notPassed.length, formatReport(report)).toBe(0);
    expect(report.counts).toMatchObject({ passed: report.counts.total, failed: 0, skipped: 0, errors: 0 });
  });

  it('runs the session model once, the control-type model per type and the instruction model over all types', () => {
    const groups: Record<string, number> = {};
    for (const r of report.results) {
      const k = r.scenario.model === 'control-type' ? r.scenario.controlType! : r.scenario.model;
      groups[k] = (groups[k] ?? 0) + 1;
    }
    expect(groups).toEqual({ session: 25, FRBC: 10, PPBC: 10, OMBC: 10, PEBC: 8, DDBC: 10, instruction: 25 });
    const instructionTypes = new Set(report.results.filter((r) => r.scenario.model === 'instruction').map((r) => r.scenario.controlType));
    expect([...instructionTypes].sort()).toEqual(['DDBC', 'FRBC', 'OMBC', 'PEBC', 'PPBC']);
  });

  it('writes JUnit XML with one testcase per scenario and no failure', () => {
    const xml = toJUnitXml(report);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml.match(/<testcase /g)?.length).toBe(report.counts.total);
    expect(xml).not.toContain('<failure');
    expect(xml).toContain(`tests="${report.counts.total}" failures="0" errors="0" skipped="0"`);
  });
});
