/**
 * A deterministic FRBC session pair for the inspector tests: fixed ids and clock, the CEM
 * instructs once the RM described itself, the RM accepts, starts and succeeds; then the test
 * pushes a few bad frames into the CEM (not JSON, a schema violation, a message not allowed now)
 * and closes. Every frame either side put on the wire is recorded.
 */
import type { InspectionEvent } from 'xstate';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { attachCemControlTypes, type FinalStatus } from '../../src/roles/cem-control.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { Transport, TransportHandlers } from '../../src/transport/transport.js';
import type { FRBCSystemDescription } from '../../src/typebox/frbc/system-description.js';
import { fixtureText } from '../support/fixtures.js';

export const description = JSON.parse(fixtureText('FRBC.SystemDescription')) as FRBCSystemDescription;

export const RM_NAME = 'Battery of Mrs. Example, Elm Street 5';

export const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  name: RM_NAME,
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};

const BASE_MS = Date.parse('2026-01-01T00:00:00Z');

/** The bad frames pushed into the CEM at the end, with the ReceptionStatus each must get. */
export const BAD_FRAMES = {
  notJson: 'this is not JSON {',
  schema: JSON.stringify({
    message_type: 'PowerMeasurement',
    message_id: '5e1f0000-0000-4000-8000-00000000bad1',
    measurement_timestamp: 'yesterday',
    values: 'lots',
  }),
  notAllowed: JSON.stringify({
    message_type: 'SelectControlType',
    message_id: '5e1f0000-0000-4000-8000-00000000bad2',
    control_type: 'FILL_RATE_BASED_CONTROL',
  }),
} as const;

/** A transport that records what its owner sends and lets the test put frames in front of the owner. */
function tap(inner: Transport) {
  const frames: string[] = [];
  let handlers: TransportHandlers | undefined;
  const transport: Transport = {
    peer: inner.peer,
    get isOpen() {
      return inner.isOpen;
    },
    start(h) {
      handlers = h;
      inner.start(h);
    },
    send(text) {
      frames.push(text);
      inner.send(text);
    },
    close(code, reason) {
      inner.close(code, reason);
    },
  };
  return { transport, frames, inject: (text: string) => handlers?.text(text) };
}

const idsFor = (prefix: string) => {
  let n = 0;
  return () => `${prefix}-0000-4000-8000-${String(++n).padStart(12, '0')}`;
};

export interface Hooks {
  readonly inspect?: (event: InspectionEvent) => void;
  readonly attach?: (session: S2Session) => void;
  /** The S2 versions the RM offers (default the library's RM default, 0.0.2-beta); the CEM speaks both. */
  readonly rmVersions?: readonly string[];
}

export interface ScenarioResult {
  readonly cem: S2Session;
  readonly rm: S2Session;
  readonly cemFrames: readonly string[];
  readonly rmFrames: readonly string[];
  readonly final: FinalStatus;
}

export async function runScenario(hooks: Hooks = {}): Promise<ScenarioResult> {
  const [a, b] = createMemoryPair({ a: 'cem', b: 'rm' });
  const cemTap = tap(a);
  const rmTap = tap(b);
  const common = { now: () => BASE_MS, ...(hooks.inspect ? { inspect: hooks.inspect } : {}) };
  const cem = new S2Session(cemTap.transport, { role: 'CEM', newId: idsFor('cccccccc'), ...common });
  hooks.attach?.(cem);
  const rm = new S2Session(rmTap.transport, {
    role: 'RM',
    details,
    newId: idsFor('aaaaaaaa'),
    ...(hooks.rmVersions ? { versions: hooks.rmVersions } : {}),
    ...common,
  });
  hooks.attach?.(rm);
  const actuator = description.actuators[0]!;
  attachRmControlTypes(rm, {
    FRBC: {
      async activate(ctx) {
        const { message_id: _, ...rest } = description;
        await ctx.send(rest);
      },
      onInstruction: () => 'accept',
      async execute(instruction, ctx) {
        await ctx.status(instruction.id, 'STARTED');
        await ctx.status(instruction.id, 'SUCCEEDED');
      },
    },
  });
  const final = new Promise<FinalStatus>((resolve) =>
    attachCemControlTypes(cem, {
      FRBC: {
        'FRBC.SystemDescription'(d, ctx) {
          const act = d.actuators[0]!;
          void ctx
            .instruct({
              message_type: 'FRBC.Instruction',
              id: 'dddddddd-0000-4000-8000-000000000001',
              message_id: 'dddddddd-0000-4000-8000-0000000000aa',
              actuator_id: act.id,
              operation_mode: actuator.operation_modes[0]!.id,
              operation_mode_factor: 0.5,
            })
            .final.then(resolve);
        },
      },
    }),
  );
  cem.start();
  rm.start();
  const status = await final;
  // Let the last ReceptionStatuses cross before the bad frames arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const frame of Object.values(BAD_FRAMES)) cemTap.inject(frame);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await cem.close();
  await rm.closed;
  return { cem, rm, cemFrames: cemTap.frames, rmFrames: rmTap.frames, final: status };
}
