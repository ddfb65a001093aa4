/**
 * Types that help. The assertions are checked by `tsc -p tsconfig.json` (`expectTypeOf` and the
 * `@ts-expect-error` lines fail the type check when a type is wider or narrower than promised);
 * the state-path list is also checked at run time against both session machines.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Role,
  type CemControlContext,
  type CemServerOptions,
  type EnergyManagementRole,
  type ExecutionStatus,
  type FinalStatus,
  type InstructionHandle,
  type ReportKind,
  type RmClientOptions,
  type RmControlContext,
  type SessionEvents,
  type SessionOptions,
  type SessionRole,
  type SessionStatePath,
} from '../../src/index.js';
import { cemSessionMachine, rmSessionMachine } from '../../src/machines/index.js';
import type { FRBCInstructionHandle } from '../../src/frbc.js';
import type { FRBCInstruction } from '../../src/typebox/frbc/instruction.js';
import type { PPBCEndInterruptionInstruction, PPBCScheduleInstruction } from '../../src/typebox/ppbc/instructions.js';
import type { S2Session } from '../../src/roles/session.js';

/** Every state path, as a value: the compile-time check below proves it is exactly SessionStatePath. */
const STATE_PATHS = [
  'handshake',
  'connected.awaitingDetails',
  'connected.awaitingSelection',
  'connected.noControlType',
  'connected.active.FRBC',
  'connected.active.PPBC',
  'connected.active.OMBC',
  'connected.active.PEBC',
  'connected.active.DDBC',
  'ending',
  'closing',
  'closed',
] as const satisfies readonly SessionStatePath[];
expectTypeOf<(typeof STATE_PATHS)[number]>().toEqualTypeOf<SessionStatePath>();

/** The dotted paths of a machine's leaf states. */
function leafPaths(node: { states: Record<string, unknown> }, prefix: string[] = []): string[] {
  const keys = Object.keys(node.states);
  if (keys.length === 0) return [prefix.join('.')];
  return keys.flatMap((k) => leafPaths(node.states[k] as { states: Record<string, unknown> }, [...prefix, k]));
}

describe('types that help', () => {
  it('SessionStatePath names exactly the leaf states of the CEM and RM session machines', () => {
    const leaves = new Set([...leafPaths(cemSessionMachine.root), ...leafPaths(rmSessionMachine.root)]);
    expect([...leaves].sort()).toEqual([...STATE_PATHS].sort());
  });

  it('`Role` is the S2 schema of ResourceManagerDetails.roles[]; the side a session plays is `SessionRole`', () => {
    expect(Role.type).toBe('object');
    expect(Object.keys(Role.properties).sort()).toEqual(['commodity', 'role']);
    expectTypeOf<Role>().toHaveProperty('commodity');
    expectTypeOf<SessionRole>().toEqualTypeOf<'CEM' | 'RM'>();
    expectTypeOf<SessionRole>().toEqualTypeOf<EnergyManagementRole>();
    expectTypeOf<S2Session['role']>().toEqualTypeOf<SessionRole>();
  });

  it('session events carry unions, not strings', () => {
    expectTypeOf<SessionEvents['state']['state']>().toEqualTypeOf<SessionStatePath>();
    expectTypeOf<S2Session['state']>().toEqualTypeOf<SessionStatePath>();
    expectTypeOf<SessionEvents['report']['kind']>().toEqualTypeOf<ReportKind>();
    expectTypeOf<string>().not.toMatchTypeOf<ReportKind>();
    expectTypeOf<'handler-error'>().toMatchTypeOf<ReportKind>();
    expectTypeOf<SessionEvents['error']['error']>().toEqualTypeOf<Error>();
    expectTypeOf<FinalStatus>().toEqualTypeOf<'SUCCEEDED' | 'ABORTED' | 'REJECTED' | 'REVOKED' | 'VOID'>();
  });

  it('ctx.status of an RM takes only the execution statuses', () => {
    expectTypeOf<Parameters<RmControlContext<'FRBC'>['status']>[1]>().toEqualTypeOf<'STARTED' | 'SUCCEEDED' | 'ABORTED'>();
    expectTypeOf<ExecutionStatus>().toEqualTypeOf<'STARTED' | 'SUCCEEDED' | 'ABORTED'>();
  });

  it('an instruction handle knows its instruction type', () => {
    expectTypeOf<ReturnType<CemControlContext<'FRBC'>['instruct']>>().toEqualTypeOf<InstructionHandle<FRBCInstruction>>();
    expectTypeOf<FRBCInstructionHandle>().toEqualTypeOf<InstructionHandle<FRBCInstruction>>();
    // A handle of one type still fits where any handle is expected.
    expectTypeOf<InstructionHandle<FRBCInstruction>>().toMatchTypeOf<InstructionHandle>();
  });
});

// Type-only checks: compiled by tsc, never run.

/** An FRBC instruct returns a handle of FRBC.Instruction; PPBC's instruct picks the message by its type. */
export function instructTypes(frbc: CemControlContext<'FRBC'>, ppbc: CemControlContext<'PPBC'>): void {
  const handle = frbc.instruct({ message_type: 'FRBC.Instruction', actuator_id: 'a', operation_mode: 'm', operation_mode_factor: 0.5 });
  expectTypeOf(handle).toEqualTypeOf<InstructionHandle<FRBCInstruction>>();
  expectTypeOf(handle.message.operation_mode_factor).toEqualTypeOf<number>();
  const schedule = ppbc.instruct({
    message_type: 'PPBC.ScheduleInstruction',
    power_profile_id: 'p',
    sequence_container_id: 'c',
    power_sequence_id: 's',
  });
  expectTypeOf(schedule.message).toEqualTypeOf<PPBCScheduleInstruction>();
  const end = ppbc.instruct({
    message_type: 'PPBC.EndInterruptionInstruction',
    power_profile_id: 'p',
    sequence_container_id: 'c',
    power_sequence_id: 's',
  });
  expectTypeOf(end.message).toEqualTypeOf<PPBCEndInterruptionInstruction>();
  frbc.instruct({
    message_type: 'FRBC.Instruction',
    actuator_id: 'a',
    operation_mode: 'm',
    operation_mode_factor: 0.5,
    // @ts-expect-error a misspelt field is still an error (the input is not a free type parameter)
    operation_mod: 'x',
  });
  // @ts-expect-error an instruction of another control type
  frbc.instruct({ message_type: 'PPBC.ScheduleInstruction', power_profile_id: 'p', sequence_container_id: 'c', power_sequence_id: 's' });
  // The defaulted fields accept undefined (exactOptionalPropertyTypes).
  frbc.instruct({
    message_type: 'FRBC.Instruction',
    actuator_id: 'a',
    operation_mode: 'm',
    operation_mode_factor: 0.5,
    id: undefined,
    execution_time: undefined,
  });
}

/** The library's statuses are not the application's to send. */
export function statusTypes(ctx: RmControlContext<'FRBC'>): void {
  void ctx.status('i', 'STARTED');
  void ctx.status('i', 'SUCCEEDED');
  void ctx.status('i', 'ABORTED');
  // @ts-expect-error ACCEPTED follows from onInstruction's decision
  void ctx.status('i', 'ACCEPTED');
  // @ts-expect-error REJECTED follows from onInstruction's decision
  void ctx.status('i', 'REJECTED');
  // @ts-expect-error REVOKED answers the CEM's RevokeObject
  void ctx.status('i', 'REVOKED');
  // @ts-expect-error NEW is never needed
  void ctx.status('i', 'NEW');
}

/** A state path and a report kind are checked names. */
export function unionTypes(session: S2Session): void {
  session.on('state', ({ state }) => {
    // @ts-expect-error no such state
    if (state === 'connected.active.XYZ') return;
  });
  session.on('report', ({ kind }) => {
    // @ts-expect-error no such report kind
    if (kind === 'handler-errors') return;
  });
  // @ts-expect-error report kinds are a closed set
  session.report('whatever', 'detail');
}

/** Optional options take `undefined` as "not given", as environment variables and config files produce. */
export function optionTypes(env: Record<string, string | undefined>): void {
  const cem: CemServerOptions = {
    token: env.S2_TOKEN,
    port: undefined,
    host: env.HOST,
    path: undefined,
    logger: undefined,
    receptionTimeoutMs: undefined,
    controlTypes: { FRBC: undefined },
    onSession: undefined,
    tls: undefined,
    maxFrameBytes: undefined,
    ids: undefined,
  };
  const rm: RmClientOptions = {
    url: 'ws://cem',
    details: {
      resource_id: 'r',
      roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
      instruction_processing_delay: 0,
      available_control_types: ['NOT_CONTROLABLE'],
      provides_forecast: false,
      provides_power_measurement_types: [],
    },
    token: env.S2_TOKEN,
    ca: undefined,
    reconnect: { initialMs: undefined, jitter: undefined },
    onDialError: undefined,
    heartbeatMs: undefined,
    logger: false,
  };
  const session: SessionOptions = {
    role: 'CEM',
    versions: undefined,
    clock: undefined,
    now: undefined,
    inspect: undefined,
    sessionId: env.ID,
  };
  void [cem, rm, session];
}
