/**
 * `RmClient.nextSession()` never leaves a caller hanging: it resolves with the next session that
 * completes its handshake, and rejects with an S2Error once no further session can come (the
 * client was stopped, or the single connection of `reconnect: false` failed or ended).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCemServer, type CemServer } from '../../src/roles/cem-server.js';
import { createRmClient, type RmClient, type RmClientOptions } from '../../src/roles/rm-client.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { S2Error } from '../../src/typebox/errors.js';

const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['NOT_CONTROLABLE'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};
/** A closed port on loopback: every dial fails at once. */
const NOWHERE = 'ws://127.0.0.1:1/';

const servers: CemServer[] = [];
const clients: RmClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
function client(options: Omit<RmClientOptions, 'details' | 'logger'>): RmClient {
  const c = createRmClient({ details, logger: false, ...options });
  clients.push(c);
  return c;
}

describe('RmClient.nextSession', () => {
  it('resolves with the session once its handshake is done', async () => {
    const cem = await createCemServer({ logger: false });
    servers.push(cem);
    const c = client({ url: cem.url });
    const session = await c.nextSession();
    expect(session.version).toBe('0.0.2-beta');
    expect(c.session).toBe(session);
  });

  it('a pending call rejects with S2Error INVALID_STATE when the client is stopped, and so does any later call', async () => {
    const c = client({ url: NOWHERE, reconnect: { initialMs: 10_000 } });
    const pending = c.nextSession();
    await c.stop();
    await expect(pending).rejects.toThrow(S2Error);
    await expect(pending).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/stopped/) as unknown });
    await expect(c.nextSession()).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('reconnect: false — a failed dial rejects waiting calls with the dial error itself', async () => {
    const c = client({ url: NOWHERE, reconnect: false });
    await expect(c.nextSession()).rejects.toMatchObject({ name: 'TransportConnectError', code: 'TRANSPORT_CONNECT_FAILED' });
    await expect(c.nextSession()).rejects.toMatchObject({ code: 'TRANSPORT_CONNECT_FAILED' });
  });

  it('[R22] reconnect: false — a connection that ends before its handshake rejects with the close code', async () => {
    // A CEM that shares no version with the RM (which offers 0.0.2-beta by default): no handshake
    // ever finishes (close 4001, or 4000 when the RM's 50 ms run out first).
    const cem = await createCemServer({ logger: false, versions: ['1.0.0-beta'] });
    servers.push(cem);
    const c = client({ url: cem.url, reconnect: false, handshakeTimeoutMs: 50 });
    await expect(c.nextSession()).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/connection ended \(\d+/) as unknown,
    });
  });
});
