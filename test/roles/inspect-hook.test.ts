import { expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { S2Session } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';

const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

/** Runs a CEM/RM pair to FRBC active; returns the message types the CEM sent, in order. */
async function run(inspect?: (e: InspectionEvent) => void) {
  let n = 0;
  const ids = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const [a, b] = createMemoryPair();
  const cem = new S2Session(a, { role: 'CEM', newId: ids, ...(inspect ? { inspect } : {}) });
  const rm = new S2Session(b, { role: 'RM', details, newId: ids });
  const sent: string[] = [];
  cem.on('sent', ({ message }) => sent.push(message.message_type === 'ReceptionStatus' ? `RS ${message.status}` : message.message_type));
  cem.start();
  rm.start();
  await new Promise<void>((r) => cem.on('controlType', () => r()));
  await cem.close();
  return { sent, state: cem.state };
}

it('the inspect option sees the session actor and its control-type child, and changes nothing on the wire', async () => {
  const events: InspectionEvent[] = [];
  const inspected = await run((e) => events.push(e));
  const plain = await run();
  expect(inspected.sent).toEqual(plain.sent);
  const actors = new Set(
    events.filter((e) => e.type === '@xstate.actor').map((e) => (e.actorRef as unknown as { logic: { id?: string } }).logic.id),
  );
  expect(actors).toContain('cemSession');
  expect(actors).toContain('FRBC');
  expect(events.some((e) => e.type === '@xstate.snapshot')).toBe(true);
});
