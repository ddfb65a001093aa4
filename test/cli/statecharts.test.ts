/**
 * Where `s2 statecharts` writes when --out is not given: into the s2-engine repository's own
 * docs/statecharts when run from inside that repository, nowhere (a usage error) elsewhere.
 * Processes of the built CLI, because the answer depends on the working directory.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { enclosingRepository } from '../../src/cli/statecharts.js';
import { installedCopy } from './installed-copy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');

function s2(args: string[], cwd: string, main = MAIN): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, 'statecharts', ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 's2-statecharts-cwd-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const REQUIRED =
  's2 statecharts: --out DIR is required outside the s2-engine repository (there is no default folder, so nothing is written into your project by surprise); see s2 statecharts --help\n';

describe('s2 statecharts --out', () => {
  it('outside the repository --out is required: exit 2, one line, nothing written', async () => {
    const project = tempDir();
    for (const args of [[], ['--check']]) {
      const r = await s2(args, project);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(REQUIRED);
    }
    expect(readdirSync(project)).toEqual([]);
  });

  it('outside the repository --out DIR writes there (relative to the cwd); --check tells how to regenerate that folder', async () => {
    const project = tempDir();
    const written = await s2(['--out', 'charts'], project);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(/^s2 statecharts: \d+ files in charts \(\d+ changed\)\n$/);
    expect(readdirSync(path.join(project, 'charts'))).toContain('index.md');
    expect((await s2(['--out', 'charts', '--check'], project)).code).toBe(0);
    writeFileSync(path.join(project, 'charts', 'index.md'), 'edited\n');
    const stale = await s2(['--out', 'charts', '--check'], project);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^s2 statecharts: charts is out of date — run s2 statecharts --out charts\n/);
  });

  it("inside the repository, from any of its folders, the default is the repository's docs/statecharts", async () => {
    const r = await s2(['--check'], path.join(ROOT, 'test', 'cli'));
    // Up to date (0) or stale (1) depends on the work tree; the folder it looked at does not.
    expect(r.code, r.stderr).not.toBe(2);
    expect(`${r.stdout}${r.stderr}`).toMatch(
      /^s2 statecharts: \.\.\/\.\.\/docs\/statecharts is (up to date|out of date — run npm run statecharts)/,
    );
  });

  it('an installed package (no sources) is not the repository, even when run from its own folder', async () => {
    const copy = installedCopy('0.0.0-test');
    cleanups.push(copy.remove);
    const r = await s2([], copy.dir, copy.main);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(REQUIRED);
    expect(readdirSync(copy.dir).sort()).toEqual(['dist', 'node_modules', 'package.json']);
  });

  it('enclosingRepository: the checkout this code runs from when the cwd is inside it, else undefined', () => {
    const repo = realpathSync(ROOT);
    expect(enclosingRepository(ROOT)).toBe(repo);
    expect(enclosingRepository(path.join(ROOT, 'docs'))).toBe(repo);
    expect(enclosingRepository(tempDir())).toBeUndefined();
    expect(enclosingRepository(path.dirname(repo))).toBeUndefined();
    // A made-up checkout: a sibling folder whose name starts with its name is not inside it, and
    // without the sources it is no checkout at all.
    const base = realpathSync(tempDir());
    const checkout = path.join(base, 'repo');
    mkdirSync(path.join(checkout, 'src', 'docs'), { recursive: true });
    mkdirSync(path.join(base, 'repo-other'));
    writeFileSync(path.join(checkout, 'src', 'docs', 'catalogue.ts'), '');
    expect(enclosingRepository(path.join(checkout, 'src'), checkout)).toBe(checkout);
    expect(enclosingRepository(path.join(base, 'repo-other'), checkout)).toBeUndefined();
    rmSync(path.join(checkout, 'src'), { recursive: true });
    expect(enclosingRepository(checkout, checkout)).toBeUndefined();
  });
});
