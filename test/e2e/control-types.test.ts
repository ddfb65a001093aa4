/**
 * The five control types end to end over real WebSockets on 127.0.0.1 (docs/rules.md#control-types,
 * #instructions to #ppbc): a CEM server and an RM client, each with the role layer's control-type handlers
 * (`cem-control.ts`, `rm-control.ts`), speaking the realistic message sets of
 * test/support/control-type-messages.ts — and, where a wrong message has to reach the wire, a
 * raw scripted peer in place of one of them.
 *
 * Per control type: activation, description and an instruction through to SUCCEEDED; revocation
 * by the CEM (of an instruction) and by the RM (of its description); a control-type switch while
 * an instruction is open. The refusals of single wrong messages are in control-type-refusals.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { S2Session, SessionEvents } from '../../src/roles/session.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { S2Error } from '../../src/typebox/errors.js';
import { waitFor } from '../transport/helpers.js';
import {
  answer,
  cemRecorder,
  controlTypesOf,
  expectInvalidContent,
  instructInput,
  instructionSpecs,
  MESSAGE_SETS,
  otherType,
  rawCemSelect,
  revokeObject,
  scriptedRm,
  statusesSent,
  statusReached,
  statusUpdate,
  TYPES,
  WIRE,
  type CemRecorder,
  type ScriptedRm,
} from '../support/control-type-e2e.js';
import { e2eGuard, type TrackedCemServer, type TrackedRmClient } from '../support/e2e-guard.js';
import { newId, rmDetailsInput, type Wire } from '../support/e2e-messages.js';
import { rawRmHandshake } from '../support/raw-ws-peer.js';

const guard = e2eGuard();

/** Everything that went wrong on a session: refusals, reports (handler errors, timeouts, stray statuses). */
function troubles(session: S2Session): string[] {
  const out: string[] = [];
  session.on('refused', (r: SessionEvents['refused']) =>
    out.push(`${session.role} refused ${r.message?.message_type ?? 'a frame'}: ${r.status} ${r.reason}`),
  );
  session.on('report', (r: SessionEvents['report']) => out.push(`${session.role} report ${r.kind}: ${r.detail}`));
  return out;
}

interface Pair {
  readonly server: TrackedCemServer;
  readonly client: TrackedRmClient;
  readonly cem: CemRecorder;
  readonly cemSession: S2Session;
  readonly rmSession: S2Session;
  /** What the RM session sent (its InstructionStatusUpdates among them). */
  readonly rmSent: Wire[];
  readonly troubles: string[];
  close(): Promise<void>;
}

/**
 * A CEM server and an RM client offering `offer` (first one selected by the CEM's policy), both
 * in `connected.active.<offer[0]>`, with `rms` as the RM's control-type handlers.
 */
async function connect(rms: readonly ScriptedRm[], offer: readonly ControlTypeShort[] = rms.map((r) => r.short)): Promise<Pair> {
  const first = offer[0] as ControlTypeShort;
  const cem = cemRecorder();
  const problems: string[] = [];
  const rmSent: Wire[] = [];
  const server = await guard.cemServer({
    controlTypes: cem.handlers,
    // R34: select the first offered type once; later selections are the test's (session.select).
    policy: (_details, current) => (current === 'NO_SELECTION' ? WIRE[first] : undefined),
    onSession: (s) => {
      const t = troubles(s);
      void s.closed.then(() => problems.push(...t));
    },
  });
  const client = guard.rmClient({
    url: server.url,
    details: rmDetailsInput(offer.map((t) => WIRE[t])),
    controlTypes: controlTypesOf(...rms),
    reconnect: false,
    onSession: (s) => {
      const t = troubles(s);
      void s.closed.then(() => problems.push(...t));
      s.on('sent', ({ message }) => rmSent.push(message as unknown as Wire));
    },
  });
  const cemSession = await server.session();
  await waitFor(() => client.all[0] !== undefined, 2_000, 'RM session');
  const rmSession = client.all[0] as S2Session;
  const target = `connected.active.${first}`;
  await waitFor(() => cemSession.state === target && rmSession.state === target, 2_000, `both sessions in ${target}`);
  // The RM's activation has described and reported its status (R39), so the test may act on it.
  await waitFor(() => rms.every((r) => r.short !== first || r.idle), 2_000, `the ${first} RM described`);
  return {
    server,
    client,
    cem,
    cemSession,
    rmSession,
    rmSent,
    get troubles() {
      return problems;
    },
    async close() {
      await waitFor(() => rms.every((r) => r.activations === 0 || r.idle), 2_000, 'RM activations finished');
      await client.stop();
      await server.close();
    },
  };
}

describe.each(TYPES)('%s between a CEM server and an RM client', (short) => {
  const set = MESSAGE_SETS[short];

  it(`[R39, R41, R43, R44, R46, R17] ${short}: activation, description, an instruction through to SUCCEEDED on both sides`, async () => {
    const rm = scriptedRm(short);
    const p = await connect([rm]);
    expect(p.cemSession.controlType).toBe(WIRE[short]);
    expect(p.rmSession.controlType).toBe(WIRE[short]);
    // R39: the RM described its flexibility on activation; the CEM's typed callback got it.
    const activation = await p.cem.described(short);
    expect(rm.activations).toBe(1);
    expect(activation.descriptions.map((d) => [d.message_type, d.message_id])).toEqual([
      [set.descriptionType, rm.descriptions[0]?.message_id],
    ]);

    const spec = instructionSpecs()();
    const handle = p.cem.instruct(short, spec);
    expect(handle.id).toBe(spec.id);
    expect(handle.message.message_type).toBe(set.instructionType);
    // R17: OK only says the instruction arrived; the statuses say what became of it.
    expect(await handle.sent).toMatchObject({ status: 'OK' });
    expect(await handle.final).toBe('SUCCEEDED');
    expect(handle.status()).toBe('SUCCEEDED');
    // The RM side: the library accepted it, the device executed it (R43: execution_time is past) and reported R44's statuses.
    expect(rm.seen).toEqual([spec.id]);
    expect(rm.executed).toEqual([spec.id]);
    expect(statusesSent(p.rmSent, spec.id)).toEqual(['ACCEPTED', 'STARTED', 'SUCCEEDED']);
    expect(p.cemSession.instructionStatus(spec.id)).toBe('SUCCEEDED');
    expect(p.rmSession.instructionStatus(spec.id)).toBe('SUCCEEDED');
    // R44, R46: nothing may follow a final status, on either API.
    expect(() => rm.ctx?.status(spec.id, 'STARTED')).toThrow(S2Error);
    await waitFor(() => p.cemSession.pendingCount === 0 && p.rmSession.pendingCount === 0, 2_000, 'everything answered');
    await p.close();
    expect(p.troubles).toEqual([]);
  });

  it(`[R55, R58, R54] ${short}: the CEM revokes an accepted instruction; the RM library answers REVOKED and the handle ends REVOKED`, async () => {
    const rm = scriptedRm(short, { finish: 'hold' });
    const p = await connect([rm]);
    await p.cem.described(short);
    const spec = instructionSpecs()();
    const handle = p.cem.instruct(short, spec);
    await statusReached(handle, 'ACCEPTED');
    await waitFor(() => rm.executed.includes(spec.id), 2_000, 'execution started (R43)');

    expect(await handle.revoke()).toMatchObject({ status: 'OK' });
    expect(await handle.final).toBe('REVOKED');
    expect(statusesSent(p.rmSent, spec.id)).toEqual(['ACCEPTED', 'REVOKED']);
    expect(rm.revoked).toEqual([spec.id]);
    expect(p.rmSession.instructionStatus(spec.id)).toBe('REVOKED');
    // R54: a final instruction cannot be revoked again; the RM cannot report on it any more (R44).
    expect(() => handle.revoke()).toThrow(S2Error);
    expect(() => rm.ctx?.status(spec.id, 'SUCCEEDED')).toThrow(/R44|R46/);
    // Another instruction still runs through (nothing else changed).
    rm.finish = 'succeed';
    const next = p.cem.instruct(short, instructionSpecs()(1));
    expect(await next.final).toBe('SUCCEEDED');
    await p.close();
    expect(p.troubles).toEqual([]);
  });

  const refusedOld = set.kind === 'coexist' ? ['R58'] : set.refusals.instructionSuperseded;
  const revokeTags = [...new Set(['R54', 'R56', 'R58', 'R39', ...refusedOld])].join(', ');
  it(`[${revokeTags}] ${short}: the RM revokes its ${set.descriptionType} (by ${set.kind === 'coexist' ? 'id' : 'message_id'}); instructing against it throws S2Error`, async () => {
    const rm = scriptedRm(short);
    const p = await connect([rm]);
    await p.cem.described(short);
    const specs = instructionSpecs();
    const [first] = rm.descriptions;
    if (!first) throw new Error('no description');
    expect(await rm.revokeDescription(first)).toBe('OK');
    // R58 + R39: nothing is described any more, so there is nothing to instruct against.
    let error: unknown;
    try {
      p.cem.instruct(short, specs(1));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(S2Error);
    expect(error).toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/R39/) as unknown });
    // R54: it is gone, a second revocation is refused by the RM's own API.
    await expect(rm.revokeDescription(first)).rejects.toThrow(/R54/);

    // A new description (n = 2): instructions against it work, against the revoked one they still fail.
    await rm.describe(2);
    await p.cem.described(short, 2);
    expect(() => p.cem.instruct(short, specs(1))).toThrow(new RegExp(refusedOld.join('|')));
    const handle = p.cem.instruct(short, specs(2));
    expect(await handle.final).toBe('SUCCEEDED');
    await p.close();
    expect(p.troubles).toEqual([]);
  });

  it(`[R58, R39, R49, R16] ${short}: a raw CEM instructing against the revoked ${set.descriptionType} gets INVALID_CONTENT; a new description works`, async () => {
    const cem = await guard.rawServer({ autoAck: 'OK' });
    const rm = scriptedRm(short);
    const client = guard.rmClient({
      url: cem.url,
      details: rmDetailsInput([WIRE[short]]),
      controlTypes: rm.controlTypes,
      reconnect: false,
    });
    const peer = await cem.accept();
    await rawCemSelect(peer, WIRE[short]);
    await peer.message(set.descriptionType);
    await waitFor(() => rm.idle && client.all[0]?.pendingCount === 0, 2_000, 'RM described');
    const session = client.all[0] as S2Session;
    const [first] = rm.descriptions;
    if (!first) throw new Error('no description');
    expect(await rm.revokeDescription(first)).toBe('OK');
    const revoke = await peer.message('RevokeObject');
    // R56, Q10: by `id` where the object has one (PEBC, PPBC), else by the description's message_id.
    const objectId = set.kind === 'coexist' ? (first as { id: string }).id : first.message_id;
    expect(objectId).toBe(set.objectIdOf(first));
    expect(revoke).toMatchObject({ object_type: set.descriptionType, object_id: objectId });

    const specs = instructionSpecs();
    const stale = set.instruction(newId(), specs(1));
    await expectInvalidContent(
      peer,
      session,
      [{ message: stale, rules: ['R39', 'R58'], what: `${set.instructionType} against the revoked description` }],
      () => rm.seen.length,
    );
    expect(rm.seen).toEqual([]);
    expect(statusesSent(peer.inbox, (stale as { id: string }).id)).toEqual([]); // R49: no status for an ignored instruction

    await rm.describe(2);
    const fresh = set.instruction(newId(), specs(2));
    expect(await answer(peer, fresh)).toMatchObject({ status: 'OK' });
    await peer.next(
      (m) =>
        m.message_type === 'InstructionStatusUpdate' && m.instruction_id === (fresh as { id: string }).id && m.status_type === 'SUCCEEDED',
      'SUCCEEDED',
    );
    expect(statusesSent(peer.inbox, (fresh as { id: string }).id)).toEqual(['ACCEPTED', 'STARTED', 'SUCCEEDED']);
    await client.stop();
    await cem.close();
  });
});

describe.each(TYPES)('switching away from %s while an instruction is open', (short) => {
  const next = otherType(short);
  const set = MESSAGE_SETS[short];
  const nextSet = MESSAGE_SETS[next];

  it(`[R36, R40, R41, Q12, R37] ${short} → ${next}: the open instruction ends VOID, the old activation is gone, ${next} activates and works`, async () => {
    const old = scriptedRm(short, { finish: 'hold' });
    const fresh = scriptedRm(next);
    const p = await connect([old, fresh]);
    const activation = await p.cem.described(short);
    const specs = instructionSpecs();
    const spec = specs();
    const handle = p.cem.instruct(short, spec);
    await statusReached(handle, 'ACCEPTED');

    p.cemSession.select(WIRE[next]);
    // Q12: the CEM's open instruction loses its meaning with its control type.
    expect(await handle.final).toBe('VOID');
    const target = `connected.active.${next}`;
    await waitFor(() => p.cemSession.state === target && p.rmSession.state === target, 2_000, `both sessions in ${target}`);
    expect(p.cemSession.controlType).toBe(WIRE[next]);
    expect(p.rmSession.controlType).toBe(WIRE[next]);
    // R36, R40: the old activation ended on both sides, with its knowledge and instructions.
    expect(activation.deactivated).toBe(true);
    expect(activation.ctx.active).toBe(false);
    expect(old.deactivations).toBe(1);
    expect(old.ctx?.active).toBe(false);
    expect(p.cemSession.instructionStatus(spec.id)).toBeUndefined();
    expect(p.rmSession.instructionStatus(spec.id)).toBeUndefined();
    // R37: old-type messages can no longer be sent by either side's API.
    expect(() => activation.ctx.instruct(instructInput(set, specs()))).toThrow(/R37/);
    expect(() => old.ctx?.send(set.status(newId(), 1) as never)).toThrow(/R37/);
    expect(() => old.ctx?.status(spec.id, 'SUCCEEDED')).toThrow(S2Error);

    // The new type: activated, described, instructed through to SUCCEEDED.
    await p.cem.described(next);
    expect(fresh.activations).toBe(1);
    const handleNext = p.cem.instruct(next, specs());
    expect(await handleNext.final).toBe('SUCCEEDED');
    // The old instruction never got another status (the RM library does not invent one, Q12).
    expect(statusesSent(p.rmSent, spec.id)).toEqual(['ACCEPTED']);
    await p.close();
    expect(p.troubles).toEqual([]);
  });

  it(`[R37, R40, R45, R57, R16] ${short} → ${next}: a raw RM's old-type messages are refused INVALID_CONTENT by the CEM afterwards`, async () => {
    const cem = cemRecorder();
    const server = await guard.cemServer({
      controlTypes: cem.handlers,
      policy: (_d, current) => (current === 'NO_SELECTION' ? WIRE[short] : undefined),
    });
    const peer = await guard.peer(server.url);
    await rawRmHandshake(peer, { offer: [WIRE[short], WIRE[next]] });
    const session = await server.session();
    await waitFor(() => session.state === `connected.active.${short}`, 2_000, `CEM in active.${short}`);
    peer.autoAck = 'OK';
    const description = set.describe(newId(), 1);
    expect(await answer(peer, description)).toMatchObject({ status: 'OK' });
    expect(await answer(peer, set.status(newId(), 1))).toMatchObject({ status: 'OK' });
    await cem.described(short);
    const specs = instructionSpecs();
    const spec = specs();
    const handle = cem.instruct(short, spec);
    await peer.next((m) => m.id === spec.id, 'the instruction');
    expect(await answer(peer, statusUpdate(newId(), spec.id, 'ACCEPTED', Date.now()))).toMatchObject({ status: 'OK' });
    await statusReached(handle, 'ACCEPTED');

    session.select(WIRE[next]);
    await peer.message('SelectControlType'); // answered OK by autoAck
    expect(await handle.final).toBe('VOID');
    await waitFor(() => session.state === `connected.active.${next}` && session.pendingCount === 0, 2_000, `CEM in active.${next}`);

    await expectInvalidContent(
      peer,
      session,
      [
        {
          message: statusUpdate(newId(), spec.id, 'SUCCEEDED', Date.now()),
          rules: ['R45', 'R40'],
          what: "a status of the old activation's instruction",
        },
        { message: set.status(newId(), 1), rules: ['R37'], what: `${set.status(newId(), 1).message_type} of the old type` },
        { message: set.describe(newId(), 2), rules: ['R37'], what: `${set.descriptionType} of the old type` },
        {
          message: revokeObject(newId(), set.descriptionType, set.objectIdOf(description)),
          rules: ['R57'],
          what: `RevokeObject of the old ${set.descriptionType}`,
        },
      ],
      () => handle.status(),
    );

    // The new type works.
    expect(await answer(peer, nextSet.describe(newId(), 1))).toMatchObject({ status: 'OK' });
    await cem.described(next);
    const nextSpec = specs();
    const handleNext = cem.instruct(next, nextSpec);
    await peer.next((m) => m.id === nextSpec.id, 'the new instruction');
    expect(await answer(peer, statusUpdate(newId(), nextSpec.id, 'SUCCEEDED', Date.now()))).toMatchObject({ status: 'OK' });
    expect(await handleNext.final).toBe('SUCCEEDED');
    await server.close();
  });

  it(`[R37, R40, R57, R42, R16] ${short} → ${next}: a raw CEM's old-type instruction and revocation (and a reused id) are refused INVALID_CONTENT by the RM afterwards`, async () => {
    const cem = await guard.rawServer({ autoAck: 'OK' });
    const old = scriptedRm(short, { finish: 'hold' });
    const fresh = scriptedRm(next);
    const client = guard.rmClient({
      url: cem.url,
      details: rmDetailsInput([WIRE[short], WIRE[next]]),
      controlTypes: controlTypesOf(old, fresh),
      reconnect: false,
    });
    const peer = await cem.accept();
    await rawCemSelect(peer, WIRE[short]);
    await peer.message(set.descriptionType);
    const session = client.all[0] as S2Session;
    await waitFor(() => old.idle && session.pendingCount === 0, 2_000, 'RM described');
    const specs = instructionSpecs();
    const instruction = set.instruction(newId(), specs());
    const id = (instruction as { id: string }).id;
    expect(await answer(peer, instruction)).toMatchObject({ status: 'OK' });
    await peer.next(
      (m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === id && m.status_type === 'ACCEPTED',
      'ACCEPTED',
    );

    expect(await answer(peer, { message_type: 'SelectControlType', message_id: newId(), control_type: WIRE[next] })).toMatchObject({
      status: 'OK',
    });
    await peer.message(nextSet.descriptionType);
    await waitFor(
      () => session.state === `connected.active.${next}` && fresh.idle && session.pendingCount === 0,
      2_000,
      `RM in active.${next}, described`,
    );
    expect(old.deactivations).toBe(1);
    expect(session.instructionStatus(id)).toBeUndefined();

    await expectInvalidContent(
      peer,
      session,
      [
        { message: set.instruction(newId(), specs()), rules: ['R37'], what: `${set.instructionType} of the old type` },
        { message: revokeObject(newId(), set.instructionType, id), rules: ['R57'], what: `RevokeObject of the old ${set.instructionType}` },
        // R42: the old activation is gone, but its instruction id stays used for the whole session.
        {
          message: nextSet.instruction(newId(), { ...specs(), id }),
          rules: ['R42'],
          what: `${nextSet.instructionType} reusing the old instruction's id`,
        },
      ],
      () => [old.seen.length, fresh.seen.length, old.revoked.length],
    );

    const nextInstruction = nextSet.instruction(newId(), specs());
    const nextId = (nextInstruction as { id: string }).id;
    expect(await answer(peer, nextInstruction)).toMatchObject({ status: 'OK' });
    await peer.next(
      (m) => m.message_type === 'InstructionStatusUpdate' && m.instruction_id === nextId && m.status_type === 'SUCCEEDED',
      'SUCCEEDED',
    );
    expect(statusesSent(peer.inbox, id)).toEqual(['ACCEPTED']);
    expect(fresh.seen).toEqual([nextId]);
    await client.stop();
    await cem.close();
  });
});
