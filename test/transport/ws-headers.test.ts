import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWsServer, type WsServer } from '../../src/transport/index.js';
import { sendRawHead } from './raw-head.js';

const servers: WsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('oversized request heads', () => {
  it('answers 431 to an upgrade whose headers exceed 16 KiB (the default maxHeaderBytes)', async () => {
    const server = await createWsServer({ onConnection: () => undefined });
    servers.push(server);
    const reply = await sendRawHead(connect(server.port, '127.0.0.1'), 20 * 1024);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(reply).toContain('Connection: close');
    expect(server.connections).toBe(0);
  });

  it('honours a configured maxHeaderBytes', async () => {
    const server = await createWsServer({ maxHeaderBytes: 4 * 1024, onConnection: () => undefined });
    servers.push(server);
    expect(await sendRawHead(connect(server.port, '127.0.0.1'), 6 * 1024)).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers 400 to a request that does not parse', async () => {
    const server = await createWsServer({ onConnection: () => undefined });
    servers.push(server);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.write('NOT HTTP AT ALL\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });
});
