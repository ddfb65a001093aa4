import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// A smoke run only: the benchmark must fork its CEM and flooder, run both budget modes with the
// flood off and on, and print its table, the flooder lines and the goal line. Its numbers are never
// asserted (docs/design.md: no absolute-time assertions in tests).
describe('bench/flood.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0 and prints every row, the flooder lines and the goal line', { timeout: 60_000 }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bench/flood.mjs', '--quick'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const budgets of ['on', 'off']) {
      for (const flood of ['off', 'on']) {
        // name, samples, p50, p99, max, count above 50 ms, CEM CPU
        expect(r.stdout).toMatch(
          new RegExp(`^budgets ${budgets} / flood ${flood}\\s+\\d+\\s+[\\d.]+ ms\\s+[\\d.]+ ms\\s+[\\d.]+ ms\\s+\\d+\\s+\\d+ %$`, 'm'),
        );
      }
    }
    // With budgets on the flooder is closed with 4003; without, it is not.
    expect(r.stdout).toMatch(
      /^flooder, budgets on: \d+ frame\(s\) sent; closed 4003 after [\d.]+ ms \(byte budget exceeded: 4194304-byte frame/m,
    );
    expect(r.stdout).toMatch(/^flooder, budgets off: \d+ frame\(s\) sent; /m);
    expect(r.stdout).toMatch(/^problems \(well-behaved sessions refused, closed or not active\)\s+0$/m);
    expect(r.stdout).toMatch(/^goal: p99 < 50 ms for the other sessions while one peer floods \(budgets on\) — [\d.]+ ms — (PASS|FAIL)$/m);
  });
});
