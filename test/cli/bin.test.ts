import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'dist/cli/main.js';

/** Runs node in the repo root; resolves with the exit code and output (never rejects on exit ≠ 0). */
async function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the built `s2` binary (needs `npm run build` first)', () => {
  beforeAll(() => {
    if (!existsSync(new URL(`../../${MAIN}`, import.meta.url))) throw new Error(`${MAIN} is missing: run \`npm run build\` before the tests`);
  });

  it('s2 --help exits 0 and lists validate', async () => {
    const r = await node([MAIN, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+validate\s/m);
  });

  it('s2 nope exits 2 with an error on stderr', async () => {
    const r = await node([MAIN, 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'nope'/);
  });

  it("the package resolves itself as 's2-engine' through its exports map", async () => {
    const r = await node(['--input-type=module', '-e', "import('s2-engine').then(m => console.log(Object.keys(m).join(',')))"]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split(',');
    expect(names).toEqual(expect.arrayContaining(['decode', 'encode', 'MESSAGES']));
  });
});
