import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// A smoke run only: the benchmark must fork its CEM and proxy, drive a session straight and through
// the proxy over WebSocket on 127.0.0.1, and print its table. Its numbers are never asserted
// (docs/design.md: no absolute-time assertions in tests), except that the clean session it drives
// produced no violation and every frame was answered.
describe('bench/proxy.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0, prints both paths, the added latency and the proxy CPU, with no error and no violation', { timeout: 30_000 }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bench/proxy.mjs', '--quick'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['direct', 'via proxy']) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+[1-9]\\d*\\s+[\\d.]+\\s+[\\d.]+$`, 'm'));
    expect(r.stdout).toMatch(/^added latency: p50 -?[\d.]+ ms, p99 -?[\d.]+ ms/m);
    expect(r.stdout).toMatch(/^proxy CPU: [\d.]+ µs per RM frame/m);
    expect(r.stdout).toMatch(/^errors: 0 refused, 0 unanswered; violations found by the judge: 0$/m);
  });
});
