import { expect, it } from 'vitest';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { FRBCSystemDescription } from '../../src/typebox/frbc/system-description.js';
import { fixtureText } from '../support/fixtures.js';

const sd = JSON.parse(fixtureText('FRBC.SystemDescription')) as FRBCSystemDescription;
const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

it('[R39, R73] activate may send the description and the statuses that refer to it back to back, without awaiting', async () => {
  const [a, b] = createMemoryPair();
  const cem = new S2Session(a, { role: 'CEM' });
  const rm = new S2Session(b, { role: 'RM', details });
  const results: Promise<{ status: string }>[] = [];
  const actuator = sd.actuators[0]!;
  attachRmControlTypes(rm, {
    FRBC: {
      activate(ctx) {
        const { message_id: _, ...description } = sd;
        results.push(ctx.send(description));
        results.push(
          ctx.send({
            message_type: 'FRBC.ActuatorStatus',
            actuator_id: actuator.id,
            active_operation_mode_id: actuator.operation_modes[0]!.id,
            operation_mode_factor: 0,
          }),
        );
        results.push(ctx.send({ message_type: 'FRBC.StorageStatus', present_fill_level: 3 }));
      },
    },
  });
  const failures: string[] = [];
  rm.on('report', (r) => failures.push(r.detail));
  cem.start();
  rm.start();
  await new Promise<void>((r) => rm.on('controlType', () => r()));
  await new Promise((r) => setTimeout(r, 0));
  expect(failures).toEqual([]);
  expect(results).toHaveLength(3);
  expect((await Promise.all(results)).map((r) => r.status)).toEqual(['OK', 'OK', 'OK']);
  await cem.close();
});
