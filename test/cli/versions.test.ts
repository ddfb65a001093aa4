/**
 * S2 JSON versions on the command line (issue 12): `--versions V[,V…]` on `s2 cem`, `s2 rm` and
 * `s2 demo` (checked against S2_VERSIONS, a usage error names the known ones), passed to the
 * sessions and to S2 Connect; the version each session selected is printed at its handshake and
 * written to the trace. The processes are the built CLI (`npx tsc -p tsconfig.build.json` first),
 * everything on 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVersions } from '../../src/cli/common.js';
import { runCli } from '../../src/cli/run.js';
import { logSession } from '../../src/cli/session-log.js';
import { traceSession } from '../../src/roles/trace.js';
import { S2Error } from '../../src/typebox/errors.js';
import { handshake } from '../support/e2e-messages.js';
import { memorySession } from '../support/memory-peer.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

killCliProcessesAfterEach();
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 's2-versions-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

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

const KNOWN = '(known: 1.0.0-beta, 0.0.2-beta)';

describe('--versions: parsing', () => {
  it('takes S2_VERSIONS entries, most preferred first, in the order given', () => {
    expect(parseVersions(undefined)).toBeUndefined();
    expect(parseVersions('1.0.0-beta')).toEqual(['1.0.0-beta']);
    expect(parseVersions('0.0.2-beta,1.0.0-beta')).toEqual(['0.0.2-beta', '1.0.0-beta']);
    expect(parseVersions(' 1.0.0-beta , 0.0.2-beta ')).toEqual(['1.0.0-beta', '0.0.2-beta']);
  });

  it('[R25, R27] refuses "0.0.2", "v1", a semver range, an empty entry and a repeat, naming the known versions', () => {
    const message = (value: string) => {
      try {
        parseVersions(value);
      } catch (err) {
        expect(err).toBeInstanceOf(S2Error);
        expect((err as S2Error).code).toBe('INVALID_OPTIONS');
        return (err as Error).message;
      }
      throw new Error(`'${value}' was accepted`);
    };
    expect(message('0.0.2')).toBe(`--versions: unknown S2 version '0.0.2' ${KNOWN}`);
    expect(message('v1')).toBe(`--versions: unknown S2 version 'v1' ${KNOWN}`);
    expect(message('>=0.0.2-beta')).toBe(`--versions: unknown S2 version '>=0.0.2-beta' ${KNOWN}`);
    expect(message('1.0.0-beta,')).toMatch(/empty entry in '1\.0\.0-beta,'/);
    expect(message('1.0.0-beta,1.0.0-beta')).toBe('--versions names 1.0.0-beta twice');
  });

  it('is a usage error (exit 2, one line naming the known versions) on s2 rm, s2 cem, s2 demo; --version on s2 conformance', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['rm', '--url', 'ws://127.0.0.1:9', '--control-type', 'FRBC', '--versions', '0.0.2'],
        `s2 rm: --versions: unknown S2 version '0.0.2' ${KNOWN}`,
      ],
      [['cem', '--versions', 'v1'], `s2 cem: --versions: unknown S2 version 'v1' ${KNOWN}`],
      [['demo', '--versions', '1.0.0'], `s2 demo: --versions: unknown S2 version '1.0.0' ${KNOWN}`],
      [
        ['conformance', '--role', 'cem', '--url', 'ws://127.0.0.1:9', '--version', '0.0.2'],
        `s2 conformance: --version: unknown S2 version '0.0.2' ${KNOWN}`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await cli(args);
      expect({ code: r.code, err: r.err, out: r.out }, args.join(' ')).toEqual({
        code: 2,
        err: `${line}; see s2 ${args[0]} --help\n`,
        out: '',
      });
    }
  });

  it('is described by --help of s2 cem, s2 rm, s2 demo and s2 conformance', async () => {
    for (const command of ['cem', 'rm', 'demo']) {
      const r = await cli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.out, command).toMatch(
        /--versions V\[,V…\]\s+S2 JSON versions, most preferred first: 1\.0\.0-beta, 0\.0\.2-beta \(default\s+both/,
      );
    }
    const r = await cli(['conformance', '--help']);
    expect(r.out).toMatch(/--version V\s+the S2 JSON version to test: 1\.0\.0-beta or 0\.0\.2-beta \(default 0\.0\.2-beta\)/);
  });
});

describe('the selected version in the session log and the trace', () => {
  it('[R26, R27] prints "✓ handshake: S2 <version>" and traces {event: "handshake", version} once the CEM selected (its preference first)', async () => {
    const { session, peer } = memorySession({ role: 'CEM', versions: ['1.0.0-beta', '0.0.2-beta'] });
    const lines: string[] = [];
    const traces: string[] = [];
    logSession(session, (line) => lines.push(line), { label: () => 'cem' });
    traceSession(session, (line) => traces.push(line));
    peer.ack(await peer.message('Handshake'));
    // The RM prefers 0.0.2-beta; the CEM selects by its own order among the common ones.
    peer.send(handshake('RM', ['0.0.2-beta', '1.0.0-beta']));
    const response = await peer.message('HandshakeResponse');
    expect(response.selected_protocol_version).toBe('1.0.0-beta');
    peer.ack(response);
    await expect.poll(() => lines.some((l) => l.includes('✓ handshake: S2 1.0.0-beta'))).toBe(true);
    await session.close();
    const entries = traces.map((l) => JSON.parse(l) as { event: string; version?: string; message?: { message_type: string } });
    const at = entries.findIndex((e) => e.event === 'handshake');
    expect(entries[at]).toMatchObject({ event: 'handshake', version: '1.0.0-beta', role: 'CEM', session: session.id });
    // Written once the HandshakeResponse went out: from here on every message is of that version.
    const sentResponse = entries.findIndex((e) => e.event === 'send' && e.message?.message_type === 'HandshakeResponse');
    expect(sentResponse).toBeGreaterThanOrEqual(0);
    expect(at).toBeGreaterThan(sentResponse);
    expect(entries.filter((e) => e.event === 'handshake')).toHaveLength(1);
  });
});

describe('s2 cem / s2 rm --versions (processes)', () => {
  it('[R26, R27, R39] s2 cem --versions 1.0.0-beta and s2 rm --control-type DDBC --versions 1.0.0-beta reach connected.active.DDBC in 1.0.0-beta', async () => {
    const dir = tempDir();
    const trace = path.join(dir, 'rm.jsonl');
    const cem = runS2(['cem', '--port', '0', '--versions', '1.0.0-beta']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = runS2(['rm', '--url', url, '--control-type', 'DDBC', '--versions', '1.0.0-beta', '--speed', '60', '--trace', trace]);
    await cem.waitFor(/@ connected\.active\.DDBC/);
    await rm.waitFor(/@ connected\.active\.DDBC/);
    // Both logs say which version: the RM offered only 1.0.0-beta, the CEM selected it.
    expect(rm.output()).toMatch(/→ Handshake .*1\.0\.0-beta/);
    expect(cem.output()).toMatch(/✓ handshake: S2 1\.0\.0-beta/);
    expect(rm.output()).toMatch(/✓ handshake: S2 1\.0\.0-beta/);
    // The device describes itself and no frame is refused on either side.
    await rm.waitFor(/→ DDBC\.SystemDescription/);
    await cem.waitFor(/← DDBC\.SystemDescription/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    for (const p of [cem, rm]) expect(p.output()).not.toMatch(/✗ answered/);
    const entries = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; version?: string });
    expect(entries.filter((e) => e.event === 'handshake').map((e) => e.version)).toEqual(['1.0.0-beta']);
  }, 20_000);

  it('[R26, R27] s2 rm --versions 0.0.2-beta gets 0.0.2-beta from a CEM that speaks both and prefers 1.0.0-beta', async () => {
    const cem = runS2(['cem', '--port', '0']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = runS2(['rm', '--url', url, '--control-type', 'DDBC', '--versions', '0.0.2-beta', '--speed', '60']);
    await rm.waitFor(/@ connected\.active\.DDBC/);
    await rm.waitFor(/→ DDBC\.SystemDescription/);
    expect(rm.output()).toMatch(/✓ handshake: S2 0\.0\.2-beta/);
    expect(cem.output()).toMatch(/✓ handshake: S2 0\.0\.2-beta/);
    expect(cem.output()).toMatch(/→ HandshakeResponse version=0\.0\.2-beta/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    for (const p of [cem, rm]) expect(p.output()).not.toMatch(/✗ answered/);
  }, 20_000);

  it('[R26] s2 rm with no --versions offers both; the CEM selects 1.0.0-beta', async () => {
    const cem = runS2(['cem', '--port', '0']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = runS2(['rm', '--url', url, '--control-type', 'PEBC', '--seconds', '1']);
    expect(await rm.exited, rm.output()).toBe(0);
    expect(rm.output()).toMatch(/→ Handshake .*1\.0\.0-beta,0\.0\.2-beta/);
    expect(rm.output()).toMatch(/✓ handshake: S2 1\.0\.0-beta/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 20_000);

  it('[R27, R29] s2 rm --versions 0.0.2-beta against s2 cem --versions 1.0.0-beta: no common version, the session ends and no handshake is printed', async () => {
    const cem = runS2(['cem', '--port', '0', '--versions', '1.0.0-beta']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = runS2(['rm', '--url', url, '--control-type', 'FRBC', '--versions', '0.0.2-beta', '--retries', '0']);
    expect(await rm.exited, rm.output()).toBe(1);
    expect(cem.output()).toMatch(/✗ answered INVALID_CONTENT/);
    expect(rm.output()).not.toMatch(/✓ handshake/);
    expect(rm.output()).toMatch(/s2 rm: gave up after 1 failed attempt/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 20_000);
});

describe('--versions with S2 Connect', () => {
  async function startCem(store: string, extra: string[] = []) {
    const cem = runS2(['cem', '--connect', '--store', store, '--port', '0', ...extra]);
    const [, code] = await cem.waitFor(/pairing code: (\S+)/);
    const [, url] = await cem.waitFor(/pairing url: (https:\/\/([^:/]+):(\d+)\/)/);
    return { cem, code: code!, url: url!, resolve: `${new URL(url!).hostname}=127.0.0.1` };
  }

  it('[S2C §3.3, §4.1] the RM offers its --versions in pairing and session initiation; the agreed version is the one the handshake selects', async () => {
    const { cem, code, url, resolve } = await startCem(tempDir());
    const rm = runS2([
      'rm',
      '--control-type',
      'DDBC',
      '--store',
      tempDir(),
      '--resolve',
      resolve,
      '--pair',
      code,
      '--pairing-url',
      url,
      '--versions',
      '1.0.0-beta',
      '--speed',
      '60',
    ]);
    await rm.waitFor(/@ connected\.active\.DDBC/, 15_000);
    expect(cem.output()).toMatch(/session initiated by \S+ \(S2 1\.0\.0-beta\)/);
    expect(rm.output()).toMatch(/✓ handshake: S2 1\.0\.0-beta/);
    expect(cem.output()).toMatch(/✓ handshake: S2 1\.0\.0-beta/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 30_000);

  it('[S2C §3.3] pairing with a CEM that speaks none of the RM --versions is refused (IncompatibleS2MessageVersions)', async () => {
    const { cem, code, url, resolve } = await startCem(tempDir(), ['--versions', '1.0.0-beta']);
    const rm = runS2([
      'rm',
      '--control-type',
      'FRBC',
      '--store',
      tempDir(),
      '--resolve',
      resolve,
      '--pair',
      code,
      '--pairing-url',
      url,
      '--versions',
      '0.0.2-beta',
    ]);
    expect(await rm.exited).toBe(1);
    expect(rm.output()).toMatch(/IncompatibleS2MessageVersions/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  }, 30_000);
});
