/**
 * `s2 conformance` as a user runs it: against `s2 cem` and `s2 rm` PROCESSES (node dist/cli/main.js,
 * built by `npm run build`), on 127.0.0.1, plus the usage errors (exit status 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';
import { runCli } from '../../src/cli/run.js';

const run = runS2;
killCliProcessesAfterEach();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}

describe('s2 conformance', () => {
  it('[R11–R46] passes every scenario against an `s2 cem` process (the kit dials it as an RM; its built-in policy instructs) and writes JUnit', async () => {
    const junit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 's2-conformance-')), 'cem.xml');
    const cem = run(['cem', '--port', '0', '--quiet']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const kit = run(['conformance', '--role', 'cem', '--url', url, '--control-type', 'FRBC', '--timeout', '1000', '--junit', junit]);
    expect(await kit.exited, kit.output()).toBe(0);
    const out = kit.output();
    expect(out).toMatch(
      /60 scenarios against the CEM at ws:\/\/127\.0\.0\.1:\d+ in S2 0\.0\.2-beta \(session 25, FRBC 10, instruction 25\): 60 passed, 0 failed, 0 not applicable, 0 errors .* CONFORMANT/,
    );
    expect(out).not.toContain('FAIL');
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain('tests="60" failures="0" errors="0" skipped="0"');
    expect(xml.match(/<skipped /g)).toBeNull();
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 20_000);

  it('[R22–R41] passes every scenario against an `s2 rm` process that connects to the listening kit', async () => {
    const kit = run(['conformance', '--role', 'rm', '--listen', '0', '--timeout', '1000']);
    const [, url] = await kit.waitFor(/listening on (ws:\/\/127\.0\.0\.1:\d+)/);
    const rm = run(['rm', '--url', url!, '--control-type', 'NOT_CONTROLABLE']);
    expect(await kit.exited, kit.output()).toBe(0);
    expect(kit.output()).toMatch(
      /22 scenarios against the RM at ws:\/\/127\.0\.0\.1:\d+ in S2 0\.0\.2-beta \(discovery 1, session 21\): 22 passed, 0 failed, 0 not applicable, 0 errors .* CONFORMANT/,
    );
    rm.child.kill('SIGTERM');
    await rm.exited;
  }, 30_000);

  it('exits 2 on usage errors, 0 with --help', async () => {
    const usage = [
      ['conformance'],
      ['conformance', '--url', 'ws://127.0.0.1:1'],
      ['conformance', '--role', 'plug', '--url', 'ws://127.0.0.1:1'],
      ['conformance', '--role', 'rm'],
      ['conformance', '--role', 'rm', '--url', 'ws://127.0.0.1:1', '--listen', '0'],
      ['conformance', '--role', 'cem', '--listen', '0'],
      ['conformance', '--role', 'cem', '--url', 'http://127.0.0.1:1'],
      ['conformance', '--role', 'rm', '--listen', 'eighty'],
      ['conformance', '--role', 'rm', '--listen', '0', '--control-type', 'XYZ'],
      ['conformance', '--role', 'cem', '--url', 'ws://127.0.0.1:1', '--control-type', 'NOT_CONTROLABLE'],
      ['conformance', '--role', 'rm', '--listen', '0', '--timeout', '-5'],
      ['conformance', '--role', 'rm', '--listen', '0', '--ids', 'guid'],
      ['conformance', '--role', 'rm', '--listen', '0', '--frobnicate'],
      ['conformance', '--role', 'rm', '--listen', '0', 'extra'],
    ];
    for (const args of usage) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^s2 conformance: .+; see s2 conformance --help\n$/);
    }
    const help = await cli(['conformance', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--role cem|rm');
    expect((await cli(['--help'])).out).toMatch(/conformance\s+test another CEM or RM/);
  });

  it('exits 1 when the implementation cannot be reached', async () => {
    const r = await cli(['conformance', '--role', 'cem', '--url', 'ws://127.0.0.1:1', '--timeout', '500']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ERROR .*|1 errors/);
  });
});

describe('s2 conformance against s2 rm, every control type', () => {
  it.each(['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'])(
    '[R22–R46] an `s2 rm --control-type %s` process passes every scenario',
    async (type) => {
      const kit = run(['conformance', '--role', 'rm', '--listen', '0', '--timeout', '2000']);
      const [, url] = await kit.waitFor(/listening on (ws:\/\/127\.0\.0\.1:\d+)/);
      const rm = run(['rm', '--url', url!, '--control-type', type, '--speed', '600']);
      expect(await kit.exited, kit.output()).toBe(0);
      expect(kit.output()).toMatch(
        /scenarios against the RM at ws:\/\/127\.0\.0\.1:\d+ .*: (\d+) passed, 0 failed, 0 not applicable, 0 errors .* CONFORMANT/,
      );
      rm.child.kill('SIGTERM');
      await rm.exited;
    },
    60_000,
  );
});
