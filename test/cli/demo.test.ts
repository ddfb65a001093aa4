/**
 * `s2 demo` as a user runs it (needs `npm run build` first): the built CLI starts a CEM and one
 * simulated RM per control type over real WebSockets, and must end with exit status 0, five CEM
 * and five RM sessions in `connected.active.<TYPE>`, no protocol error and at least one SUCCEEDED
 * instruction. `npm start` runs the same demo; `--trace FILE` writes JSON lines.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'dist/cli/main.js';
const TYPES = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'] as const;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in the repository root; never rejects on a non-zero exit (kills it after `timeoutMs`). */
function run(command: string, args: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The summary table's rows: role, last state, refused count. */
function summaryRows(stdout: string): Array<{ role: string; version: string; state: string; refused: number }> {
  const summary = stdout.slice(stdout.lastIndexOf('\nSummary\n'));
  return [...summary.matchAll(/^(CEM|RM)\s+.*?\s(\d+\.\d+\.\d+-\S+|-)\s+(connected\.\S+|handshake|\S+)\s+(\d+)\s+(\d+)\s+(\d+)$/gm)].map(
    (m) => ({
      role: m[1] as string,
      version: m[2] as string,
      state: m[3] as string,
      refused: Number(m[6]),
    }),
  );
}

describe('s2 demo (the built CLI)', () => {
  let dir: string;
  let demo: Run;
  let traceFile: string;
  let npmStart: Run;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, MAIN))) throw new Error(`${MAIN} is missing: run \`npm run build\` before the tests`);
    dir = mkdtempSync(join(tmpdir(), 's2-demo-'));
    traceFile = join(dir, 'trace.jsonl');
    // Both at once: the demo runs for a fixed time, so the two runs need not wait for each other.
    [demo, npmStart] = await Promise.all([
      run(process.execPath, [MAIN, 'demo', '--seconds', '3', '--trace', traceFile]),
      run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['start', '--silent', '--', '--seconds', '2']),
    ]);
  }, 30_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('[R34, R36, R41] `node dist/cli/main.js demo --seconds 3` exits 0 with five CEM and five RM sessions, each in connected.active.<TYPE>', () => {
    expect(demo.stderr).toBe('');
    expect({ code: demo.code, signal: demo.signal }).toEqual({ code: 0, signal: null });
    const rows = summaryRows(demo.stdout);
    for (const role of ['CEM', 'RM']) {
      const states = rows
        .filter((r) => r.role === role)
        .map((r) => r.state)
        .sort();
      expect(states, `${role} sessions`).toEqual(TYPES.map((t) => `connected.active.${t}`).sort());
    }
    expect(
      rows.every((r) => r.refused === 0),
      'no refused frame in any session',
    ).toBe(true);
  });

  it('[R26, R27] runs devices on each S2 version, says which at the start, at every handshake and in the summary', () => {
    expect(demo.stdout).toContain(
      's2 demo: the CEM speaks S2 1.0.0-beta, 0.0.2-beta; the devices: FRBC 0.0.2-beta, PPBC 0.0.2-beta, OMBC 0.0.2-beta, PEBC 1.0.0-beta, DDBC 1.0.0-beta',
    );
    expect(demo.stdout.match(/✓ handshake: S2 1\.0\.0-beta/g)).toHaveLength(4);
    expect(demo.stdout.match(/✓ handshake: S2 0\.0\.2-beta/g)).toHaveLength(6);
    const rows = summaryRows(demo.stdout);
    const versionOf = (type: string) => rows.filter((r) => r.state === `connected.active.${type}`).map((r) => r.version);
    for (const t of ['PEBC', 'DDBC']) expect(versionOf(t), t).toEqual(['1.0.0-beta', '1.0.0-beta']);
    for (const t of ['FRBC', 'PPBC', 'OMBC']) expect(versionOf(t), t).toEqual(['0.0.2-beta', '0.0.2-beta']);
    // DDBC in 1.0.0-beta: the heat buffer sends its present demand in DDBC.PresentDemandStatus.
    expect(demo.stdout).toMatch(/RM .*→ DDBC\.PresentDemandStatus/);
    expect(demo.stdout).toMatch(/S2 versions: 4 on 1\.0\.0-beta, 6 on 0\.0\.2-beta\)\.$/m);
  });

  it('[R11, R16, R44] the summary says "No protocol errors" and counts at least one SUCCEEDED instruction', () => {
    expect(demo.stdout).toMatch(/^No protocol errors \(10 sessions; /m);
    expect(demo.stdout).not.toMatch(/protocol error\(s\)/);
    const finals = /^Instructions given by the CEM: (\d+); final statuses: (.*)$/m.exec(demo.stdout);
    expect(finals, 'the instruction summary line').not.toBeNull();
    expect(Number(finals?.[1])).toBeGreaterThan(0);
    expect(Number(/SUCCEEDED (\d+)/.exec(finals?.[2] ?? '')?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('[R22, R28, R39] `--trace FILE` writes JSON lines with send, recv, state and close events of all ten sessions', () => {
    const lines = readFileSync(traceFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThan(50);
    const entries = lines.map(
      (l) =>
        JSON.parse(l) as {
          ts: string;
          session: string;
          role: string;
          event: string;
          message?: { message_type?: string };
          state?: string;
          code?: number;
          version?: string;
        },
    );
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(e.ts)), `ts of ${JSON.stringify(e)}`).toBe(false);
      expect(['CEM', 'RM']).toContain(e.role);
      expect(['send', 'recv', 'state', 'handshake', 'close']).toContain(e.event);
    }
    expect(new Set(entries.map((e) => e.event))).toEqual(new Set(['send', 'recv', 'state', 'handshake', 'close']));
    expect(new Set(entries.map((e) => e.session)).size).toBe(10);
    const sends = entries.filter((e) => e.event === 'send');
    expect(sends.every((e) => typeof e.message?.message_type === 'string')).toBe(true);
    // Every control type's instructions went over the wire, and the states reached every active type.
    for (const t of TYPES) {
      expect(
        sends.some((e) => e.role === 'CEM' && e.message?.message_type?.startsWith(`${t}.`) && /Instruction$/.test(e.message.message_type)),
        `a ${t} instruction`,
      ).toBe(true);
      expect(
        entries.some((e) => e.event === 'state' && e.state === `connected.active.${t}`),
        `state active.${t}`,
      ).toBe(true);
    }
    expect(entries.filter((e) => e.event === 'close')).toHaveLength(10);
    // Each session traces the version it selected: DDBC and PEBC in 1.0.0-beta, the others in 0.0.2-beta.
    const handshakes = entries.filter((e) => e.event === 'handshake');
    expect(handshakes).toHaveLength(10);
    expect(handshakes.filter((e) => e.version === '1.0.0-beta')).toHaveLength(4);
    expect(handshakes.filter((e) => e.version === '0.0.2-beta')).toHaveLength(6);
    // R22, R28: every session's first message is its Handshake, and each RM announces its details only after it.
    const bySession = new Map<string, typeof sends>();
    for (const e of sends) bySession.set(e.session, [...(bySession.get(e.session) ?? []), e]);
    for (const [session, own] of bySession) {
      expect(own[0]?.message?.message_type, `first message of ${session}`).toBe('Handshake');
      const details = own.findIndex((e) => e.message?.message_type === 'ResourceManagerDetails');
      if (own[0]?.role !== 'RM') continue;
      expect(details, `RM ${session} sends ResourceManagerDetails after its Handshake`).toBeGreaterThan(0);
      // R39: the first control-type message an RM sends describes its flexibility.
      const first = own.find((e) => /^(FRBC|PPBC|OMBC|PEBC|DDBC)\./.test(e.message?.message_type ?? ''));
      expect(first?.message?.message_type, `first control-type message of RM ${session}`).toMatch(
        /^(FRBC|OMBC|DDBC)\.SystemDescription$|^PEBC\.PowerConstraints$|^PPBC\.PowerProfileDefinition$/,
      );
    }
  });

  it('[R34, R41] `npm start -- --seconds 2` runs the same demo and exits 0', () => {
    expect({ code: npmStart.code, signal: npmStart.signal }).toEqual({ code: 0, signal: null });
    expect(npmStart.stdout).toMatch(/^No protocol errors \(10 sessions; /m);
  });
});
