import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// A smoke run only: the benchmark must fork its servers and load generators, drive every row over
// WebSocket on 127.0.0.1 and print its table. Its numbers are never asserted (docs/design.md: no
// absolute-time assertions in tests).
describe('bench/throughput.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0, prints every row with a rate and no error, and the goal line', { timeout: 30_000 }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bench/throughput.mjs', '--quick'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['raw ws', 'raw ws \\+ JSON', 'raw RM → s2 CEM', 's2 RM → s2 CEM']) {
      // name, rate, ratio, noise, server CPU, client CPU, µs/msg, errors = 0
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+[\\d.]+[kM]?\\s+\\d+ %\\s+\\d+%\\s+\\d+ %\\s+\\d+ %\\s+[\\d.]+\\s+0$`, 'm'));
    }
    expect(r.stdout).toMatch(/^goal: s2 RM → s2 CEM ≥ 50 % of raw ws — \d+ % — (PASS|FAIL)$/m);
    expect(r.stdout).not.toMatch(/WARNING/);
  });
});
