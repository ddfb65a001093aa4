import { describe, expect, it } from 'vitest';
import { attachCemControlTypes, type FinalStatus, type InstructionHandle } from '../../src/roles/cem-control.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { FRBCSystemDescription } from '../../src/typebox/frbc/system-description.js';
import { fixtureText } from '../support/fixtures.js';

const sd = JSON.parse(fixtureText('FRBC.SystemDescription')) as FRBCSystemDescription;
const actuator = sd.actuators[0]!;
const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

function pair() {
  const [a, b] = createMemoryPair();
  return { cem: new S2Session(a, { role: 'CEM' }), rm: new S2Session(b, { role: 'RM', details }) };
}

describe('per-control-type role API (FRBC)', () => {
  it('[R39, R43, R44, R46] the CEM instructs after the description; the RM accepts, executes and succeeds; the handle ends SUCCEEDED', async () => {
    const { cem, rm } = pair();
    const executed: string[] = [];
    attachRmControlTypes(rm, {
      FRBC: {
        async activate(ctx) {
          const { message_id: _, ...description } = sd;
          await ctx.send(description);
          await ctx.send({
            message_type: 'FRBC.ActuatorStatus',
            actuator_id: actuator.id,
            active_operation_mode_id: actuator.operation_modes[0]!.id,
            operation_mode_factor: 0,
          });
        },
        onInstruction: (instruction) => (instruction.operation_mode_factor <= 1 ? 'accept' : { reject: 'factor' }),
        async execute(instruction, ctx) {
          executed.push(instruction.id);
          await ctx.status(instruction.id, 'STARTED');
          await ctx.status(instruction.id, 'SUCCEEDED');
        },
      },
    });
    const final = new Promise<FinalStatus>((resolve) => {
      attachCemControlTypes(cem, {
        FRBC: {
          'FRBC.SystemDescription'(description, ctx) {
            const a = description.actuators[0]!;
            const handle = ctx.instruct({
              message_type: 'FRBC.Instruction',
              actuator_id: a.id,
              operation_mode: a.operation_modes[0]!.id,
              operation_mode_factor: 0.5,
            });
            void handle.final.then(resolve);
          },
        },
      });
    });
    cem.start();
    rm.start();
    expect(await final).toBe('SUCCEEDED');
    expect(executed).toHaveLength(1);
    await cem.close();
  });

  it('[R48, Q12] a rejected instruction ends REJECTED; a control-type switch leaves open ones VOID', async () => {
    const { cem, rm } = pair();
    attachRmControlTypes(rm, {
      FRBC: {
        async activate(ctx) {
          const { message_id: _, ...description } = sd;
          await ctx.send(description);
        },
        onInstruction: (instruction) => (instruction.operation_mode_factor > 0.9 ? { reject: 'too much' } : 'accept'),
      },
    });
    const handles: InstructionHandle[] = [];
    const described = new Promise<void>((resolve) =>
      attachCemControlTypes(cem, {
        FRBC: {
          'FRBC.SystemDescription'(description, ctx) {
            const a = description.actuators[0]!;
            const mode = a.operation_modes[0]!.id;
            handles.push(
              ctx.instruct({ message_type: 'FRBC.Instruction', actuator_id: a.id, operation_mode: mode, operation_mode_factor: 1 }),
            );
            handles.push(
              ctx.instruct({ message_type: 'FRBC.Instruction', actuator_id: a.id, operation_mode: mode, operation_mode_factor: 0.1 }),
            );
            resolve();
          },
        },
      }),
    );
    cem.start();
    rm.start();
    await described;
    const [rejected, open] = handles as [InstructionHandle, InstructionHandle];
    expect(await rejected.final).toBe('REJECTED');
    // No execute handler: the second stays ACCEPTED until the control type goes away.
    if (open.status() !== 'ACCEPTED') {
      await new Promise<void>((resolve) => cem.on('notice', (n) => n.kind === 'status' && n.instructionId === open.id && resolve()));
    }
    expect(open.status()).toBe('ACCEPTED');
    cem.select('NO_SELECTION');
    expect(await open.final).toBe('VOID');
    expect(open.status()).toBe('ACCEPTED');
    await cem.close();
  });
});

describe('instruction ids across activations', () => {
  it('[R42] an instruction id stays used for the whole session, also after the control type was switched away and back', async () => {
    const { cem, rm } = pair();
    attachRmControlTypes(rm, {
      FRBC: {
        async activate(ctx) {
          const { message_id: _, ...description } = sd;
          await ctx.send(description);
        },
      },
    });
    let activations = 0;
    let again!: () => void;
    const reactivated = new Promise<void>((r) => (again = r));
    const first = new Promise<InstructionHandle>((resolve) =>
      attachCemControlTypes(cem, {
        FRBC: {
          'FRBC.SystemDescription'(description, ctx) {
            activations++;
            if (activations === 2) return again();
            const a = description.actuators[0]!;
            resolve(
              ctx.instruct({
                id: '5d9c3f0e-1a2b-4c3d-8e4f-000000000042',
                message_type: 'FRBC.Instruction',
                actuator_id: a.id,
                operation_mode: a.operation_modes[0]!.id,
                operation_mode_factor: 0.2,
              }),
            );
          },
        },
      }),
    );
    cem.start();
    rm.start();
    const handle = await first;
    expect((await handle.sent).status).toBe('OK');
    cem.select('NO_SELECTION');
    await new Promise<void>((r) => cem.on('controlType', () => r()));
    cem.select('FILL_RATE_BASED_CONTROL');
    await reactivated;
    expect(() => cem.send({ ...handle.message, message_id: undefined } as never)).toThrow(/R42/);
    await cem.close();
  });
});
