import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The shipped examples are programs, so they are tested as programs: compiled with tsc under the
 * strictest options a user may have, against the built package (dist/, as `import 's2-engine'`
 * resolves it), then run with node — the CEM and the battery RM against each other on loopback.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);

let dir: string;
let compiled: Promise<void>;

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-examples-'));
  // A consumer project whose `s2-engine` is this repository: its exports map, its dist/.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules/s2-engine'), 'dir');
  fs.symlinkSync(path.join(ROOT, 'node_modules/@types'), path.join(dir, 'node_modules/@types'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  fs.cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        // Library declarations are checked by scripts/check-package.mjs against the packed tarball.
        skipLibCheck: true,
        types: ['node'],
        rootDir: 'examples',
        outDir: 'out',
      },
      include: ['examples'],
    }),
  );
  compiled = run(process.execPath, [TSC, '-p', dir], { cwd: dir }).then(
    () => undefined,
    (err: { stdout?: string; message: string }) => {
      throw new Error(`the examples do not compile:\n${err.stdout || err.message}`);
    },
  );
  compiled.catch(() => undefined); // reported by the tests that await it
}, 10_000);

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Program {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

const started: ChildProcessWithoutNullStreams[] = [];

/** Runs a compiled example with node, as a user would. */
function start(example: string, args: string[], env: Record<string, string> = {}): Program {
  const child = spawn(process.execPath, [path.join(dir, 'out', `${example}.js`), ...args], { cwd: dir, env: { ...process.env, ...env } });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        const m = out.match(re);
        if (m) return resolve(m);
        if (Date.now() - t0 > ms || child.exitCode !== null) return reject(new Error(`${example}: no ${re} in:\n${out}\n${err}`));
        setTimeout(poll, 20);
      };
      poll();
    });
  return { child, exited, stdout: () => out, stderr: () => err, waitFor };
}

describe('examples/ (shipped): they compile under strict options and run', () => {
  it('codec.ts prints decoded messages, INVALID_DATA / INVALID_MESSAGE with problems, and the S2Error of encode', async () => {
    await compiled;
    const codec = start('codec', []);
    expect(await codec.exited).toBe(0);
    expect(codec.stderr()).toBe('');
    const out = codec.stdout();
    expect(out).toContain('present_fill_level = 42.5');
    expect(out).toMatch(/not JSON\n {2}INVALID_DATA for message 00000000-0000-0000-0000-000000000000/);
    expect(out).toContain('- $.operation_mode_factor: must be number (got "0.5")');
    expect(out).toContain('- $.actuator_id: required field is missing');
    expect(out).toMatch(/the same commodity quantity twice\n {2}INVALID_MESSAGE .*\n.*\[R107\]/);
    expect(out).toMatch(/rules: false\)\n {2}ok: PowerMeasurement/);
    expect(out).toMatch(/ids: "uuid" \}\n {2}INVALID_DATA/);
    expect(out).toContain('threw S2Error INVALID_OUTGOING_MESSAGE');
  }, 120_000);

  it('cem.ts instructs frbc-battery-rm.ts, which reports STARTED and SUCCEEDED; both stop cleanly on SIGTERM', async () => {
    await compiled;
    // A bearer token on both sides, as the examples read it from S2_TOKEN.
    const env = { S2_TOKEN: 'example-token' };
    const cem = start('cem', ['0'], env); // port 0: a free port, printed
    const [, url] = await cem.waitFor(/CEM listening on (ws:\/\/127\.0\.0\.1:\d+)/);
    const rm = start('frbc-battery-rm', [url!], env);

    const [, id] = await cem.waitFor(/CEM instruction ([0-9a-f-]{36}) final status: (\w+)/);
    expect(cem.stdout()).toContain(`CEM instruction ${id} final status: SUCCEEDED`);
    for (const status of ['ACCEPTED', 'STARTED', 'SUCCEEDED']) expect(cem.stdout()).toContain(`CEM instruction ${id} is ${status}`);
    expect(cem.stdout()).toContain('CEM selected FILL_RATE_BASED_CONTROL');
    expect(rm.stdout()).toContain(`RM  instruction ${id}: mode 7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f at factor 0.5`);
    expect(rm.stdout()).toContain('RM  switched to charge at factor 0.5: 2750 W');

    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);
    expect(rm.stdout()).toMatch(/RM {2}session closed: 1000 client stopped\nRM {2}stopped\n$/);
    await cem.waitFor(/CEM session closed: 1000/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    expect(cem.stdout()).toMatch(/CEM closed\n$/);
    // Nothing refused, no ReceptionStatus other than OK, no dial failure.
    expect(cem.stderr()).toBe('');
    expect(rm.stderr()).toBe('');
  }, 120_000);
});
