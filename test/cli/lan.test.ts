/**
 * S2 Connect on a LAN from the command line, as a user runs it: `s2 cem --connect --advertise` is found
 * by `s2 discover`; `s2 rm --wait-for-pairing URL` (a device with a printed code) long-polls the CEM; the
 * CEM's user types `accept ID CODE`; the RM pairs and its session becomes active. mDNS runs on the loopback
 * interface and a random port only; `.local` names are mapped to 127.0.0.1 with --resolve.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { localHostname } from '../../src/cli/connect.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';
import { describeWithLoopbackMulticast, freeUdpPort, LOOPBACK } from '../support/loopback-multicast.js';

killCliProcessesAfterEach();
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 's2-lan-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const resolve = `${localHostname()}=127.0.0.1`;

describeWithLoopbackMulticast('s2 discover / s2 cem --advertise / s2 rm --wait-for-pairing (S2 Connect on a LAN)', () => {
  it('[S2C §2, §3.9] the CEM is discovered, the waiting RM is paired by the code typed at the CEM, and its session becomes active', async () => {
    const mdnsPort = String(await freeUdpPort());
    const mdns = ['--mdns-interface', LOOPBACK, '--mdns-port', mdnsPort];
    const cem = runS2(['cem', '--connect', '--store', tempDir(), '--advertise', ...mdns, '--resolve', resolve]);
    await cem.waitFor(/advertised as (s2-cem-[0-9a-f]{8})\._s2connect\._tcp\.local/);

    const found = runS2(['discover', '--role', 'cem', '--seconds', '1', '--json', ...mdns]);
    expect(await found.exited, found.output()).toBe(0);
    const event = JSON.parse(found.output().trim().split('\n')[0]!) as {
      type: string;
      endpoint: { roles: string[]; deployment: string; pairingUrl: string; longpollingUrl: string };
    };
    expect(event).toMatchObject({ type: 'found', endpoint: { roles: ['cem'], deployment: 'LAN' } });
    expect(event.endpoint.longpollingUrl).toBe(event.endpoint.pairingUrl);
    // Only RMs: the CEM is not listed, and the command says so with exit 1.
    const none = runS2(['discover', '--role', 'rm', '--seconds', '0.5', ...mdns]);
    expect(await none.exited).toBe(1);
    expect(none.output()).toMatch(/no S2 Connect endpoint with role rm answered/);

    const rmDir = tempDir();
    const waitingRm = (extra: string[]) =>
      runS2([
        'rm',
        '--control-type',
        'FRBC',
        '--store',
        rmDir,
        '--wait-for-pairing',
        event.endpoint.longpollingUrl,
        '--resolve',
        resolve,
        ...extra,
      ]);
    const rm = waitingRm(['--speed', '60']);
    const [, code] = await rm.waitFor(/pairing code: (\S+)/);
    // The CEM lists the device once it described itself (it asks for the description on the first poll).
    const [, id] = await cem.waitFor(/RM '[^']*' ([0-9a-f-]{36}) waits to be paired/);
    await cem.waitFor(/enter its code: accept [0-9a-f]{8} CODE/);

    const entered = Date.now();
    cem.child.stdin.write(`accept ${id!.slice(0, 8)} ${code}\n`);
    await cem.waitFor(/asked [0-9a-f-]{36} to pair with the code entered/);
    await rm.waitFor(/s2 rm: paired with CEM/);
    await rm.waitFor(/@ connected\.active\.FRBC/, 15_000);
    console.log(`s2 cli: code typed at the CEM → active FRBC session on the RM: ${Date.now() - entered} ms`);
    await cem.waitFor(/paired with RM .* \(it connects to us\)/);

    // A restarted RM connects with the stored pairing and the same printed code; it keeps polling.
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);
    const again = waitingRm(['--seconds', '2']);
    expect(await again.exited, again.output()).toBe(0);
    expect(again.output()).toContain(`pairing code: ${code}`);
    expect(again.output()).toMatch(/@ connected\.active\.FRBC/);

    cem.child.kill('SIGTERM');
    expect(await cem.exited, cem.output()).toBe(0);
  }, 60_000);

  it('--accept ID=CODE pairs a waiting device without typing; a wrong code ends the attempt and says why', async () => {
    const cemDir = tempDir();
    const rmDir = tempDir();
    // The RM's printed code is chosen here (--pairing-token), so the CEM can be told it in advance.
    const code = 'c2VjcmV0LWNvZGUtMTIz';
    const first = runS2(['cem', '--connect', '--store', cemDir, '--quiet']);
    const [, url] = await first.waitFor(/pairing url: (https:\/\/\S+\/)/);
    const rm = runS2([
      'rm',
      '--control-type',
      'PEBC',
      '--store',
      rmDir,
      '--wait-for-pairing',
      url!,
      '--pairing-token',
      code,
      '--resolve',
      resolve,
      '--speed',
      '60',
    ]);
    const [, id] = await first.waitFor(/RM '[^']*' ([0-9a-f-]{36}) waits to be paired/);
    first.child.stdin.write(`accept ${id!.slice(0, 8)} d3JvbmctY29kZS0xMjM=\n`);
    await first.waitFor(/a pairing attempt ended without pairing/);
    expect(rm.output()).not.toMatch(/paired with CEM/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // The same CEM store, restarted with the right code given up front; the RM is still polling.
    const port = new URL(url!).port;
    const second = runS2(['cem', '--connect', '--store', cemDir, '--port', port, '--quiet', '--accept', `${id!.slice(0, 8)}=${code}`]);
    await second.waitFor(/asked [0-9a-f-]{36} to pair with the code entered/, 40_000);
    await rm.waitFor(/@ connected\.active\.PEBC/, 20_000);
  }, 90_000);

  it('[S2C §2] s2 rm --connect --advertise is found as an RM endpoint (pairing URL, no long poll) and removed when it stops', async () => {
    const mdnsPort = String(await freeUdpPort());
    const mdns = ['--mdns-interface', LOOPBACK, '--mdns-port', mdnsPort];
    const rm = runS2(['rm', '--control-type', 'OMBC', '--store', tempDir(), '--connect', '--advertise', ...mdns]);
    const [, instance] = await rm.waitFor(/advertised as (s2-rm-[0-9a-f]{8})\._s2connect\._tcp\.local \(_rm\)/);
    const [, url] = await rm.waitFor(/pairing url: (https:\/\/\S+)\//);
    const browse = runS2(['discover', '--seconds', '0', ...mdns]);
    const [line] = await browse.waitFor(new RegExp(`^found ${instance}  RM  LAN .*$`, 'm'));
    expect(line).toContain(`pairing ${url}`);
    expect(line).not.toContain('long-poll');
    rm.child.kill('SIGTERM');
    await browse.waitFor(new RegExp(`^removed ${instance}$`, 'm'));
    browse.child.kill('SIGINT');
    expect(await browse.exited).toBe(0);
  }, 30_000);

  it('usage errors name the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['discover', '--role', 'gateway'], /--role must be cem or rm/],
      [['discover', '--mdns-interface', 'lo'], /--mdns-interface takes the IPv4 address/],
      [['cem', '--advertise'], /--advertise needs --connect/],
      [['cem', '--connect', '--store', '/tmp/x', '--accept', 'abc'], /--accept takes CLIENT_NODE_ID=CODE/],
      [['cem', '--connect', '--store', '/tmp/x', '--accept', 'abcd1234=AAAA'], /--accept: .*at least 9/],
      [['cem', '--connect', '--store', '/tmp/x', '--mdns-port', '5353'], /--mdns-port needs --advertise/],
      [
        ['rm', '--control-type', 'FRBC', '--store', '/tmp/x', '--wait-for-pairing', 'http://a/'],
        /--wait-for-pairing must be an https:\/\/ URL/,
      ],
      [
        ['rm', '--control-type', 'FRBC', '--url', 'ws://127.0.0.1:1', '--wait-for-pairing', 'https://a/'],
        /--wait-for-pairing needs --store/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = runS2(args);
      expect(await run.exited, args.join(' ')).toBe(2);
      expect(run.output()).toMatch(message);
    }
  });
});
