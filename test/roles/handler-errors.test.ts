/**
 * The application's own failures, on both roles: a handler that throws must not make the engine
 * blame the peer (its message was valid), and every failure must reach the application (the
 * session's `error` event, a `handler-error` report, a logger error) instead of vanishing.
 */
import { describe, expect, it } from 'vitest';
import { attachCemControlTypes, type FinalStatus } from '../../src/roles/cem-control.js';
import type { Logger } from '../../src/roles/logger.js';
import { attachRmControlTypes, type ExecutionStatus } from '../../src/roles/rm-control.js';
import { S2Session, type SendResult, type SessionEvents } from '../../src/roles/session.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { FRBCSystemDescription } from '../../src/typebox/frbc/system-description.js';
import { fixtureText } from '../support/fixtures.js';
import { waitFor } from '../transport/helpers.js';

const sd = JSON.parse(fixtureText('FRBC.SystemDescription')) as FRBCSystemDescription;
const { message_id: _, ...description } = sd;
const actuator = sd.actuators[0]!;
const mode = actuator.operation_modes[0]!.id;
const details: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};
const actuatorStatus = {
  message_type: 'FRBC.ActuatorStatus',
  actuator_id: actuator.id,
  active_operation_mode_id: mode,
  operation_mode_factor: 0,
} as const;

/** A logger that keeps what it is given, per level. */
function recordingLogger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, errors: () => lines.filter((l) => l.level === 'error') };
}

/** A CEM and an RM session over an in-memory pair, each with a recording logger and its `error` events collected. */
function pair() {
  const [a, b] = createMemoryPair({ a: 'cem', b: 'rm' });
  const cemLog = recordingLogger();
  const rmLog = recordingLogger();
  const cem = new S2Session(a, { role: 'CEM', logger: cemLog.logger });
  const rm = new S2Session(b, { role: 'RM', details, logger: rmLog.logger });
  const cemErrors: Array<SessionEvents['error']> = [];
  const rmErrors: Array<SessionEvents['error']> = [];
  cem.on('error', (e) => cemErrors.push(e));
  rm.on('error', (e) => rmErrors.push(e));
  return { cem, rm, cemLog, rmLog, cemErrors, rmErrors };
}

describe('a handler that throws on a valid message', () => {
  it('[R15, R19] CEM: a typed handler throwing on the RM’s valid message answers TEMPORARY_ERROR, raises the error, and the session goes on', async () => {
    const { cem, rm, cemLog, cemErrors } = pair();
    let failing = true;
    attachCemControlTypes(cem, {
      FRBC: {
        'FRBC.SystemDescription'() {
          if (failing) throw new Error('policy crashed');
        },
      },
    });
    const results: SendResult[] = [];
    attachRmControlTypes(rm, {
      FRBC: {
        async activate(ctx) {
          results.push(await ctx.send(description));
          failing = false;
          results.push(await ctx.send({ ...description, valid_from: '2025-01-01T12:00:00.000Z' })); // sent again (R19)
          results.push(await ctx.send(actuatorStatus));
        },
      },
    });
    const reports: Array<SessionEvents['report']> = [];
    cem.on('report', (r) => reports.push(r));
    cem.start();
    rm.start();
    await waitFor(() => results.length === 3, 2_000, 'three answers');
    expect(results.map((r) => r.status)).toEqual(['TEMPORARY_ERROR', 'OK', 'OK']);
    expect(results[0]?.diagnosticLabel).toBe('the receiving application failed to process this message');
    expect(cemErrors).toEqual([
      { source: 'handler for FRBC.SystemDescription', error: expect.objectContaining({ message: 'policy crashed' }) as unknown },
    ]);
    expect(reports).toEqual([{ kind: 'handler-error', detail: 'handler for FRBC.SystemDescription failed: policy crashed' }]);
    expect(cemLog.errors()).toEqual([
      expect.objectContaining({
        msg: 'handler for FRBC.SystemDescription failed',
        obj: expect.objectContaining({ kind: 'handler-error' }) as unknown,
      }),
    ]);
    expect(cem.state).toBe('connected.active.FRBC');
    expect(rm.state).toBe('connected.active.FRBC');
    await cem.close();
  });

  it('[R15, R19] RM: a message handler throwing on the CEM’s valid instruction answers TEMPORARY_ERROR and the session goes on', async () => {
    const { cem, rm, rmErrors } = pair();
    rm.use((m) => {
      if (m.message_type === 'FRBC.Instruction') throw new Error('device bus down');
    });
    rm.on('controlType', () => queueMicrotask(() => void rm.send(description)));
    let final: Promise<FinalStatus> | undefined;
    let sent: Promise<SendResult> | undefined;
    attachCemControlTypes(cem, {
      FRBC: {
        'FRBC.SystemDescription'(_d, ctx) {
          const handle = ctx.instruct({
            message_type: 'FRBC.Instruction',
            actuator_id: actuator.id,
            operation_mode: mode,
            operation_mode_factor: 0.5,
          });
          final = handle.final;
          sent = handle.sent;
        },
      },
    });
    cem.start();
    rm.start();
    await waitFor(() => sent !== undefined, 2_000, 'the instruction');
    expect(await sent).toMatchObject({ status: 'TEMPORARY_ERROR' });
    // An instruction the RM did not take at reception level never gets a status (R16).
    expect(await final).toBe('VOID');
    expect(rmErrors.map((e) => [e.source, e.error.message])).toEqual([['handler for FRBC.Instruction', 'device bus down']]);
    expect(await rm.send(actuatorStatus)).toMatchObject({ status: 'OK' });
    expect(rm.isClosed).toBe(false);
    await cem.close();
  });

  it('[R15] a handler returning something that is not a status is a handler failure too: TEMPORARY_ERROR, error raised', async () => {
    const { cem, rm, cemErrors } = pair();
    cem.use((m) => (m.message_type === 'PowerMeasurement' ? ('ok' as never) : undefined));
    cem.start();
    rm.start();
    await waitFor(() => rm.state === 'connected.active.FRBC', 2_000, 'FRBC active');
    const result = await rm.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: '2025-01-01T12:00:00.000Z',
      values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1 }],
    });
    expect(result.status).toBe('TEMPORARY_ERROR');
    expect(cemErrors[0]?.error).toBeInstanceOf(S2Error);
    expect(cemErrors[0]?.error.message).toMatch(/returned "ok"/);
    await cem.close();
  });

  it('[R15] a report listener that always throws does not loop: the first failure is raised, the one while raising it is logged', async () => {
    const { cem, rm, cemErrors, cemLog } = pair();
    cem.on('report', () => {
      throw new Error('report listener bug');
    });
    cem.use((m) => {
      if (m.message_type === 'PowerMeasurement') throw new Error('handler bug');
    });
    cem.start();
    rm.start();
    await waitFor(() => rm.state === 'connected.active.FRBC', 2_000, 'FRBC active');
    expect(
      await rm.send({
        message_type: 'PowerMeasurement',
        measurement_timestamp: '2025-01-01T12:00:00.000Z',
        values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value: 1 }],
      }),
    ).toMatchObject({ status: 'TEMPORARY_ERROR' });
    expect(cemErrors.map((e) => e.source)).toEqual(['handler for PowerMeasurement']);
    expect(cemLog.errors().map((l) => l.msg)).toEqual(['handler for PowerMeasurement failed', "'report' listener threw"]);
    await cem.close();
  });

  it('[R15] a throwing listener of a session event is raised as an error; a throwing error listener is only logged (no loop)', async () => {
    const { cem, rm, cemErrors, cemLog } = pair();
    cem.on('handshake', () => {
      throw new Error('listener bug');
    });
    cem.on('error', () => {
      throw new Error('error listener bug');
    });
    cem.start();
    rm.start();
    await waitFor(() => cemErrors.length > 0, 2_000, 'the error event');
    expect(cemErrors).toEqual([{ source: "'handshake' listener", error: expect.objectContaining({ message: 'listener bug' }) as unknown }]);
    await waitFor(() => cemLog.errors().length === 2, 2_000, 'two logged errors');
    expect(cemLog.errors().map((l) => l.msg)).toEqual(["'handshake' listener failed", "'error' listener threw"]);
    expect(cem.isClosed).toBe(false);
    await cem.close();
  });
});

describe('RM control-type handlers that fail', () => {
  it('[R39] a message activate() sends that fails validation is raised as an S2Error naming the problem, not only reported', async () => {
    const { cem, rm, rmErrors, rmLog } = pair();
    const settled: string[] = [];
    attachRmControlTypes(rm, {
      FRBC: {
        async activate(ctx) {
          try {
            await ctx.send({ ...actuatorStatus, operation_mode_factor: 'half' as never });
            settled.push('sent');
          } catch (err) {
            settled.push(`refused ${(err as S2Error).code}`);
            throw err; // let it escape: the library raises it
          }
        },
      },
    });
    cem.start();
    rm.start();
    await waitFor(() => rmErrors.length > 0, 2_000, 'the error event');
    expect(settled).toEqual(['refused INVALID_OUTGOING_MESSAGE']);
    const error = rmErrors[0]!.error as S2Error;
    expect(rmErrors[0]!.source).toBe('FRBC activate');
    expect(error).toBeInstanceOf(S2Error);
    expect(error.code).toBe('INVALID_OUTGOING_MESSAGE');
    expect(error.problems[0]).toMatchObject({ path: '$.operation_mode_factor', value: '"half"' });
    expect(rmLog.errors()).toHaveLength(1);
    expect(rm.state).toBe('connected.active.FRBC');
    await cem.close();
  });

  it('[R39] a synchronous activate() whose send is refused (INVALID_STATE: status before its description) raises the error too', async () => {
    const { cem, rm, rmErrors } = pair();
    attachRmControlTypes(rm, {
      FRBC: {
        activate(ctx) {
          void ctx.send(actuatorStatus); // R39: nothing described yet
        },
      },
    });
    cem.start();
    rm.start();
    await waitFor(() => rmErrors.length > 0, 2_000, 'the error event');
    expect((rmErrors[0]!.error as S2Error).code).toBe('INVALID_STATE');
    await cem.close();
  });

  it('[R46, R48] onInstruction that throws rejects the instruction (REJECTED) and raises the error', async () => {
    const { cem, rm, rmErrors } = pair();
    attachRmControlTypes(rm, {
      FRBC: {
        activate: (ctx) => void ctx.send(description),
        onInstruction() {
          throw new Error('cannot decide');
        },
      },
    });
    const final = instructOnce(cem);
    cem.start();
    rm.start();
    expect(await final).toBe('REJECTED');
    expect(rmErrors.map((e) => [e.source, e.error.message])).toEqual([['FRBC.Instruction onInstruction', 'cannot decide']]);
    await cem.close();
  });

  it('[R44, R46] execute that fails after STARTED aborts the instruction (ABORTED); one that fails after SUCCEEDED changes nothing', async () => {
    for (const [reached, expected] of [
      ['STARTED', 'ABORTED'],
      ['SUCCEEDED', 'SUCCEEDED'],
    ] as const) {
      const { cem, rm, rmErrors } = pair();
      attachRmControlTypes(rm, {
        FRBC: {
          activate: (ctx) => void ctx.send(description),
          async execute(instruction, ctx) {
            await ctx.status(instruction.id, reached);
            throw new Error('actuator jammed');
          },
        },
      });
      const final = instructOnce(cem);
      cem.start();
      rm.start();
      expect(await final, `failing after ${reached}`).toBe(expected);
      // After SUCCEEDED the CEM may know the final status before execute has thrown.
      await waitFor(() => rmErrors.length > 0, 2_000, 'the error event');
      expect(rmErrors.map((e) => e.source)).toEqual(['FRBC.Instruction execute']);
      await cem.close();
    }
  });

  it('[R46, R58] ctx.status takes only STARTED, SUCCEEDED and ABORTED: the library’s own statuses throw S2Error', async () => {
    const { cem, rm } = pair();
    const thrown: unknown[] = [];
    attachRmControlTypes(rm, {
      FRBC: {
        activate: (ctx) => void ctx.send(description),
        execute(instruction, ctx) {
          for (const status of ['ACCEPTED', 'REJECTED', 'REVOKED', 'NEW'] as const) {
            try {
              void ctx.status(instruction.id, status as unknown as ExecutionStatus);
            } catch (err) {
              thrown.push(err);
            }
          }
          void ctx.status(instruction.id, 'SUCCEEDED');
        },
      },
    });
    const final = instructOnce(cem);
    cem.start();
    rm.start();
    expect(await final).toBe('SUCCEEDED');
    expect(thrown).toHaveLength(4);
    for (const err of thrown)
      expect(err).toMatchObject({
        name: 'S2Error',
        code: 'INVALID_STATE',
        message: expect.stringMatching(/STARTED, SUCCEEDED, ABORTED/) as unknown,
      });
    await cem.close();
  });
});

describe('CEM control-type hooks that fail', () => {
  it('[R44] a throwing activate and a rejecting onInstructionStatus raise the error; the instruction is still followed', async () => {
    const { cem, rm, cemErrors } = pair();
    attachRmControlTypes(rm, { FRBC: { activate: (ctx) => void ctx.send(description) } });
    const final = new Promise<FinalStatus>((resolve) =>
      attachCemControlTypes(cem, {
        FRBC: {
          activate() {
            throw new Error('activate bug');
          },
          'FRBC.SystemDescription'(_d, ctx) {
            void ctx
              .instruct({ message_type: 'FRBC.Instruction', actuator_id: actuator.id, operation_mode: mode, operation_mode_factor: 0.5 })
              .final.then(resolve);
          },
          // A handler whose promise rejects (an async handler that throws).
          onInstructionStatus() {
            return Promise.reject(new Error('status bug'));
          },
        },
      }),
    );
    cem.start();
    rm.start();
    // The RM accepts (the library's default) and, without an execute handler, says nothing more.
    await waitFor(() => cemErrors.length === 2, 2_000, 'two errors');
    expect(cemErrors.map((e) => [e.source, e.error.message])).toEqual([
      ['FRBC activate', 'activate bug'],
      ['FRBC onInstructionStatus', 'status bug'],
    ]);
    expect(cem.state).toBe('connected.active.FRBC');
    await cem.close();
    expect(await final).toBe('VOID'); // Q12: the session ended before a final status
  });
});

/** The CEM gives one FRBC instruction as soon as the RM described; resolves with its final status. */
function instructOnce(cem: S2Session): Promise<FinalStatus> {
  return new Promise((resolve) =>
    attachCemControlTypes(cem, {
      FRBC: {
        'FRBC.SystemDescription'(_d, ctx) {
          void ctx
            .instruct({ message_type: 'FRBC.Instruction', actuator_id: actuator.id, operation_mode: mode, operation_mode_factor: 0.5 })
            .final.then(resolve);
        },
      },
    }),
  );
}
