import { connect as tlsConnect } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { createConnectHttpServer, type ConnectHttpServer } from '../../src/connect/http/https-server.js';
import { sendRawHead } from '../transport/raw-head.js';

let certs: GeneratedCertificates;
beforeAll(async () => {
  certs = await generateCertificates({ hostname: 'cem.local' });
});
const servers: ConnectHttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function tlsHead(port: number, headerBytes: number): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'cem.local', ca: certs.rootPem });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return sendRawHead(socket, headerBytes);
}

describe('S2 Connect HTTPS server: oversized request heads', () => {
  it('answers 431 to a request whose headers exceed 16 KiB (the default maxHeaderBytes)', async () => {
    const server = await createConnectHttpServer({ tls: { cert: certs.chainPem, key: certs.keyPem }, routes: [] });
    servers.push(server);
    const reply = await tlsHead(server.port, 20 * 1024);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(reply).toContain('Connection: close');
  });

  it('honours a configured maxHeaderBytes', async () => {
    const server = await createConnectHttpServer({
      tls: { cert: certs.chainPem, key: certs.keyPem },
      routes: [],
      maxHeaderBytes: 4 * 1024,
    });
    servers.push(server);
    expect(await tlsHead(server.port, 6 * 1024)).toMatch(/^HTTP\/1\.1 431 /);
  });
});
