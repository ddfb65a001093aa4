import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { installedCopy } from './installed-copy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'dist/cli/main.js';

/** Runs node in the repo root; resolves with the exit code and output (never rejects on exit ≠ 0). */
async function node(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the built `s2` binary (needs `npm run build` first)', () => {
  beforeAll(() => {
    if (!existsSync(new URL(`../../${MAIN}`, import.meta.url)))
      throw new Error(`${MAIN} is missing: run \`npm run build\` before the tests`);
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

  it('bare s2 prints the usage to stderr and exits 2, nothing on stdout', async () => {
    const r = await node([MAIN]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: s2 <command>/m);
    expect(r.stderr).toMatch(/^\s+rm\s/m);
  });

  it('s2 --version and s2 -v print the version of package.json, exit 0', async () => {
    const { name, version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
    };
    for (const flag of ['--version', '-v']) {
      const r = await node([MAIN, flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stderr, flag).toBe('');
      expect(r.stdout, flag).toBe(`${name} ${version}\n`);
    }
  });

  it('the version is read when asked, from the package.json beside the installed dist (not from the cwd, not built in)', async () => {
    const copy = installedCopy('9.8.7-test.1');
    try {
      // Run from the repository: its own package.json (another version) must not be the one read.
      const r = await node([copy.main, '--version']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('s2-engine 9.8.7-test.1\n');
      expect(r.code).toBe(0);
    } finally {
      copy.remove();
    }
  });

  it("the package resolves itself as 's2-engine' through its exports map", async () => {
    const r = await node(['--input-type=module', '-e', "import('s2-engine').then(m => console.log(Object.keys(m).join(',')))"]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split(',');
    expect(names).toEqual(expect.arrayContaining(['decode', 'encode', 'MESSAGES']));
  });
});
