/**
 * S2 Connect from the command line, as a user runs it: `s2 cem --connect` shows a pairing code,
 * `s2 rm --pair` pairs and connects, later runs reconnect with the stored pairing (a new access
 * token each time), either process restarts between steps, `s2 pairings` lists without secrets,
 * `s2 unpair` ends it; the reverse direction (`s2 rm --connect`, `s2 cem --pair`); `s2 demo --connect`.
 * Everything on 127.0.0.1: `.local` names are mapped with --resolve, the certificate is checked for them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localHostname } from '../../src/cli/connect.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

killCliProcessesAfterEach();
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 's2-connect-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every secret-looking value (tokens, token hashes) in a store's pairing files. */
function secretsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('pairing-'))
    .flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { tokens?: string[] }).tokens ?? []);
}

async function startCem(store: string, port = '0') {
  const cem = runS2(['cem', '--connect', '--store', store, '--port', port, '--quiet']);
  const [, code] = await cem.waitFor(/pairing code: (\S+)/);
  const [, url] = await cem.waitFor(/pairing url: (https:\/\/([^:/]+):(\d+)\/)/);
  const parsed = new URL(url!);
  return { cem, code: code!, url: url!, host: parsed.hostname, port: parsed.port };
}

describe('s2 cem --connect / s2 rm --store (S2 Connect)', () => {
  it('[S2C §3, §4, §4.3] pairs with the printed code, reconnects across restarts of either side with a new token each time, lists without secrets, unpairs', async () => {
    const cemDir = tempDir();
    const rmDir = tempDir();
    const started = await startCem(cemDir);
    const { code, url, host, port } = started;
    let { cem } = started; // restarted below
    const resolve = `${host}=127.0.0.1`;
    const rm = (extra: string[]) =>
      runS2(['rm', '--control-type', 'FRBC', '--store', rmDir, '--resolve', resolve, '--speed', '60', ...extra]);

    const first = rm(['--pair', code, '--pairing-url', url, '--seconds', '1.5']);
    expect(await first.exited, first.output()).toBe(0);
    expect(first.output()).toMatch(/s2 rm: paired with CEM/);
    expect(first.output()).toMatch(/@ connected\.active\.FRBC/);
    const tokens1 = secretsIn(rmDir);
    expect(tokens1).toHaveLength(1);

    // The CEM restarts (same port: the RM keeps its URL); the RM reconnects with the stored pairing.
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    ({ cem } = await startCem(cemDir, port));
    const second = rm(['--seconds', '1.5']);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/@ connected\.active\.FRBC/);
    const tokens2 = secretsIn(rmDir);
    expect(tokens2).toHaveLength(1);
    expect(tokens2[0]).not.toBe(tokens1[0]);

    // The RM restarts again: another rotation.
    const third = rm(['--seconds', '1']);
    expect(await third.exited, third.output()).toBe(0);
    expect(secretsIn(rmDir)[0]).not.toBe(tokens2[0]);

    const listed = runS2(['pairings', '--store', rmDir]);
    expect(await listed.exited).toBe(0);
    expect(listed.output()).toMatch(/^CEM [0-9a-f-]{36} .* we connect to https:\/\//m);
    const listedCem = runS2(['pairings', '--store', cemDir, '--json']);
    expect(await listedCem.exited).toBe(0);
    expect(JSON.parse(listedCem.output().trim())).toMatchObject({ remoteRole: 'RM', communicationRole: 'server' });
    for (const secret of [...secretsIn(rmDir), ...secretsIn(cemDir), code]) {
      expect(listed.output()).not.toContain(secret);
      expect(listedCem.output()).not.toContain(secret);
      expect(cem.output()).not.toContain(secret);
    }

    const unpaired = runS2(['unpair', '--store', rmDir, '--resolve', resolve]);
    expect(await unpaired.exited, unpaired.output()).toBe(0);
    expect(unpaired.output()).toMatch(/the other node confirmed/);
    await cem.waitFor(/unpaired .* \(by the other node\)/);
    const after = runS2(['pairings', '--store', cemDir]);
    expect(await after.exited).toBe(0);
    expect(after.output()).toMatch(/no pairings/);
    const orphan = rm(['--seconds', '1']);
    expect(await orphan.exited).toBe(1);
    expect(orphan.output()).toMatch(/no pairing in .*--pair CODE/);
  }, 60_000);

  it('[S2C §1, §3.5b] the reverse direction: the RM shows a code, the CEM pairs with it and serves its sessions', async () => {
    const rmDir = tempDir();
    const cemDir = tempDir();
    // Both nodes run on this host, so both are `<hostname>.local`, mapped to 127.0.0.1.
    const resolve = `${localHostname()}=127.0.0.1`;
    const rm = runS2([
      'rm',
      '--control-type',
      'OMBC',
      '--store',
      rmDir,
      '--connect',
      '--speed',
      '60',
      '--seconds',
      '20',
      '--resolve',
      resolve,
    ]);
    const [, code] = await rm.waitFor(/pairing code: (\S+)/);
    const [, url] = await rm.waitFor(/pairing url: (https:\/\/[^\s]+\/)/);
    const cem = runS2(['cem', '--store', cemDir, '--pair', code!, '--pairing-url', url!, '--resolve', resolve, '--quiet']);
    await cem.waitFor(/paired with RM [0-9a-f-]{36} \(it connects to us\)/);
    // The RM reaches the CEM at the CEM's own .local name: it was given the CEM's initiate URL.
    await rm.waitFor(/s2 rm: paired with CEM/);
    await rm.waitFor(/InstructionStatusUpdate \S+ → SUCCEEDED/, 15_000);
    rm.child.kill('SIGTERM');
    expect(await rm.exited, rm.output()).toBe(0);
  }, 40_000);

  it('[S2C] s2 demo --connect pairs its five devices through S2 Connect and runs without protocol errors', async () => {
    const demo = runS2(['demo', '--connect', '--seconds', '3']);
    expect(await demo.exited, demo.output()).toBe(0);
    expect(demo.output().match(/paired \(node/g)).toHaveLength(5);
    expect(demo.output()).toMatch(/No protocol errors \(10 sessions/);
  }, 40_000);

  it('usage errors name the S2 Connect option at fault', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['cem', '--connect'], /S2 Connect needs --store DIR/],
      [['cem', '--connect', '--store', tempDir(), '--workers', '2'], /--workers is not available with S2 Connect/],
      [['rm', '--control-type', 'FRBC', '--store', tempDir(), '--pair', 'abc'], /--pair and --pairing-url go together/],
      [['rm', '--control-type', 'FRBC', '--store', tempDir(), '--url', 'ws://127.0.0.1:1'], /--url is for plain WebSocket/],
      [['rm', '--control-type', 'FRBC', '--pairing-url', 'https://x.local/'], /--pairing-url needs --store/],
      [['cem', '--connect', '--store', tempDir(), '--deployment', 'MARS'], /--deployment must be LAN or WAN/],
    ];
    for (const [args, message] of cases) {
      const p = runS2(args);
      expect(await p.exited, args.join(' ')).toBe(2);
      expect(p.output()).toMatch(message);
    }
  });
});
