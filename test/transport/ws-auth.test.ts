import { describe, expect, it } from 'vitest';
import { CloseCode, connectWs, createWsServer, TransportConnectError, type WsServerOptions } from '../../src/transport/index.js';
import { collect, leakGuard, makeCerts, rawUpgrade } from './helpers.js';

const guard = leakGuard();
const TOKEN = 's2-secret-token';

async function countingServer(options: Partial<WsServerOptions> = {}) {
  let connections = 0;
  const server = await createWsServer({
    ...options,
    onConnection: (transport) => {
      connections += 1;
      transport.start({ text: (frame) => transport.send(frame), close: () => undefined });
    },
  });
  guard.defer(() => server.close());
  return { server, connections: () => connections };
}

describe('bearer token on the upgrade', () => {
  it('accepts the right token', async () => {
    const { server, connections } = await countingServer({ token: TOKEN });
    const client = await connectWs(server.url, { token: TOKEN });
    const events = collect(client);
    client.send('ping');
    expect(await events.nextFrame()).toBe('ping');
    expect(connections()).toBe(1);
    client.close(CloseCode.NORMAL, '');
    await events.closed;
    await server.close();
  });

  it('answers a missing token with 401 and WWW-Authenticate: Bearer', async () => {
    const { server, connections } = await countingServer({ token: TOKEN });
    const raw = await rawUpgrade(server.url);
    expect(raw.status).toBe(401);
    expect(raw.headers['www-authenticate']).toBe('Bearer realm="s2"');
    const error = await connectWs(server.url).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as TransportConnectError).httpStatus).toBe(401);
    expect(String(error)).toMatch(/HTTP 401/);
    expect(connections()).toBe(0);
    await server.close();
  });

  it('answers a wrong token (or another scheme) with 401 invalid_token', async () => {
    const { server, connections } = await countingServer({ token: TOKEN });
    const wrong = await rawUpgrade(server.url, { Authorization: 'Bearer s2-secret-tokeN' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    const basic = await rawUpgrade(server.url, { Authorization: `Basic ${TOKEN}` });
    expect(basic.status).toBe(401);
    await expect(connectWs(server.url, { token: `${TOKEN}x` })).rejects.toMatchObject({
      httpStatus: 401,
      code: 'TRANSPORT_CONNECT_FAILED',
    });
    await expect(connectWs(server.url, { token: '' })).rejects.toMatchObject({ httpStatus: 401, code: 'TRANSPORT_CONNECT_FAILED' });
    expect(connections()).toBe(0);
    await server.close();
  });

  it('accepts the scheme name case-insensitively', async () => {
    const { server, connections } = await countingServer({ token: TOKEN });
    const raw = await rawUpgrade(server.url, { Authorization: `bearer ${TOKEN}` });
    expect(raw.status).toBe(101);
    raw.socket?.destroy();
    await server.close();
    expect(connections()).toBe(1);
  });
});

// .ci/run installs openssl when it is missing: the TLS tests never skip.
describe('TLS (wss)', () => {
  const certs = makeCerts();

  it('connects with the private CA and rejects without it', async () => {
    const { server } = await countingServer({ tls: { cert: certs.cert, key: certs.key }, token: TOKEN });
    expect(server.url).toBe(`wss://127.0.0.1:${server.port}`);

    const client = await connectWs(server.url, { ca: certs.ca, token: TOKEN });
    const events = collect(client);
    client.send('over tls');
    expect(await events.nextFrame()).toBe('over tls');
    client.close(CloseCode.NORMAL, '');
    await events.closed;

    const untrusted = await connectWs(server.url, { token: TOKEN }).catch((err: unknown) => err);
    expect(untrusted).toBeInstanceOf(TransportConnectError);
    expect(String(untrusted)).toMatch(/certificate/i);
    await server.close();
  });
});
