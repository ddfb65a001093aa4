import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';


const run = runS2;
killCliProcessesAfterEach();


describe('s2 cem and s2 rm', () => {
  it('[R22, R26, R28, R34] an RM connects, gets its control type selected, and both write traces; SIGTERM closes with 1001 and exits 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-cli-'));
    const cemTrace = path.join(dir, 'cem.jsonl');
    const cem = run(['cem', '--port', '0', '--trace', cemTrace]);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = run(['rm', '--url', url!, '--control-type', 'PEBC']);
    await cem.waitFor(/@ connected\.active\.PEBC/);
    await rm.waitFor(/@ connected\.active\.PEBC/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    expect(cem.output()).toContain('closing every session with 1001');
    await rm.waitFor(/closed 1001/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);

    const lines = fs.readFileSync(cemTrace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => typeof l.ts === 'string' && l.role === 'CEM' && typeof l.session === 'string')).toBe(true);
    const sent = lines.filter((l) => l.event === 'send').map((l) => (l.message as { message_type: string }).message_type);
    expect(sent.slice(0, 2)).toEqual(['Handshake', 'ReceptionStatus']);
    expect(sent).toContain('HandshakeResponse');
    expect(sent).toContain('SelectControlType');
    expect(lines.some((l) => l.event === 'state' && l.state === 'connected.active.PEBC')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ event: 'close', code: 1001 });
  });

  it('s2 rm --seconds stops by itself with exit 0', async () => {
    const cem = run(['cem']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = run(['rm', '--url', url!, '--control-type', 'NOT_CONTROLABLE', '--seconds', '0.5']);
    expect(await rm.exited).toBe(0);
    expect(rm.output()).toMatch(/@ connected\.noControlType/);
    expect(rm.output()).toMatch(/closed 1000/);
    cem.child.kill('SIGINT');
    expect(await cem.exited).toBe(0);
  });

  it('usage errors exit 2 with a message', async () => {
    const a = run(['rm', '--control-type', 'FRBC']);
    expect(await a.exited).toBe(2);
    expect(a.output()).toContain('--url is required');
    const b = run(['rm', '--url', 'ws://127.0.0.1:1', '--control-type', 'XYZ']);
    expect(await b.exited).toBe(2);
    const c = run(['cem', '--tls-cert', 'x.pem']);
    expect(await c.exited).toBe(2);
    expect(c.output()).toContain('--tls-cert and --tls-key go together');
  });
});
