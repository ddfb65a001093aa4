/**
 * Transport limits and security as seen by whole sessions over real WebSockets on 127.0.0.1:
 * frame size (1009), binary frames (1003), the bearer token on the upgrade (401, no session), and
 * a complete session over `wss://` with a private CA.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/machines/close-codes.js';
import { TransportConnectError } from '../../src/transport/ws-client.js';
import { makeCerts, rawUpgrade, waitFor, type TestCerts } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { frbcActivationMessages, frbcInstruction, handshake, powerMeasurement, rmDetailsInput } from '../support/e2e-messages.js';
import { rawRmHandshake } from '../support/raw-ws-peer.js';

const guard = e2eGuard();

describe('frame limits', () => {
  it('[R1] a frame above maxFrameBytes closes the session with 1009', async () => {
    const server = await guard.cemServer({ maxFrameBytes: 1024 });
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer);
    const session = await server.session();
    // Just below the limit is fine …
    const small = powerMeasurement();
    expect(JSON.stringify(small).length).toBeLessThan(1024);
    const id = peer.send(small) as string;
    expect(await peer.statusFor(id)).toMatchObject({ status: 'OK' });
    // … above it ends the connection, without a ReceptionStatus.
    peer.sendRaw(
      JSON.stringify({
        ...powerMeasurement(),
        values: Array.from({ length: 40 }, () => ({ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1 })),
      }),
    );
    expect(await peer.closed).toMatchObject({ code: CloseCode.MESSAGE_TOO_BIG });
    expect(await session.closed).toMatchObject({ code: CloseCode.MESSAGE_TOO_BIG });
    expect(server.sessions.size).toBe(0);
    await server.close();
  });

  it('[R1] a binary frame closes the session with 1003', async () => {
    const server = await guard.cemServer();
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer);
    const session = await server.session();
    const before = peer.all('ReceptionStatus').length;
    peer.sendBinary(Buffer.from(JSON.stringify(powerMeasurement())));
    expect(await peer.closed).toMatchObject({ code: CloseCode.UNSUPPORTED_DATA });
    expect(await session.closed).toMatchObject({ code: CloseCode.UNSUPPORTED_DATA });
    expect(peer.all('ReceptionStatus')).toHaveLength(before);
    await server.close();
  });
});

describe('bearer token', () => {
  it('a missing or wrong token is answered 401 and never becomes a session; the right one does', async () => {
    const server = await guard.cemServer({ token: 's3cret-token' });
    const missing = await rawUpgrade(server.url);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await rawUpgrade(server.url, { Authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/invalid_token/);

    const errors: unknown[] = [];
    const rm = guard.rmClient({
      url: server.url,
      details: rmDetailsInput(),
      token: 'guessed',
      reconnect: false,
      onDialError: (err) => errors.push(err),
    });
    await waitFor(() => errors.length === 1, 2_000, 'a dial error');
    expect(errors[0]).toBeInstanceOf(TransportConnectError);
    expect((errors[0] as TransportConnectError).httpStatus).toBe(401);
    expect(rm.all).toEqual([]);
    await expect(guard.peer(server.url, { token: 'also-wrong' })).rejects.toThrow(/401/);
    expect(server.all).toEqual([]);
    expect(server.sessions.size).toBe(0);
    await rm.stop();

    const good = guard.rmClient({ url: server.url, details: rmDetailsInput(), token: 's3cret-token', reconnect: false });
    await waitFor(() => good.all[0]?.state === 'connected.active.FRBC', 3_000, 'authenticated RM active');
    expect(server.all).toHaveLength(1);
    await good.stop();
    await server.close();
  });
});

describe('TLS', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });

  it('a full session over wss:// with a private CA', async () => {
    const server = await guard.cemServer({ tls: { cert: certs.cert, key: certs.key }, token: 'tls-token' });
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const rm = guard.rmClient({ url: server.url, ca: certs.ca, token: 'tls-token', details: rmDetailsInput(), reconnect: false });
    const cem = await server.session();
    await waitFor(
      () => rm.all[0]?.state === 'connected.active.FRBC' && cem.state === 'connected.active.FRBC',
      3_000,
      'both active over TLS',
    );
    const rmSession = rm.all[0];
    if (!rmSession) throw new Error('no RM session');
    for (const m of frbcActivationMessages()) expect((await rmSession.send(m as never)).status).toBe('OK');
    expect((await rmSession.send(powerMeasurement() as never)).status).toBe('OK');
    expect((await cem.send(frbcInstruction() as never)).status).toBe('OK');
    await rm.stop();
    expect(await cem.closed).toMatchObject({ code: CloseCode.NORMAL });
    await server.close();
  });

  it('a client that does not trust the private CA cannot connect', async () => {
    const server = await guard.cemServer({ tls: { cert: certs.cert, key: certs.key } });
    const errors: unknown[] = [];
    const rm = guard.rmClient({ url: server.url, details: rmDetailsInput(), reconnect: false, onDialError: (err) => errors.push(err) });
    await waitFor(() => errors.length === 1, 3_000, 'a dial error');
    expect(errors[0]).toBeInstanceOf(TransportConnectError);
    expect(server.all).toEqual([]);
    await rm.stop();
    await server.close();
  });

  it('a raw peer over wss:// gets the same ReceptionStatus semantics', async () => {
    const server = await guard.cemServer({ tls: { cert: certs.cert, key: certs.key } });
    const peer = await guard.peer(server.url, { ca: certs.ca });
    const id = peer.send(handshake('RM')) as string;
    expect(await peer.statusFor(id)).toMatchObject({ status: 'OK' });
    peer.sendRaw('{oops');
    expect(await peer.next((m) => m.status === 'INVALID_DATA', 'INVALID_DATA')).toMatchObject({
      subject_message_id: '00000000-0000-0000-0000-000000000000',
    });
    await peer.close();
    await server.close();
  });
});
