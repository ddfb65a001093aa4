import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCemServer } from '../../src/roles/cem-server.js';
import { createRmClient } from '../../src/roles/rm-client.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { rawToString } from '../../src/transport/ws-transport.js';

const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['NOT_CONTROLABLE'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

it('[R11, R15] metrics count sessions by state, messages both ways and refusals by status', async () => {
  const cem = await createCemServer({ port: 0 });
  const rm = createRmClient({ url: cem.url, details, reconnect: false });
  const session = await rm.nextSession();
  await new Promise<void>((r) => (session.controlType === 'NOT_CONTROLABLE' ? r() : session.on('controlType', () => r())));
  await session.send({
    message_type: 'PowerMeasurement',
    measurement_timestamp: '2026-01-01T00:00:00Z',
    values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 5 }],
  });
  // A raw client sends a frame that is not JSON: one INVALID_DATA.
  const raw = new WebSocket(cem.url);
  await new Promise((r) => raw.once('open', r));
  raw.send('not json');
  await new Promise((r) => raw.on('message', (d) => rawToString(d).includes('INVALID_DATA') && r(undefined)));
  const m = cem.metrics();
  expect(m.sessionsOpened).toBe(2);
  expect(m.sessionsByState['connected.noControlType']).toBe(1);
  expect(m.sessionsByState['handshake']).toBe(1);
  expect(m.refusedByStatus).toEqual({ INVALID_DATA: 1 });
  expect(m.messagesReceived).toBeGreaterThanOrEqual(6); // Handshake, RSs, details, measurement, the bad frame
  expect(m.messagesSent).toBeGreaterThanOrEqual(5);
  raw.close();
  await rm.stop();
  await cem.close();
  expect(cem.metrics().sessionsClosed).toBe(2);
});
