import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

killCliProcessesAfterEach();

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Record<string, unknown>;

const readLines = (file: string): Array<Record<string, unknown>> =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A hand-written RM that does everything right up to the selection of FRBC, then sends an
 * FRBC.ActuatorStatus before any FRBC.SystemDescription (R39). It answers every message with OK.
 */
function brokenRm(url: string): Promise<void> {
  const ws = new WebSocket(url);
  const send = (m: Record<string, unknown>) => ws.send(JSON.stringify(m));
  ws.on('open', () =>
    send({ message_type: 'Handshake', message_id: randomUUID(), role: 'RM', supported_protocol_versions: ['0.0.2-beta'] }),
  );
  ws.on('message', (data) => {
    const m = JSON.parse((data as Buffer).toString('utf8')) as { message_type: string; message_id?: string; control_type?: string };
    if (m.message_type === 'ReceptionStatus') return;
    send({ message_type: 'ReceptionStatus', subject_message_id: m.message_id, status: 'OK' });
    if (m.message_type === 'HandshakeResponse') send({ ...fixture('ResourceManagerDetails'), message_id: randomUUID() });
    if (m.message_type === 'SelectControlType' && m.control_type === 'FILL_RATE_BASED_CONTROL')
      send({ ...fixture('FRBC.ActuatorStatus'), message_id: randomUUID() });
  });
  return new Promise((resolve) => ws.on('close', () => resolve()));
}

describe('s2 proxy (needs `npm run build`)', () => {
  it('s2 rm ⇄ s2 proxy ⇄ s2 cem, FRBC: every frame relayed and judged, zero violations, report + JUnit, exit 0 after --seconds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-proxy-cli-'));
    const report = path.join(dir, 'report.jsonl');
    const junit = path.join(dir, 'junit.xml');
    const cem = runS2(['cem', '--quiet']);
    const [cemUrl] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const proxy = runS2(['proxy', '--upstream', cemUrl, '--report', report, '--junit', junit, '--seconds', '3']);
    const [, proxyUrl] = await proxy.waitFor(/s2 proxy listening on (ws:\/\/127\.0\.0\.1:\d+)/);
    const rm = runS2(['rm', '--url', proxyUrl!, '--control-type', 'FRBC', '--seconds', '1.5', '--speed', '20']);
    expect(await rm.exited).toBe(0);
    expect(rm.output()).toMatch(/@ connected\.active\.FRBC/);
    expect(await proxy.exited).toBe(0);
    expect(proxy.output()).toMatch(/s2 proxy: 1 session\(s\), 0 violation\(s\)/);
    expect(proxy.output()).not.toContain('✗');
    const records = readLines(report);
    const frames = records.filter((r) => r.kind === 'frame');
    expect(frames.filter((r) => r.from === 'RM').length).toBeGreaterThan(5);
    expect(frames.filter((r) => r.from === 'CEM').length).toBeGreaterThan(5);
    expect(frames.every((r) => r.ok === true)).toBe(true);
    expect(frames.map((r) => r.type)).toEqual(
      expect.arrayContaining(['Handshake', 'HandshakeResponse', 'SelectControlType', 'FRBC.SystemDescription']),
    );
    expect(records.filter((r) => r.kind === 'violation')).toEqual([]);
    const summaries = records.filter((r) => r.kind === 'summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ violations: 0, close: { by: 'RM', code: 1000 } });
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="s2 proxy" tests="[1-9]\d*" failures="0" errors="0">/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  });

  it('[R39] an RM that sends FRBC.ActuatorStatus before the description: one violation line (RM, R39), in the report and in JUnit, exit 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-proxy-cli-'));
    const report = path.join(dir, 'report.jsonl');
    const junit = path.join(dir, 'junit.xml');
    const cem = runS2(['cem', '--quiet']);
    const [cemUrl] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const proxy = runS2(['proxy', '--upstream', cemUrl, '--report', report, '--junit', junit, '--seconds', '2', '--quiet']);
    const [, proxyUrl] = await proxy.waitFor(/s2 proxy listening on (ws:\/\/127\.0\.0\.1:\d+)/);
    const rmDone = brokenRm(proxyUrl!);
    await proxy.waitFor(/✗ \S+ RM (?:R\d+,)*R39\b/);
    expect(await proxy.exited).toBe(1);
    await rmDone;
    const lines = proxy
      .output()
      .split('\n')
      .filter((l) => l.includes('✗'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ RM (?:R\d+,)*R39(?:,R\d+)*: RM sent FRBC\.ActuatorStatus .*FRBC\.SystemDescription/);
    expect(proxy.output()).toMatch(/s2 proxy: 1 session\(s\), 1 violation\(s\) \(.*R39 ×1.*\)/);
    const records = readLines(report);
    const violations = records.filter((r) => r.kind === 'violation');
    expect(violations).toEqual([
      expect.objectContaining({ side: 'RM', rules: expect.arrayContaining(['R39']) as unknown, messageType: 'FRBC.ActuatorStatus' }),
    ]);
    expect(records.find((r) => r.kind === 'frame' && r.type === 'FRBC.ActuatorStatus')).toMatchObject({
      from: 'RM',
      ok: false,
      violations: expect.arrayContaining(['R39']) as unknown,
    });
    expect(records.filter((r) => r.kind === 'summary')).toEqual([
      expect.objectContaining({ violations: 1, close: { by: 'proxy', code: 1001, reason: 'proxy shutting down' } }),
    ]);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase name="R39" [^>]*>\s*<failure message="1 violation\(s\) of R39[^"]*" type="R39">\[RM\] RM sent FRBC\.ActuatorStatus/,
    );
    expect(xml).toMatch(/<testsuites name="s2 proxy" tests="\d+" failures="[1-9]\d*"/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  });

  it('usage errors exit 2: no --upstream, a non-ws upstream, an unwritable --report', async () => {
    const cases = [
      [['proxy'], '--upstream is required'],
      [['proxy', '--upstream', 'http://x'], '--upstream must be a ws:// or wss:// URL'],
      [
        ['proxy', '--upstream', 'ws://127.0.0.1:1', '--report', '/nonexistent-dir-s2/r.jsonl'],
        '--report /nonexistent-dir-s2/r.jsonl: ENOENT',
      ],
    ] as const;
    const runs = cases.map(([args]) => runS2([...args]));
    for (const [i, [, text]] of cases.entries()) {
      expect(await runs[i]!.exited).toBe(2);
      expect(runs[i]!.output()).toContain(text);
    }
  });
});
