/**
 * `--ids` of `s2 cem` and `s2 rm` (R3): 'strict' by default, so a peer's message_id that is not
 * 2–64 of [A-Za-z0-9-_:] (a newline, 2 MiB) is INVALID_DATA with the nil subject and never echoed;
 * `--ids schema` keeps the official unanchored pattern and echoes such an id (R13).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import type { ValidateRecord } from '../../src/cli/validate.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';
import { handshake, NIL } from '../support/e2e-messages.js';
import { createRawServer, RawPeer } from '../support/raw-ws-peer.js';

killCliProcessesAfterEach();

const NEWLINE_ID = 'ab\ncd';
// Under the 1 MiB a new connection may send before its receive budget closes it (4003, tested below).
const BIG_ID = 'a'.repeat(768 * 1024);

/** Runs `s2 validate …` in-process on one message; returns the exit code, the verdict and stderr. */
async function validate(args: string[], message: unknown): Promise<{ code: number; record: ValidateRecord | undefined; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  stdin.end(JSON.stringify(message));
  const code = await runCli(['validate', ...args, '-'], { stdout, stderr, stdin });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  return { code, record: line === undefined ? undefined : (JSON.parse(line) as ValidateRecord), stderr: err };
}

const isStatus = (m: Record<string, unknown>) => m.message_type === 'ReceptionStatus';

describe('s2 cem / s2 rm --ids', () => {
  it('[R3][R20] s2 cem defaults to strict: a message_id with a newline or of 768 KiB is INVALID_DATA with the nil subject; 2 MiB at once is over the receive budget (4003)', async () => {
    const cem = runS2(['cem', '--port', '0', '--quiet']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    for (const id of [NEWLINE_ID, BIG_ID]) {
      const peer = await RawPeer.connect(url);
      peer.send({ ...handshake('RM'), message_id: id });
      const status = await peer.next(isStatus, 'a ReceptionStatus', 5_000);
      expect(status).toMatchObject({ subject_message_id: NIL, status: 'INVALID_DATA' });
      expect(JSON.stringify(status).length).toBeLessThan(600);
      await peer.close();
    }
    const greedy = await RawPeer.connect(url);
    greedy.send({ ...handshake('RM'), message_id: 'a'.repeat(2 * 1024 * 1024) });
    expect((await greedy.closed).code).toBe(4003);
    expect(greedy.all('ReceptionStatus')).toHaveLength(0);
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  });

  it('[R3][R13] s2 cem --ids schema keeps the official unanchored pattern: the same id is accepted and repeated exactly', async () => {
    const cem = runS2(['cem', '--port', '0', '--quiet', '--ids', 'schema']);
    const [url] = await cem.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
    const peer = await RawPeer.connect(url);
    peer.send({ ...handshake('RM'), message_id: NEWLINE_ID });
    expect(await peer.next(isStatus, 'a ReceptionStatus', 5_000)).toMatchObject({ subject_message_id: NEWLINE_ID, status: 'OK' });
    await peer.close();
    cem.child.kill('SIGTERM');
    expect(await cem.exited).toBe(0);
  });

  it('[R3][R20] s2 rm defaults to strict: a CEM message_id with a newline is INVALID_DATA with the nil subject', async () => {
    const server = await createRawServer();
    try {
      const rm = runS2(['rm', '--url', server.url, '--control-type', 'FRBC']);
      const cem = await server.accept(10_000);
      cem.send({ ...handshake('CEM'), message_id: NEWLINE_ID });
      expect(await cem.next(isStatus, 'a ReceptionStatus', 5_000)).toMatchObject({ subject_message_id: NIL, status: 'INVALID_DATA' });
      // The log shows the id JSON-escaped and clipped, never raw.
      await rm.waitFor(/INVALID_DATA for 00000000/);
      expect(rm.output()).not.toContain(NEWLINE_ID);
      rm.child.kill('SIGTERM');
      // Exit 1: stopped before any session completed the handshake (the CLI's documented status).
      expect(await rm.exited).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('[R3] --ids accepts strict, schema and uuid, refuses anything else, and the help names strict as the default', async () => {
    for (const command of ['cem', 'rm']) {
      const help = runS2([command, '--help']);
      expect(await help.exited).toBe(0);
      expect(help.output()).toMatch(/--ids strict\|schema\|uuid[\s\S]*\(default strict\)/);
      const bad = runS2([command, '--ids', 'loose', ...(command === 'rm' ? ['--url', 'ws://127.0.0.1:1', '--control-type', 'FRBC'] : [])]);
      expect(await bad.exited).toBe(2);
      expect(bad.output()).toMatch(/--ids must be 'strict', 'schema' or 'uuid'/);
    }
  });

  it("[R3] s2 validate --ids strict refuses a message_id with a newline as INVALID_DATA; the default stays 'schema'", async () => {
    const message = { ...handshake('RM'), message_id: NEWLINE_ID };
    expect((await validate([], message)).code).toBe(0);
    const strict = await validate(['--ids', 'strict'], message);
    expect(strict.code).toBe(1);
    expect(strict.record).toMatchObject({ valid: false, status: 'INVALID_DATA', message_type: 'Handshake' });
    expect(strict.record?.problems[0]).toMatchObject({ path: '$.message_id', value: JSON.stringify(NEWLINE_ID) });
    expect((await validate(['--ids', 'strict'], { ...handshake('RM'), message_id: 'msg-1' })).code).toBe(0);
    const bad = await validate(['--ids', 'loose'], message);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ids must be 'schema' or 'uuid' or 'strict'/);
  });
});
