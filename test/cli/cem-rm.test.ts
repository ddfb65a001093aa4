import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

const run = runS2;
killCliProcessesAfterEach();

/** A ws:// URL nobody listens on: a port the system just handed out and that was closed again. */
async function refusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}`;
}

describe('s2 cem and s2 rm', () => {
  it('[R22, R26, R28, R34] an RM connects, gets its control type selected, and both write traces; SIGTERM closes with 1001 and exits 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-cli-'));
    const cemTrace = path.join(dir, 'cem.jsonl');
    const cem = run(['cem', '--port', '0', '--trace', cemTrace]);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const rm = run(['rm', '--url', url, '--control-type', 'PEBC']);
    await cem.waitFor(/@ connected\.active\.PEBC/);
    await rm.waitFor(/@ connected\.active\.PEBC/);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
    expect(cem.output()).toContain('closing every session with 1001');
    await rm.waitFor(/closed 1001/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(0);

    const lines = fs
      .readFileSync(cemTrace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
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
    const rm = run(['rm', '--url', url, '--control-type', 'NOT_CONTROLABLE', '--seconds', '0.5']);
    expect(await rm.exited).toBe(0);
    expect(rm.output()).toMatch(/@ connected\.noControlType/);
    expect(rm.output()).toMatch(/closed 1000/);
    cem.child.kill('SIGINT');
    expect(await cem.exited).toBe(0);
  });

  it('s2 rm that never reaches a CEM exits 1 with one line saying so: stopped by --seconds', async () => {
    const url = await refusedUrl();
    const rm = run(['rm', '--url', url, '--control-type', 'FRBC', '--seconds', '0.5']);
    expect(await rm.exited).toBe(1);
    expect(rm.output()).toMatch(/ECONNREFUSED .*\(attempt 1, next in \d+ ms\)/);
    expect(rm.output()).toContain(
      `s2 rm: never reached a CEM at ${url}: stopped by --seconds 0.5 before any session completed the S2 handshake (1 failed attempt; last: `,
    );
  });

  it('s2 rm that never reaches a CEM exits 1: stopped by SIGTERM', async () => {
    const url = await refusedUrl();
    const rm = run(['rm', '--url', url, '--control-type', 'PEBC']);
    await rm.waitFor(/attempt 1, next in/);
    rm.child.kill('SIGTERM');
    expect(await rm.exited).toBe(1);
    expect(rm.output()).toContain(`s2 rm: never reached a CEM at ${url}: stopped by a signal`);
  });

  it('s2 rm --retries N gives up after N+1 refused dials in a row, exit 1', async () => {
    const url = await refusedUrl();
    const rm = run(['rm', '--url', url, '--control-type', 'FRBC', '--retries', '1']);
    expect(await rm.exited).toBe(1);
    const out = rm.output();
    expect(out).toMatch(/\(attempt 1, next in \d+ ms\)\n/);
    expect(out).toMatch(/\(attempt 2, giving up\)\n/);
    expect(out).not.toContain('attempt 3');
    expect(out).toContain(`s2 rm: gave up after 2 failed attempts in a row to reach the CEM at ${url} (--retries 1); last: `);
  });

  it('a server that accepts the WebSocket but closes before the S2 handshake is not a CEM: --retries 0 gives up, exit 1', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (ws) => ws.close(1008, 'not an S2 CEM'));
    try {
      const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      const rm = run(['rm', '--url', url, '--control-type', 'NOT_CONTROLABLE', '--retries', '0']);
      expect(await rm.exited).toBe(1);
      expect(rm.output()).toContain(
        `s2 rm: gave up after 1 failed attempt in a row to reach the CEM at ${url} (--retries 0); last: the connection closed before the S2 handshake (1008 not an S2 CEM)`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
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
