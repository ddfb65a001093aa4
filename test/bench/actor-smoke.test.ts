import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// A smoke run only: session actors over in-memory pairs, every throughput row and the idle-memory
// rows. Numbers are never asserted (docs/design.md).
describe('bench/actor.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0 and prints every throughput and memory row', { timeout: 30_000 }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--expose-gc', 'bench/actor.mjs', '--quick'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['memory pair \\+ JSON', 'codec only', 'raw RM → CEM session', 'RM session → CEM session']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+[\\d.]+[kM]?\\s+[\\d.]+ %`, 'm'));
    }
    // the session rows count actor events and must see no refusal
    expect(r.stdout).toMatch(/^raw RM → CEM session .*\s[\d.]+\s+[\d.]+[kM]?\s+0$/m);
    expect(r.stdout).toMatch(/^RM session → CEM session .*\s[\d.]+\s+[\d.]+[kM]?\s+0$/m);
    for (const name of ['CEM session', 'CEM session \\+ descr\\.', 'RM \\+ CEM pair']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+-?[\\d.]+ (B|KiB|MiB)\\s+-?[\\d.]+ (B|KiB|MiB)\\s+\\d+ µs$`, 'm'));
    }
    expect(r.stdout).not.toMatch(/WARNING/);
  });
});
