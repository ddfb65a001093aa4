import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function bench(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bench/sessions.mjs', '--quick', ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

// Smoke runs only (tiny N): a CEM child process, load-generator children, every session to FRBC
// active, memory and CPU reported over IPC. Numbers are never asserted (docs/design.md).
describe('bench/sessions.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0: every session active, memory, latency and CPU lines, no problems', { timeout: 30_000 }, async () => {
    const r = await bench([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sessions in FRBC active\s+20 \/ 20/);
    expect(r.stdout).toMatch(/handshake→active p50 \/ p99 \(CEM\)\s+[\d.]+ ms \/ [\d.]+ ms/);
    expect(r.stdout).toMatch(/CEM heap per session\s+-?[\d.]+ (B|KiB|MiB)/);
    expect(r.stdout).toMatch(/CEM CPU per 1,000 measurements\/s\s+[\d.]+ %/);
    expect(r.stdout).toMatch(/^\s+problems\s+0$/m);
    expect(r.stdout).toMatch(/^goal: ≤ \d+ KiB CEM heap per session — .* — (PASS|FAIL)$/m);
    expect(r.stdout).not.toMatch(/WARNING/);
  });

  it('--workers 2 --client raw: a cluster CEM and scripted RMs', { timeout: 30_000 }, async () => {
    const r = await bench(['--workers', '2', '--client', 'raw']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cluster primary \+ 2 workers/);
    expect(r.stdout).toMatch(/sessions in FRBC active\s+20 \/ 20/);
    expect(r.stdout).toMatch(/^\s+problems\s+0$/m);
  });

  it(
    '--cem raw --client raw: the floor, a plain ws CEM with canned replies, takes every session to FRBC active',
    { timeout: 30_000 },
    async () => {
      const r = await bench(['--cem', 'raw', '--client', 'raw']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/raw ws with canned replies, no S2 engine: the floor/);
      expect(r.stdout).toMatch(/sessions in FRBC active\s+20 \/ 20/);
      expect(r.stdout).toMatch(/CEM CPU per handshake \(connect phase\)\s+\d+ µs/);
      expect(r.stdout).toMatch(/^\s+problems\s+0$/m);
      expect(r.stdout).toMatch(/^goals: not judged for --cem raw/m);
      expect(r.stdout).not.toMatch(/^goal:/m);
    },
  );

  it('--cem cli --workers 2 --client raw: the real `s2 cem --workers 2`, read by bench/_cem-agent.mjs', { timeout: 30_000 }, async () => {
    const r = await bench(['--cem', 'cli', '--workers', '2', '--client', 'raw']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/s2 cem --workers 2 --quiet/);
    expect(r.stdout).toMatch(/sessions in FRBC active\s+20 \/ 20/);
    expect(r.stdout).toMatch(/CEM heap per session\s+-?[\d.]+ (B|KiB|MiB)/);
    expect(r.stdout).toMatch(/of which the cluster primary\s+\d+ µs/);
    expect(r.stdout).toMatch(/^\s+problems\s+0$/m);
    expect(r.stdout).toMatch(/^goal: p99 handshake→active < 250 ms at 200 connects\/s \(RM view\) — [\d.]+ ms — (PASS|FAIL)$/m);
  });
});
