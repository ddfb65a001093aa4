/**
 * Wrong control-type messages on the wire, per control type (docs/rules.md#control-types to #ppbc, Q6, Q14): a
 * raw scripted peer on one side sends exactly what a buggy peer would, over a real WebSocket on
 * 127.0.0.1, to a real CEM server or a real RM client. Every such message is answered
 * INVALID_CONTENT with its own message_id (R13, R15), exactly once (R12), names the rule it
 * breaks, and changes nothing (R16): the session's state, the instructions' statuses and the
 * handlers' view stay as they were, and a valid message right after still works.
 */
import { describe, expect, it } from 'vitest';
import type { S2Session } from '../../src/roles/session.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';
import { S2Error } from '../../src/typebox/errors.js';
import { waitFor } from '../transport/helpers.js';
import {
  answer,
  cemRecorder,
  expectInvalidContent,
  instructionSpecs,
  MESSAGE_SETS,
  rawCemSelect,
  revokeObject,
  scriptedRm,
  statusesSent,
  statusReached,
  statusUpdate,
  TYPES,
  WIRE,
  type InstructionSpec,
  type Refusal,
  type ScriptedRmOptions,
} from '../support/control-type-e2e.js';
import { uuidFor } from '../support/control-type-messages.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { newId, rmDetailsInput, type Wire } from '../support/e2e-messages.js';
import { rawRmHandshake, type RawPeer } from '../support/raw-ws-peer.js';

const guard = e2eGuard();

const idOf = (m: IdentifiedMessage | Wire): string => (m as { id: string }).id;
const others = (short: ControlTypeShort) => TYPES.filter((t) => t !== short);
const NEVER = (what: string) => uuidFor(`refusals:never-described:${what}`);

/**
 * R75 / R84 / R87 / R96 / R102: instructions naming something the RM never described, each with
 * the rule ids its refusal must name.
 */
function unknownReferences(short: ControlTypeShort, spec: () => InstructionSpec): Refusal[] {
  const set = MESSAGE_SETS[short];
  const rules = set.refusals.instructionUnknown;
  const base = (): Wire => set.instruction(newId(), spec());
  const out: Refusal[] = [
    {
      message: set.unknownInstruction(newId(), spec()),
      rules,
      what: `${set.instructionType} naming ${short === 'PEBC' ? 'unknown power constraints' : 'an unknown operation mode / sequence'}`,
    },
  ];
  if (short === 'FRBC' || short === 'DDBC')
    out.push({ message: { ...base(), actuator_id: NEVER('actuator') }, rules, what: `${set.instructionType} naming an unknown actuator` });
  if (short === 'PPBC') {
    out.push({
      message: { ...base(), sequence_container_id: NEVER('container') },
      rules,
      what: 'PPBC.ScheduleInstruction naming an unknown sequence container',
    });
    out.push({
      message: { ...base(), power_profile_id: NEVER('profile') },
      rules,
      what: 'PPBC.ScheduleInstruction naming an unknown power profile',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A real CEM server, a raw RM

interface CemSide {
  readonly peer: RawPeer;
  readonly session: S2Session;
  readonly cem: ReturnType<typeof cemRecorder>;
  readonly description: IdentifiedMessage;
  readonly specs: (n?: number) => InstructionSpec;
  close(): Promise<void>;
}

/** A CEM server with a raw RM that offered `short`, had it selected, and (unless told not to) described it (R39). */
async function cemWithRawRm(short: ControlTypeShort, describe = true): Promise<CemSide> {
  const set = MESSAGE_SETS[short];
  const cem = cemRecorder([short]);
  const server = await guard.cemServer({ controlTypes: cem.handlers });
  const peer = await guard.peer(server.url);
  await rawRmHandshake(peer, { offer: [WIRE[short]] });
  const session = await server.session();
  await waitFor(() => session.state === `connected.active.${short}` && session.pendingCount === 0, 2_000, `CEM in active.${short}`);
  peer.autoAck = 'OK';
  const description = set.describe(newId(), 1);
  if (describe) {
    expect(await answer(peer, description)).toMatchObject({ status: 'OK' });
    expect(await answer(peer, set.status(newId(), 1))).toMatchObject({ status: 'OK' });
    await cem.described(short);
  }
  return { peer, session, cem, description, specs: instructionSpecs(), close: () => server.close() };
}

/** The CEM instructs (through its handler context); the raw RM receives it (and answers it OK). */
async function instruct(side: CemSide, short: ControlTypeShort, spec = side.specs()) {
  const handle = side.cem.instruct(short, spec);
  await side.peer.next((m) => m.id === spec.id, `${short} instruction ${spec.id}`);
  expect(await handle.sent).toMatchObject({ status: 'OK' });
  return handle;
}

describe.each(TYPES)('a CEM server refuses what a raw %s RM sends wrong', (short) => {
  const set = MESSAGE_SETS[short];

  it(`[R39, R16${set.refusals.statusWithoutDescription.map((r) => `, ${r}`).join('')}] ${short}: before any ${set.descriptionType} the CEM cannot instruct${set.statusUnknown ? ' and refuses a status' : ''}`, async () => {
    const side = await cemWithRawRm(short, false);
    const activation = side.cem.activations[0];
    if (!activation) throw new Error('no activation');
    // The CEM's own API keeps the invalid instruction off the wire (R39).
    expect(() => side.cem.instruct(short, side.specs())).toThrow(S2Error);
    expect(() => side.cem.instruct(short, side.specs())).toThrow(/R39/);
    expect(side.peer.all(set.instructionType)).toEqual([]);
    // A status naming what was never described (PEBC has no status message: nothing to refuse).
    if (set.statusUnknown) {
      await expectInvalidContent(
        side.peer,
        side.session,
        [
          {
            message: set.status(newId(), 1),
            rules: set.refusals.statusWithoutDescription,
            what: `${set.status(newId(), 1).message_type} before any description`,
          },
        ],
        () => activation.descriptions.length,
      );
    }
    // Then the description arrives and the same instruction goes out.
    expect(await answer(side.peer, side.description)).toMatchObject({ status: 'OK' });
    await side.cem.described(short);
    const handle = await instruct(side, short);
    expect(await answer(side.peer, statusUpdate(newId(), handle.id, 'SUCCEEDED', Date.now()))).toMatchObject({ status: 'OK' });
    expect(await handle.final).toBe('SUCCEEDED');
    await side.close();
  });

  it(`[R45, R16] ${short}: InstructionStatusUpdate for an unknown instruction (never sent, or named by its message_id)`, async () => {
    const side = await cemWithRawRm(short);
    const handle = await instruct(side, short);
    await expectInvalidContent(
      side.peer,
      side.session,
      [
        {
          message: statusUpdate(newId(), newId(), 'ACCEPTED', Date.now()),
          rules: ['R45'],
          what: 'a status for an instruction id never sent',
        },
        {
          message: statusUpdate(newId(), handle.message.message_id, 'ACCEPTED', Date.now()),
          rules: ['R45'],
          what: "a status naming the instruction's message_id instead of its id",
        },
      ],
      () => [handle.status(), side.session.instructionStatus(handle.id)],
    );
    expect(handle.status()).toBeUndefined();
    // The same status for the real id works.
    expect(await answer(side.peer, statusUpdate(newId(), handle.id, 'ACCEPTED', Date.now()))).toMatchObject({ status: 'OK' });
    await statusReached(handle, 'ACCEPTED');
    await side.close();
  });

  it(`[R46, R44, R16] ${short}: illegal InstructionStatusUpdate transitions (REJECTED or NEW after ACCEPTED, STARTED or REVOKED after SUCCEEDED)`, async () => {
    const side = await cemWithRawRm(short);
    const handle = await instruct(side, short);
    const status = (s: Parameters<typeof statusUpdate>[2]) => statusUpdate(newId(), handle.id, s, Date.now());
    expect(await answer(side.peer, status('ACCEPTED'))).toMatchObject({ status: 'OK' });
    await statusReached(handle, 'ACCEPTED');
    await expectInvalidContent(
      side.peer,
      side.session,
      [
        { message: status('REJECTED'), rules: ['R46'], what: 'REJECTED after ACCEPTED' },
        { message: status('NEW'), rules: ['R46'], what: 'NEW after ACCEPTED' },
      ],
      () => [handle.status(), side.session.instructionStatus(handle.id)],
    );
    expect(handle.status()).toBe('ACCEPTED');
    // Legal ones still move it on.
    expect(await answer(side.peer, status('STARTED'))).toMatchObject({ status: 'OK' });
    expect(await answer(side.peer, status('SUCCEEDED'))).toMatchObject({ status: 'OK' });
    expect(await handle.final).toBe('SUCCEEDED');
    await expectInvalidContent(
      side.peer,
      side.session,
      [
        { message: status('STARTED'), rules: ['R46', 'R44'], what: 'STARTED after SUCCEEDED' },
        { message: status('REVOKED'), rules: ['R46', 'R44'], what: 'REVOKED after SUCCEEDED' },
        { message: status('SUCCEEDED'), rules: ['R46', 'R44'], what: 'SUCCEEDED twice' },
      ],
      () => [handle.status(), side.session.instructionStatus(handle.id)],
    );
    expect(side.session.instructionStatus(handle.id)).toBe('SUCCEEDED');
    // Another instruction's statuses are unaffected.
    const next = await instruct(side, short);
    expect(await answer(side.peer, statusUpdate(newId(), next.id, 'REJECTED', Date.now()))).toMatchObject({ status: 'OK' });
    expect(await next.final).toBe('REJECTED');
    await side.close();
  });

  it(`[R54, R55, R56, R57, R16] ${short}: RevokeObject of an unknown object, of another control type's object, and of the CEM's instruction`, async () => {
    const side = await cemWithRawRm(short);
    const handle = await instruct(side, short);
    expect(await answer(side.peer, statusUpdate(newId(), handle.id, 'ACCEPTED', Date.now()))).toMatchObject({ status: 'OK' });
    await statusReached(handle, 'ACCEPTED');
    const foreign = MESSAGE_SETS[others(short)[0] as ControlTypeShort];
    const refusals: Refusal[] = [
      {
        message: revokeObject(newId(), set.descriptionType, NEVER('description')),
        rules: ['R54'],
        what: `RevokeObject of an unknown ${set.descriptionType}`,
      },
      {
        message: revokeObject(newId(), foreign.descriptionType, foreign.objectIdOf(foreign.describe(newId(), 1))),
        rules: ['R57'],
        what: `RevokeObject of a ${foreign.descriptionType} (another control type)`,
      },
      {
        message: revokeObject(newId(), set.instructionType, handle.id),
        rules: ['R55'],
        what: `the RM revoking the CEM's ${set.instructionType}`,
      },
    ];
    // R56: a description with an `id` is revoked by that id, not by its message_id.
    if (set.kind === 'coexist')
      refusals.push({
        message: revokeObject(newId(), set.descriptionType, side.description.message_id),
        rules: ['R54', 'R56'],
        what: `RevokeObject of the ${set.descriptionType} by its message_id`,
      });
    await expectInvalidContent(side.peer, side.session, refusals, () => [handle.status(), side.session.instructionStatus(handle.id)]);
    // The description is still in force: the CEM can still instruct against it.
    const next = await instruct(side, short);
    // A valid revocation works: afterwards nothing is described (R58, R39).
    expect(await answer(side.peer, revokeObject(newId(), set.descriptionType, set.objectIdOf(side.description)))).toMatchObject({
      status: 'OK',
    });
    expect(() => side.cem.instruct(short, side.specs())).toThrow(/R39/);
    // Instructions given before the revocation still get their statuses (R58 does not void them).
    expect(await answer(side.peer, statusUpdate(newId(), next.id, 'SUCCEEDED', Date.now()))).toMatchObject({ status: 'OK' });
    expect(await next.final).toBe('SUCCEEDED');
    await side.close();
  });

  it(`[R37, R16] ${short}: descriptions and statuses of the four inactive control types`, async () => {
    const side = await cemWithRawRm(short);
    const refusals: Refusal[] = others(short).flatMap((t) => {
      const s = MESSAGE_SETS[t];
      const status = s.status(newId(), 1);
      return [
        { message: s.describe(newId(), 1), rules: ['R37'], what: `${s.descriptionType} while ${short} is active` },
        { message: status, rules: ['R37'], what: `${status.message_type} while ${short} is active` },
      ];
    });
    const activation = side.cem.activations[0];
    await expectInvalidContent(side.peer, side.session, refusals, () => activation?.descriptions.length);
    // The active type's own messages are still accepted.
    expect(await answer(side.peer, set.status(newId(), 1))).toMatchObject({ status: 'OK' });
    expect(await answer(side.peer, set.describe(newId(), 2))).toMatchObject({ status: 'OK' });
    await side.cem.described(short, 2);
    await side.close();
  });

  if (set.statusUnknown) {
    const statusUnknown = set.statusUnknown;
    it(`[${set.refusals.statusUnknown.join(', ')}, R16] ${short}: a status naming an operation mode / sequence container the description lacks`, async () => {
      const side = await cemWithRawRm(short);
      const message = statusUnknown(newId(), 1);
      await expectInvalidContent(side.peer, side.session, [
        { message, rules: set.refusals.statusUnknown, what: `${message.message_type} naming something never described` },
      ]);
      // The instruction the description allows still goes out, and a proper status is accepted.
      await instruct(side, short);
      expect(await answer(side.peer, set.status(newId(), 1))).toMatchObject({ status: 'OK' });
      await side.close();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// A raw CEM, a real RM client

async function rmWithRawCem(short: ControlTypeShort, options: ScriptedRmOptions = {}) {
  const set = MESSAGE_SETS[short];
  const cem = await guard.rawServer({ autoAck: 'OK' });
  const rm = scriptedRm(short, options);
  const client = guard.rmClient({ url: cem.url, details: rmDetailsInput([WIRE[short]]), controlTypes: rm.controlTypes, reconnect: false });
  const peer = await cem.accept();
  await rawCemSelect(peer, WIRE[short]);
  const session = client.all[0] as S2Session;
  await waitFor(() => session.state === `connected.active.${short}`, 2_000, `RM in active.${short}`);
  if (options.describeOnActivate !== false) await peer.message(set.descriptionType);
  await waitFor(() => rm.idle && session.pendingCount === 0, 2_000, 'RM activated, every RM message answered');
  return {
    peer,
    session,
    rm,
    specs: instructionSpecs(),
    async close() {
      await client.stop();
      await cem.close();
    },
  };
}

/** Waits until the raw CEM has the RM's status for an instruction. */
function statusOf(peer: RawPeer, id: string, status: string) {
  return peer.next(
    (m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === status,
    `${status} for ${id}`,
  );
}

describe.each(TYPES)('an RM client refuses what a raw CEM sends wrong (%s active)', (short) => {
  const set = MESSAGE_SETS[short];

  it(`[R39, R16, R49] ${short}: an instruction before any ${set.descriptionType}; the same instruction after it succeeds`, async () => {
    const side = await rmWithRawCem(short, { describeOnActivate: false });
    const spec = side.specs();
    const early = set.instruction(newId(), spec);
    await expectInvalidContent(
      side.peer,
      side.session,
      [{ message: early, rules: ['R39'], what: `${set.instructionType} before any description` }],
      () => [side.rm.seen.length, side.session.instructionStatus(spec.id)],
    );
    expect(side.rm.seen).toEqual([]);
    expect(statusesSent(side.peer.inbox, spec.id)).toEqual([]); // R49: ignored, so no status
    await side.rm.describe(1);
    // R16: the refused instruction left no trace, so the very same instruction (same id, new message_id) is now accepted.
    expect(await answer(side.peer, { ...early, message_id: newId() })).toMatchObject({ status: 'OK', label: '' });
    await statusOf(side.peer, spec.id, 'SUCCEEDED');
    expect(statusesSent(side.peer.inbox, spec.id)).toEqual(['ACCEPTED', 'STARTED', 'SUCCEEDED']);
    await side.close();
  });

  const unknownRules = set.refusals.instructionUnknown;
  it(`[${unknownRules.join(', ')}, R49, R16] ${short}: instructions naming ${short === 'PEBC' ? 'unknown power constraints' : short === 'PPBC' ? 'an unknown profile / container / sequence' : short === 'OMBC' ? 'an unknown operation mode' : 'an unknown actuator or operation mode'}`, async () => {
    const side = await rmWithRawCem(short);
    const refusals = unknownReferences(short, () => side.specs());
    await expectInvalidContent(side.peer, side.session, refusals, () => side.rm.seen.length);
    expect(side.rm.seen).toEqual([]);
    for (const r of refusals) expect(statusesSent(side.peer.inbox, idOf(r.message)), r.what).toEqual([]);
    // A well-referenced one runs through.
    const ok = set.instruction(newId(), side.specs());
    expect(await answer(side.peer, ok)).toMatchObject({ status: 'OK' });
    await statusOf(side.peer, idOf(ok), 'SUCCEEDED');
    expect(side.rm.seen).toEqual([idOf(ok)]);
    await side.close();
  });

  it(`[R54, R55, R57, R16] ${short}: RevokeObject of an unknown or already final instruction, of the RM's ${set.descriptionType}, of another type's instruction`, async () => {
    const side = await rmWithRawCem(short);
    const done = set.instruction(newId(), side.specs());
    expect(await answer(side.peer, done)).toMatchObject({ status: 'OK' });
    await statusOf(side.peer, idOf(done), 'SUCCEEDED');
    side.rm.finish = 'hold';
    const open = set.instruction(newId(), side.specs());
    expect(await answer(side.peer, open)).toMatchObject({ status: 'OK' });
    await statusOf(side.peer, idOf(open), 'ACCEPTED');
    await waitFor(() => side.rm.executed.includes(idOf(open)) && side.session.pendingCount === 0, 2_000, 'open instruction executing');
    const description = side.rm.descriptions[0];
    if (!description) throw new Error('no description');
    const foreign = MESSAGE_SETS[others(short)[0] as ControlTypeShort];
    await expectInvalidContent(
      side.peer,
      side.session,
      [
        {
          message: revokeObject(newId(), set.instructionType, NEVER('instruction')),
          rules: ['R54'],
          what: `RevokeObject of an unknown ${set.instructionType}`,
        },
        {
          message: revokeObject(newId(), set.instructionType, idOf(done)),
          rules: ['R54'],
          what: `RevokeObject of a SUCCEEDED ${set.instructionType}`,
        },
        {
          message: revokeObject(newId(), set.descriptionType, set.objectIdOf(description)),
          rules: ['R55'],
          what: `the CEM revoking the RM's ${set.descriptionType}`,
        },
        {
          message: revokeObject(newId(), foreign.instructionType, idOf(open)),
          rules: ['R57'],
          what: `RevokeObject of a ${foreign.instructionType} (another control type)`,
        },
      ],
      () => [side.rm.revoked.length, side.session.instructionStatus(idOf(open)), side.session.instructionStatus(idOf(done))],
    );
    expect(statusesSent(side.peer.inbox, idOf(open))).toEqual(['ACCEPTED']);
    // The valid revocation: answered OK, then REVOKED by the library (R58).
    expect(await answer(side.peer, revokeObject(newId(), set.instructionType, idOf(open)))).toMatchObject({ status: 'OK' });
    await statusOf(side.peer, idOf(open), 'REVOKED');
    expect(side.rm.revoked).toEqual([idOf(open)]);
    await side.close();
  });

  it(`[R37, R16] ${short}: instructions of the four inactive control types`, async () => {
    const side = await rmWithRawCem(short);
    const foreignSpecs = instructionSpecs();
    const refusals: Refusal[] = others(short).map((t) => {
      const s = MESSAGE_SETS[t];
      return { message: s.instruction(newId(), foreignSpecs()), rules: ['R37'], what: `${s.instructionType} while ${short} is active` };
    });
    await expectInvalidContent(side.peer, side.session, refusals, () => side.rm.seen.length);
    expect(side.rm.seen).toEqual([]);
    const ok = set.instruction(newId(), side.specs());
    expect(await answer(side.peer, ok)).toMatchObject({ status: 'OK' });
    await statusOf(side.peer, idOf(ok), 'SUCCEEDED');
    await side.close();
  });
});
