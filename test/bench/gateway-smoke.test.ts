import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Smoke run only (N = 20): a CEM child process, an RM-host child with --expose-gc, both modes
// (N × createRmClient, then createRmGateway), every device active, memory and CPU reported over
// IPC. Numbers are never asserted (docs/design.md).
describe('bench/gateway.mjs --quick (needs `npm run build` first)', () => {
  it('exits 0: both modes, every device active, heap and CPU lines, no problems', { timeout: 30_000 }, async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bench/gateway.mjs', '--quick'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const mode of ['clients', 'gateway']) {
      const section = r.stdout.slice(r.stdout.indexOf(`results: ${mode}`));
      expect(section).toMatch(/sessions in FRBC active\s+20 \/ 20/);
      expect(section).toMatch(/RM heap per session\s+-?[\d.]+ (B|KiB|MiB)/);
      expect(section).toMatch(/RM CPU per session \(connect phase\)\s+\d+ µs/);
      expect(section).toMatch(/^\s+problems\s+0$/m);
      expect(r.stdout).toMatch(new RegExp(`^goal \\(${mode}\\): ≤ 30 KiB heap per RM session — .* — (PASS|FAIL)$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^goal \\(${mode}\\): all 20 active within 10 s — .* — (PASS|FAIL)$`, 'm'));
    }
  });
});
