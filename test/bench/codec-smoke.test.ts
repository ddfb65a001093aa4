import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// A smoke run only: the benchmark must start, decode every fixture and print its table. Its
// numbers are never asserted (docs/design.md: no absolute-time assertions in tests).
describe('bench/codec.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0 and prints the mix row and the goal line', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bench/codec.mjs', '--quick'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mix\s+\d+\s+[\d.]+[kM]?\s+[\d.]+[kM]?\s+[\d.]+×/m);
    expect(r.stdout).toMatch(/process start to first decode\s+[\d.]+/);
    expect(r.stdout).toMatch(/^goal: .* (PASS|FAIL)$/m);
    expect(r.stdout).not.toMatch(/WARNING/);
  });
});
