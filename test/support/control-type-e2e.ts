/**
 * Per-control-type building blocks for the end-to-end tests of test/e2e/control-types*.test.ts:
 * a scripted RM handler and a recording CEM handler for any of the five control types, both
 * speaking the realistic message sets of {@link MESSAGE_SETS} (control-type-messages.ts), a raw
 * CEM that drives a real RM client to a selected control type, and the "refused and nothing
 * changed" check of R16.
 *
 * Instructions run at BASE_MS (2026-01-01T00:00Z), which lies in the past: the RM executes them at
 * once (R43), and the message sets' validity windows (PEBC valid_from, PPBC start/end time) hold.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { CemControlContext, CemControlTypes, InstructionHandle, InstructionInput } from '../../src/roles/cem-control.js';
import type { RmControlContext, RmControlTypeHandler, RmControlTypes } from '../../src/roles/rm-control.js';
import type { S2Session } from '../../src/roles/session.js';
import type { ControlType, InstructionStatus } from '../../src/typebox/common/enums.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../../src/typebox/message-spec.js';
import { CONTROL_TYPE_OF_SHORT, type IdentifiedMessage } from '../../src/typebox/registry.js';
import { waitFor } from '../transport/helpers.js';
import {
  BASE_MS,
  MESSAGE_SETS,
  revokeObject,
  statusUpdate,
  type ControlTypeMessageSet,
  type InstructionSpec,
} from './control-type-messages.js';
import { handshake, handshakeResponse, selectControlType, type Wire } from './e2e-messages.js';
import type { FramePeer } from './raw-ws-peer.js';

export { BASE_MS, MESSAGE_SETS, revokeObject, statusUpdate };
export type { ControlTypeMessageSet, InstructionSpec };

/** The five control types, in the library's order. */
export const TYPES: readonly ControlTypeShort[] = CONTROL_TYPE_SHORT;
/** Short name → wire value. */
export const WIRE = CONTROL_TYPE_OF_SHORT;

/** The control type a switch test moves to from `short`: the next one in {@link TYPES}. */
export function otherType(short: ControlTypeShort): ControlTypeShort {
  return TYPES[(TYPES.indexOf(short) + 1) % TYPES.length] as ControlTypeShort;
}

/** A typed message as it goes over a raw peer. */
export const wire = (m: IdentifiedMessage): Wire => m;

/**
 * Fresh instruction specs for one session: a new `id` each (R42), execution at BASE_MS (past,
 * R43), and for PPBC a container of its own per instruction and description (R103: one schedule
 * per container).
 */
export function instructionSpecs(): (n?: number) => InstructionSpec {
  const slots = new Map<number, number>();
  return (n = 1) => {
    const slot = slots.get(n) ?? 0;
    slots.set(n, slot + 1);
    return { id: randomUUID(), executionMs: BASE_MS, n, slot };
  };
}

/** A message of the set without its message_id, as `ctx.instruct` / `ctx.send` take it. */
function withoutMessageId(m: IdentifiedMessage): Record<string, unknown> {
  const { message_id: _drop, ...rest } = m as unknown as Record<string, unknown>;
  return rest;
}

/** The set's well-referenced instruction for `spec`, as input for `ctx.instruct` (R75/R84/R87/R96/R102 hold). */
export function instructInput(set: ControlTypeMessageSet, spec: InstructionSpec): InstructionInput<ControlTypeShort> {
  return withoutMessageId(set.instruction(randomUUID(), spec)) as unknown as InstructionInput<ControlTypeShort>;
}

// ---------------------------------------------------------------------------------------------
// The RM side: a scripted device per control type

export interface ScriptedRmOptions {
  /** Describe the flexibility (description 1 and its status) as soon as the type is activated (R39). Default true. */
  readonly describeOnActivate?: boolean;
  /** `succeed`: execute reports STARTED then SUCCEEDED (R44); `hold`: the instruction stays ACCEPTED. Default succeed. */
  readonly finish?: 'succeed' | 'hold';
}

export interface ScriptedRm {
  readonly short: ControlTypeShort;
  readonly set: ControlTypeMessageSet;
  readonly handler: RmControlTypeHandler<ControlTypeShort>;
  /** `{ [short]: handler }`, for `createRmClient({ controlTypes })`. */
  readonly controlTypes: RmControlTypes;
  /** The context of the latest activation. */
  readonly ctx: RmControlContext<ControlTypeShort> | undefined;
  readonly activations: number;
  readonly deactivations: number;
  /** Activated, and no description of this RM is still waiting for its answers (so the test may act on it). */
  readonly idle: boolean;
  /** Every instruction `onInstruction` saw, `execute` ran, `onRevoked` was told of (ids). */
  readonly seen: string[];
  readonly executed: string[];
  readonly revoked: string[];
  /** Every description this RM sent, in order (index n - 1 for description n of the latest activation). */
  readonly descriptions: IdentifiedMessage[];
  finish: 'succeed' | 'hold';
  /** Sends description n and a status naming it; resolves with the description once both are answered OK. */
  describe(n?: number): Promise<IdentifiedMessage>;
  /** Sends a RevokeObject for a description this RM sent (R55, R56: by `id` or, without one, by message_id). */
  revokeDescription(description: IdentifiedMessage): Promise<string>;
}

export function scriptedRm(short: ControlTypeShort, options: ScriptedRmOptions = {}): ScriptedRm {
  const set = MESSAGE_SETS[short];
  let ctx: RmControlContext<ControlTypeShort> | undefined;
  let activations = 0;
  let deactivations = 0;
  let describing = 0;
  const seen: string[] = [];
  const executed: string[] = [];
  const revoked: string[] = [];
  const descriptions: IdentifiedMessage[] = [];
  const need = () => {
    if (!ctx || !ctx.active) throw new Error(`scripted ${short} RM: not active`);
    return ctx;
  };
  const sendOk = async (c: RmControlContext<ControlTypeShort>, m: IdentifiedMessage) => {
    const result = await c.send(withoutMessageId(m) as never);
    if (result.status !== 'OK')
      throw new Error(`scripted ${short} RM: ${m.message_type} answered ${result.status}: ${result.diagnosticLabel ?? ''}`);
  };
  const describeWith = async (c: RmControlContext<ControlTypeShort>, n: number): Promise<IdentifiedMessage> => {
    const description = set.describe(randomUUID(), n);
    // Recorded before the answer: the CEM may act on it (and the test with it) before the RM has its OK.
    descriptions.push(description);
    // The description keeps the message_id it is sent with: FRBC/OMBC/DDBC are revoked by it (Q10).
    const result = await c.send(description as never);
    if (result.status !== 'OK') throw new Error(`scripted ${short} RM: ${description.message_type} answered ${result.status}`);
    await sendOk(c, set.status(randomUUID(), n));
    return description;
  };
  const rm: ScriptedRm = {
    short,
    set,
    get ctx() {
      return ctx;
    },
    get activations() {
      return activations;
    },
    get deactivations() {
      return deactivations;
    },
    get idle() {
      return activations > 0 && describing === 0;
    },
    seen,
    executed,
    revoked,
    descriptions,
    finish: options.finish ?? 'succeed',
    async describe(n = 1) {
      const c = need();
      describing++;
      try {
        return await describeWith(c, n);
      } finally {
        describing--;
      }
    },
    async revokeDescription(description) {
      const c = need();
      const result = await c.send(revokeObject(randomUUID(), set.descriptionType, set.objectIdOf(description)));
      return result.status;
    },
    handler: {
      async activate(c) {
        ctx = c;
        activations++;
        descriptions.length = 0;
        if (options.describeOnActivate !== false) await rm.describe(1);
      },
      onInstruction(instruction) {
        seen.push((instruction as { id: string }).id);
        return 'accept';
      },
      async execute(instruction, c) {
        const id = (instruction as { id: string }).id;
        executed.push(id);
        if (rm.finish === 'hold') return;
        await c.status(id, 'STARTED');
        await c.status(id, 'SUCCEEDED');
      },
      onRevoked(instruction) {
        revoked.push((instruction as { id: string }).id);
      },
      deactivate() {
        deactivations++;
      },
    },
    get controlTypes(): RmControlTypes {
      return { [short]: rm.handler };
    },
  };
  return rm;
}

/** Several scripted RM handlers behind one RM client (details offering several types). */
export function controlTypesOf(...rms: ScriptedRm[]): RmControlTypes {
  return Object.assign({}, ...rms.map((r) => r.controlTypes)) as RmControlTypes;
}

/** The InstructionStatusUpdates an RM session sent for an instruction, in order (R44). */
export function statusesSent(traffic: readonly Wire[], instructionId: string): InstructionStatus[] {
  return traffic
    .filter((m) => m.message_type === 'InstructionStatusUpdate' && String(m.instruction_id).toLowerCase() === instructionId.toLowerCase())
    .map((m) => m.status_type as InstructionStatus);
}

// ---------------------------------------------------------------------------------------------
// The CEM side: recording handlers

export interface Activation {
  readonly short: ControlTypeShort;
  readonly ctx: CemControlContext<ControlTypeShort>;
  /** Descriptions the RM sent in this activation (R39), in order. */
  readonly descriptions: IdentifiedMessage[];
  deactivated: boolean;
}

export interface CemRecorder {
  /** For `createCemServer({ controlTypes })`: every type handled. */
  readonly handlers: CemControlTypes;
  readonly activations: Activation[];
  /** The latest activation of `short`, once its RM has described `count` descriptions. */
  described(short: ControlTypeShort, count?: number, timeoutMs?: number): Promise<Activation>;
  /** Instructs in the latest activation of `short`. */
  instruct(short: ControlTypeShort, spec: InstructionSpec): InstructionHandle;
}

export function cemRecorder(types: readonly ControlTypeShort[] = TYPES): CemRecorder {
  const activations: Activation[] = [];
  const current = new Map<object, Activation>();
  const latest = (short: ControlTypeShort) => activations.filter((a) => a.short === short).at(-1);
  const handlers: Record<string, unknown> = {};
  for (const short of types) {
    const set = MESSAGE_SETS[short];
    handlers[short] = {
      activate(ctx: CemControlContext<ControlTypeShort>) {
        const a: Activation = { short, ctx, descriptions: [], deactivated: false };
        activations.push(a);
        current.set(ctx, a);
      },
      deactivate(ctx: CemControlContext<ControlTypeShort>) {
        const a = current.get(ctx);
        if (a) a.deactivated = true;
      },
      [set.descriptionType](m: IdentifiedMessage, ctx: CemControlContext<ControlTypeShort>) {
        current.get(ctx)?.descriptions.push(m);
      },
    };
  }
  return {
    handlers,
    activations,
    async described(short, count = 1, timeoutMs = 2_000) {
      await waitFor(() => (latest(short)?.descriptions.length ?? 0) >= count, timeoutMs, `${count} ${short} description(s) at the CEM`);
      return latest(short) as Activation;
    },
    instruct(short, spec) {
      const a = latest(short);
      if (!a) throw new Error(`no ${short} activation at the CEM`);
      return a.ctx.instruct(instructInput(MESSAGE_SETS[short], spec));
    },
  };
}

/** Waits until the handle has the status (the RM's InstructionStatusUpdate arrived). */
export async function statusReached(handle: InstructionHandle, status: InstructionStatus, timeoutMs = 2_000): Promise<void> {
  await waitFor(() => handle.status() === status, timeoutMs, `instruction ${handle.id} ${status} at the CEM`);
}

// ---------------------------------------------------------------------------------------------
// Raw peers

/**
 * A raw CEM against a real RM client: completes the handshake and selects `controlType` (R34),
 * which the RM must answer OK. The peer must answer every RM message OK by itself (a raw server
 * created with `{ autoAck: 'OK' }`: the RM's Handshake may arrive before this is called).
 */
export async function rawCemSelect(peer: FramePeer, controlType: ControlType): Promise<void> {
  if (peer.autoAck !== 'OK') throw new Error("rawCemSelect needs a peer created with { autoAck: 'OK' }");
  await peer.message('Handshake');
  peer.send(handshake('CEM'));
  peer.send(handshakeResponse());
  await peer.message('ResourceManagerDetails');
  const id = peer.send(selectControlType(controlType)) as string;
  expect(await peer.statusFor(id)).toMatchObject({ status: 'OK' });
}

/** Sends a message from a raw peer; resolves with the status and diagnostic label the session answered. */
export async function answer(peer: FramePeer, m: Wire | IdentifiedMessage): Promise<{ id: string; status: string; label: string }> {
  const id = peer.send(m) as string;
  const rs = await peer.statusFor(id);
  return { id, status: String(rs.status), label: typeof rs.diagnostic_label === 'string' ? rs.diagnostic_label : '' };
}

/** What must not change when a message is refused (R16), plus whatever the test adds. */
export function sessionSnapshot(session: S2Session, extra: () => unknown = () => undefined) {
  return {
    state: session.state,
    controlType: session.controlType,
    pending: session.pendingCount,
    closed: session.isClosed,
    extra: extra(),
  };
}

export interface Refusal {
  readonly message: Wire | IdentifiedMessage;
  /** The rule ids the diagnostic label must name (at least one of them). */
  readonly rules: readonly string[];
  readonly what: string;
}

/**
 * Sends each message and expects INVALID_CONTENT answering its own message_id, a diagnostic
 * label naming one of its rules, exactly one ReceptionStatus, and an unchanged session (R12, R13,
 * R15, R16).
 */
export async function expectInvalidContent(
  peer: FramePeer,
  session: S2Session,
  refusals: readonly Refusal[],
  extra?: () => unknown,
): Promise<void> {
  const before = sessionSnapshot(session, extra);
  for (const r of refusals) {
    const { id, status, label } = await answer(peer, r.message);
    expect({ status, subject: id }, r.what).toEqual({ status: 'INVALID_CONTENT', subject: (r.message as Wire).message_id });
    expect(
      r.rules.some((rule) => new RegExp(`\\b${rule}\\b`).test(label)),
      `${r.what}: "${label}" names one of ${r.rules.join(', ')}`,
    ).toBe(true);
    expect(sessionSnapshot(session, extra), `nothing changed after ${r.what}`).toEqual(before);
  }
  for (const r of refusals)
    expect(peer.statusesFor(String((r.message as Wire).message_id)), `one ReceptionStatus for ${r.what}`).toHaveLength(1);
}
