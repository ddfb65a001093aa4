import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';
// run.js first: it loads every command module (cli/inspect.js among them) in its own order.
import { runCli } from '../../src/cli/run.js';
import { startInspection } from '../../src/cli/inspect.js';
import type { SessionSnapshot } from '../../src/inspect/model.js';
import { createRmClient } from '../../src/roles/rm-client.js';
import { details } from './scenario.js';

const run = runS2;
killCliProcessesAfterEach();

async function sessions(url: string): Promise<SessionSnapshot[]> {
  return ((await (await fetch(new URL('api/sessions', url))).json()) as { sessions: SessionSnapshot[] }).sessions;
}

async function sessionsUntil(url: string, ok: (s: SessionSnapshot[]) => boolean, what: string, ms = 10_000): Promise<SessionSnapshot[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await sessions(url);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function cli(args: string[]) {
  let out = '';
  const sink = () => {
    const s = new PassThrough();
    s.on('data', (d: Buffer) => (out += d.toString()));
    return s;
  };
  const code = await runCli(args, { stdout: sink(), stderr: sink(), stdin: new PassThrough() });
  return { code, out };
}

describe('s2 inspect and the --inspect flags', () => {
  it('s2 inspect serves the page; s2 demo --inspect-to feeds it; SIGTERM stops it with 0', async () => {
    const hub = run(['inspect', '--port', '0']);
    const [, page] = await hub.waitFor(/page (http:\/\/127\.0\.0\.1:\d+\/)/);
    const [, feed] = await hub.waitFor(/feed (ws:\/\/127\.0\.0\.1:\d+\/feed)/);
    const demo = run(['demo', '--seconds', '1', '--inspect-to', feed!]);
    expect(await demo.exited).toBe(0);
    const all = await sessionsUntil(page!, (s) => s.length === 10 && s.every((x) => x.header.closed), 'the demo sessions, closed');
    expect(
      all
        .filter((s) => s.header.role === 'CEM')
        .map((s) => s.header.controlType)
        .sort(),
    ).toEqual([
      'DEMAND_DRIVEN_BASED_CONTROL',
      'FILL_RATE_BASED_CONTROL',
      'OPERATION_MODE_BASED_CONTROL',
      'POWER_ENVELOPE_BASED_CONTROL',
      'POWER_PROFILE_BASED_CONTROL',
    ]);
    expect(all.every((s) => s.header.inspected && s.header.attached && s.messages.length > 5)).toBe(true);
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });

  it('s2 cem --inspect prints the page; an RM that connects is shown with its control type', async () => {
    const cem = run(['cem', '--port', '0', '--quiet', '--inspect']);
    const [, page] = await cem.waitFor(/inspector on (http:\/\/127\.0\.0\.1:\d+\/)/);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = createRmClient({ url, details, reconnect: false });
    await rm.nextSession();
    const [session] = await sessionsUntil(page!, (s) => s[0]?.header.controlType === 'FILL_RATE_BASED_CONTROL', 'the RM on the page');
    expect(session!.header).toMatchObject({ role: 'CEM', name: details.name, version: '0.0.2-beta' });
    expect(session!.header.controlTypeActor?.machine).toBe('FRBC');
    await rm.stop();
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  });

  it('usage errors exit 2; inspection off installs nothing', async () => {
    expect((await cli(['cem', '--workers', '2', '--inspect'])).out).toMatch(/--inspect-to/);
    expect((await cli(['cem', '--workers', '2', '--inspect'])).code).toBe(2);
    expect((await cli(['demo', '--inspect-to', 'http://127.0.0.1:1/feed'])).code).toBe(2);
    expect((await cli(['demo', '--inspect', '--inspect-to', 'ws://127.0.0.1:1/feed'])).code).toBe(2);
    expect((await cli(['demo', '--inspect-port', 'x'])).code).toBe(2);
    expect((await cli(['inspect', 'extra'])).code).toBe(2);
    const down = await cli(['demo', '--seconds', '0', '--inspect-to', 'ws://127.0.0.1:1/feed']);
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/no inspector at ws:\/\/127\.0\.0\.1:1\/feed/);
    expect(await startInspection({})).toBeUndefined();
    expect(await startInspection({ inspect: false })).toBeUndefined();
  });
});
