/**
 * The conformance kit must FAIL deliberately broken implementations, and name the rule each one
 * breaks in the failing scenarios (ids of docs/rules.md). The broken peers are s2-engine's own CEM or
 * RM behind a shim that drops, rewrites or injects frames (peers.ts), on real sockets.
 */
import { PassThrough } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { NIL_UUID } from '../../src/codec/index.js';
import { formatReport, runConformance, type ConformanceReport, type ScenarioResult } from '../../src/testing/index.js';
import { strayInstruction } from '../../src/testing/payloads/cem-messages.js';
import { cemServer, listeningRm, peek, type ShimHooks } from './peers.js';

const failed = (report: ConformanceReport): ScenarioResult[] => report.results.filter((r) => r.outcome === 'fail');
const rulesOf = (r: ScenarioResult): string[] => r.failures.flatMap((f) => f.rules);
const uses = (r: ScenarioResult, ...events: string[]): boolean => r.scenario.events.some((e) => events.includes(e));

describe('the conformance kit against broken implementations', () => {
  it('[R11] an RM that does not answer unreadable frames fails every scenario that sends one, naming R11', async () => {
    // Drops the ReceptionStatus INVALID_DATA (subject: nil UUID) the decision table demands.
    const rm = await listeningRm('OMBC', (): ShimHooks => ({
      out: (text, pass) => (peek(text).subject_message_id === NIL_UUID ? undefined : pass(text)),
    }));
    try {
      const report = await runConformance({ role: 'RM', url: rm.url, timeoutMs: 300 });
      const bad = failed(report);
      const sending = report.results.filter((r) => uses(r, 'INVALID_JSON', 'NO_MESSAGE_ID'));
      expect(sending.length).toBeGreaterThanOrEqual(3);
      expect(bad.map((r) => r.scenario.id).sort(), formatReport(report)).toEqual(sending.map((r) => r.scenario.id).sort());
      for (const r of bad) {
        expect(rulesOf(r), r.scenario.id).toContain('R11');
        const first = r.failures[0]!;
        expect(first.step).toMatch(/^(INVALID_JSON|NO_MESSAGE_ID)$/);
        expect(first.expected).toContain(`ReceptionStatus INVALID_DATA`);
        expect(first.expected).toContain(NIL_UUID);
        expect(first.observed.some((l) => l.startsWith('→ '))).toBe(true);
      }
    } finally {
      await rm.close();
    }
  });

  it('[R12] a CEM that answers every PowerMeasurement twice fails, naming R12', async () => {
    const cem = await cemServer((): ShimHooks => {
      const measurements = new Set<string>();
      return {
        in: (text) => {
          const m = peek(text);
          if (m.message_type === 'PowerMeasurement' && m.message_id) measurements.add(m.message_id);
        },
        out: (text, pass) => {
          pass(text);
          const m = peek(text);
          if (m.message_type === 'ReceptionStatus' && measurements.has(m.subject_message_id ?? '')) pass(text);
        },
      };
    });
    try {
      const report = await runConformance({
        role: 'CEM',
        url: cem.url,
        controlType: 'FRBC',
        timeoutMs: 1000,
        filter: (s) => s.model === 'session',
      });
      const bad = failed(report);
      // The kit's PowerMeasurements: MEASUREMENT, and the early one and the one with an extra field.
      const measuring = report.results.filter((r) => uses(r, 'MEASUREMENT', 'EARLY_MESSAGE', 'SCHEMA_VIOLATION'));
      expect(measuring.length).toBeGreaterThanOrEqual(6);
      expect(bad.map((r) => r.scenario.id).sort(), formatReport(report)).toEqual(measuring.map((r) => r.scenario.id).sort());
      for (const r of bad) expect(rulesOf(r), r.scenario.id).toContain('R12');
    } finally {
      await cem.close();
    }
  });

  it('[R15] a CEM that answers OK to invalid messages fails, naming R15; the CLI exits 1 and writes the failures as JUnit', async () => {
    // Rewrites every INVALID_MESSAGE it should send into OK.
    const cem = await cemServer((): ShimHooks => ({
      out: (text, pass) => pass(peek(text).status === 'INVALID_MESSAGE' ? text.replace('"INVALID_MESSAGE"', '"OK"') : text),
    }));
    try {
      const report = await runConformance({
        role: 'CEM',
        url: cem.url,
        controlType: 'FRBC',
        timeoutMs: 1000,
        filter: (s) => s.model === 'session',
      });
      const bad = failed(report);
      const invalid = report.results.filter((r) => uses(r, 'SCHEMA_VIOLATION', 'UNKNOWN_TYPE'));
      expect(invalid.length).toBeGreaterThanOrEqual(2);
      for (const r of invalid) expect(bad, `${r.scenario.id} must fail`).toContain(r);
      for (const r of bad) {
        expect(rulesOf(r), r.scenario.id).toContain('R15');
        expect(r.failures[0]!.expected).toMatch(/ReceptionStatus INVALID_MESSAGE .*, got OK/);
      }

      // The same through `s2 conformance`: exit status 1, the rule in the table, JUnit with the failure.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-conformance-'));
      const junit = path.join(dir, 'results.xml');
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await runCli(
        ['conformance', '--role', 'cem', '--url', cem.url, '--control-type', 'FRBC', '--timeout', '1000', '--junit', junit],
        { stdout, stderr: new PassThrough(), stdin: new PassThrough() },
      );
      expect(code, out).toBe(1);
      expect(out).toMatch(/cem\.session\.\d+\s+FAIL\s+[^\n]*R15/);
      expect(out).toContain('NOT CONFORMANT');
      const xml = fs.readFileSync(junit, 'utf8');
      expect(xml).toMatch(/<failure type="[^"]*R15[^"]*" message="[^"]*R15[^"]*: ReceptionStatus INVALID_MESSAGE [^"]*, got OK"/);
      expect(xml).toContain('&quot;message_type&quot;');
    } finally {
      await cem.close();
    }
  });

  it('[R39] a CEM that instructs before the RM described anything fails the scenario that waits for the description, naming R39', async () => {
    // When the RM accepts the selection, the broken CEM instructs at once, against nothing.
    const cem = await cemServer((): ShimHooks => {
      const selections = new Set<string>();
      return {
        out: (text, pass) => {
          const m = peek(text);
          if (m.message_type === 'SelectControlType' && m.message_id) selections.add(m.message_id);
          pass(text);
        },
        in: (text, inject) => {
          const m = peek(text);
          if (m.message_type === 'ReceptionStatus' && m.status === 'OK' && selections.has(m.subject_message_id ?? '')) {
            inject(JSON.stringify(strayInstruction('FRBC', Date.now())));
          }
        },
      };
    });
    try {
      const report = await runConformance({
        role: 'CEM',
        url: cem.url,
        controlType: 'FRBC',
        timeoutMs: 1000,
        quietMs: 200,
        filter: (s) => s.model === 'control-type',
      });
      const waiting = report.results.find((r) => r.scenario.title === 'WAIT_QUIET ⇒ awaitingDescription.never');
      expect(waiting?.outcome, formatReport(report)).toBe('fail');
      expect(waiting!.failures[0]!.rules).toEqual(['R39']);
      expect(waiting!.failures[0]!.step).toBe('WAIT_QUIET');
      expect(waiting!.failures[0]!.observed.some((l) => l.includes('"FRBC.Instruction"'))).toBe(true);
      // Every scenario of the activation sees the early instruction: before the kit's description it
      // breaks R39; when it crosses the description it names nothing described (R75).
      for (const r of report.results) {
        expect(r.outcome, r.scenario.id).toBe('fail');
        expect(
          rulesOf(r).some((rule) => rule === 'R39' || rule === 'R75'),
          `${r.scenario.id}: ${rulesOf(r).join(', ')}`,
        ).toBe(true);
      }
    } finally {
      await cem.close();
    }
  });
});
