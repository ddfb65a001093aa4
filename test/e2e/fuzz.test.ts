/**
 * Fuzzing live sessions with fast-check (fixed seed, shown in the titles): garbage strings,
 * random JSON, fixtures (test/fixtures/) with mutated fields, schema-generated messages of every type (valid
 * ones arrive in the wrong phase or role), single schema mutations, huge ids, deep nesting and
 * text that does not look like UTF-8 — thousands of frames into an active CEM and an active RM.
 *
 * Oracle, per frame, in order (docs/design.md decision table; R11, R12, R16):
 * - not JSON / not an object / no readable message_id → one INVALID_DATA with the nil subject id;
 * - message_type "ReceptionStatus" → nothing at all;
 * - otherwise → exactly one ReceptionStatus with that message_id (INVALID_MESSAGE for an unknown
 *   message_type), and nothing else.
 * After each batch the session must be alive, in the same state, with nothing pending, and answer
 * a PowerMeasurement (CEM) / an FRBC.Instruction (RM) with OK. No unhandled rejection, no
 * internal error. Frames that would legitimately end or redirect the session (a valid
 * SessionRequest; a valid ResourceManagerDetails to the CEM or SelectControlType to the RM) are
 * turned into invalid JSON first.
 *
 * The schema-generated frames come from the official schemas (S2_SPEC_DIR, see
 * test/support/outside-material.ts): without them the fuzz suite is skipped.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, sizeCeiling } from '../../src/codec/index.js';
import { peekMember } from '../../src/codec/codec.js';
import { MESSAGES, messageSpec } from '../../src/typebox/registry.js';
import type { S2Session, SessionEvents } from '../../src/roles/session.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import {
  fixtureTexts,
  frbcActivationMessages,
  frbcInstruction,
  handshake,
  handshakeResponse,
  NIL,
  powerMeasurement,
  rmDetailsInput,
  selectControlType,
  type Wire,
} from '../support/e2e-messages.js';
import { activeCem, READABLE_ID } from '../support/e2e-session.js';
import { memorySession } from '../support/memory-peer.js';
import { OFFICIAL_SPEC, officialSchemas, type OfficialFile } from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';
import { rawRmHandshake, type FramePeer } from '../support/raw-ws-peer.js';
import { Rng } from '../support/rng.js';
import { generateMessage, mutate, MUTATIONS, VALID_VARIANTS } from '../support/schema-gen.js';

const SEED = 20_260_129;
const guard = e2eGuard();

// ---------------------------------------------------------------------------------------------
// Frame arbitraries

/** The 35 message types, in the order of the official schema file names (the order the seeded runs were made with). */
const MESSAGE_TYPES = Object.keys(MESSAGES)
  .map((t) => `${t}.schema.json`)
  .sort()
  .map((f) => f.slice(0, -'.schema.json'.length));
const FIXTURES = fixtureTexts();
/** Text that is not what it seems: lone surrogates, replacement chars, mojibake, controls, BOM, RTL override. */
const ODD_TEXT = [
  '\ud800',
  '\udfff',
  '\ufffd',
  'Ã©Ã¤',
  '\u0000',
  '\u0007',
  '\ufeff',
  '\u202e',
  '\\u0000',
  'ð\u009f\u0098\u0080',
  '\uffff',
  '\u{10ffff}',
];

const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...ODD_TEXT), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
);

const idValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  oddString,
  fc.constantFrom('!!ab!!', 'a', '', NIL, 'x'.repeat(64), 'y'.repeat(65), 'ab\ud800', '\ud800\ud800'),
  fc.integer({ min: 65, max: 100_000 }).map((n) => 'i'.repeat(n)),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Random object frames whose message_type and message_id are the interesting parts. */
const objectFrame = fc
  .record(
    {
      message_type: fc.oneof(fc.constantFrom(...MESSAGE_TYPES), fc.constant('ReceptionStatus'), oddString, fc.jsonValue({ maxDepth: 1 })),
      message_id: idValue,
      extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...core }) => JSON.stringify({ ...extra, ...core }));

/** A fixture with one field replaced, removed, or its message_type / message_id changed. */
const mutatedFixture = fc
  .tuple(
    fc.constantFrom(...FIXTURES),
    fc.nat(),
    fc.constantFrom('replace', 'delete', 'type', 'id', 'odd-label'),
    fc.jsonValue({ maxDepth: 3 }),
    idValue,
    fc.constantFrom(...MESSAGE_TYPES, 'ReceptionStatus', 'FRBC.Nonsense'),
  )
  .map(([text, pick, op, value, id, type]) => {
    const msg = JSON.parse(text) as Wire;
    const paths: Array<[Record<string, unknown> | unknown[], string | number]> = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach((v, i) => {
          paths.push([node, i]);
          walk(v);
        });
      } else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          paths.push([node as Record<string, unknown>, k]);
          walk(v);
        }
      }
    };
    walk(msg);
    const [parent, key] = paths[pick % paths.length] ?? [msg, 'message_id'];
    switch (op) {
      case 'replace':
        (parent as Record<string | number, unknown>)[key] = value;
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'type':
        msg.message_type = type;
        break;
      case 'id':
        msg.message_id = id;
        break;
      case 'odd-label':
        msg.diagnostic_label = ODD_TEXT.join('');
        break;
    }
    return JSON.stringify(msg);
  });

/** A message of any of the 35 types from the official schemas, valid or with one mutation. */
const schemaFrame = (files: readonly OfficialFile[]): fc.Arbitrary<string> =>
  fc
    .tuple(fc.integer(), fc.constantFrom(...files), fc.constantFrom(...VALID_VARIANTS, 'valid', 'valid', ...MUTATIONS))
    .map(([seed, file, kind]) => {
      const rng = new Rng(seed);
      const instance = generateMessage(rng, file, { ids: rng.chance(0.7) ? 'uuid' : 'any', maxArray: 2, optional: 0.5 });
      const mutated = mutate(rng, file, instance, kind);
      return JSON.stringify(mutated?.value ?? instance);
    });

/**
 * Deeply nested JSON, up to 20 000 deep: at the top, inside a field of a fixture, or as the
 * message_id.
 */
const deepFrame = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.constantFrom('top', 'field', 'id'), fc.boolean())
  .map(([n, open, where, closed]) => {
    const depth = n;
    const close = open === '[' ? ']' : '}';
    const deep = `${open.repeat(depth)}1${closed ? close.repeat(depth) : ''}`;
    if (where === 'top') return deep;
    const fixture = JSON.parse(FIXTURES[0] as string) as Wire;
    const text = JSON.stringify({ ...fixture, [where === 'id' ? 'message_id' : 'nested']: '@@' });
    return text.replace('"@@"', deep);
  });

/** A fixture cut short, or with odd characters spliced into its text. */
const brokenText = fc
  .tuple(fc.constantFrom(...FIXTURES), fc.nat(), fc.constantFrom(...ODD_TEXT), fc.boolean())
  .map(([text, at, odd, cut]) => {
    const i = at % (text.length + 1);
    return cut ? text.slice(0, i) : text.slice(0, i) + odd + text.slice(i);
  });

const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'true',
    '0',
    '-1e999',
    '[]',
    '{}',
    '{"',
    '"ReceptionStatus"',
    '\ufeff{}',
    '{"message_type":"ReceptionStatus"}',
    '{"__proto__":{"message_id":"ab"}}',
  ),
);

/** Every kind of frame; the schema-generated ones need the official schemas, so the suite builds this. */
const frameMix = (files: readonly OfficialFile[]): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: garbage, weight: 2 },
    { arbitrary: fc.json({ maxDepth: 4 }), weight: 2 },
    { arbitrary: objectFrame, weight: 3 },
    { arbitrary: mutatedFixture, weight: 4 },
    { arbitrary: schemaFrame(files), weight: 6 },
    { arbitrary: deepFrame, weight: 1 },
    { arbitrary: brokenText, weight: 2 },
  );
let anyFrame: fc.Arbitrary<string> | undefined;

// ---------------------------------------------------------------------------------------------
// The oracle

type Expected =
  { readonly kind: 'none' } | { readonly kind: 'nil' } | { readonly kind: 'id'; readonly id: string; readonly unknownType: boolean };

function oracle(text: string): Expected {
  const over = overCeiling(text);
  if (over !== undefined) return over;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'nil' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'nil' };
  const obj = value as Wire;
  if (obj.message_type === 'ReceptionStatus') return { kind: 'none' };
  const id = obj.message_id;
  if (typeof id === 'string' && READABLE_ID.test(id))
    return { kind: 'id', id, unknownType: typeof obj.message_type !== 'string' || !MESSAGE_TYPES.includes(obj.message_type) };
  return { kind: 'nil' };
}

/**
 * Sessions refuse a frame above its type's size ceiling before parsing it, when its type and id can be read off
 * the text (src/codec/ceilings.ts): INVALID_MESSAGE for that id, whatever else the text holds.
 */
function overCeiling(text: string): Expected | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  const type = peekMember(text, 'message_type');
  const spec = type === undefined ? undefined : messageSpec(type);
  const ceiling = spec === undefined ? undefined : sizeCeiling(spec);
  if (ceiling === undefined || text.length <= ceiling) return undefined;
  if (type === 'ReceptionStatus') return { kind: 'none' };
  const id = peekMember(text, 'message_id');
  return id !== undefined && READABLE_ID.test(id) ? { kind: 'id', id, unknownType: false } : undefined;
}

/** Valid messages that would end the session or change its control type on purpose: made invalid. */
function defuse(frame: string, role: 'CEM' | 'RM'): string {
  const r = decode(frame);
  if (!r.ok) return frame;
  const t = r.message.message_type;
  const changes = t === 'SessionRequest' || (role === 'CEM' ? t === 'ResourceManagerDetails' : t === 'SelectControlType');
  return changes ? `#${frame}` : frame;
}

/** Compares what the session sent for a batch of frames (then a barrier) with the oracle; returns the problems. */
function check(frames: readonly string[], out: readonly Wire[], barrierId: string): string[] {
  const expected = frames.map(oracle).filter((e) => e.kind !== 'none');
  const problems: string[] = [];
  if (out.length !== expected.length + 1) problems.push(`expected ${expected.length + 1} frames back, got ${out.length}`);
  expected.forEach((e, i) => {
    const got = out[i];
    const at = `answer #${i}`;
    if (got?.message_type !== 'ReceptionStatus')
      return problems.push(`${at}: not a ReceptionStatus: ${JSON.stringify(got)?.slice(0, 200)}`);
    if (e.kind === 'nil') {
      if (got.subject_message_id !== NIL || got.status !== 'INVALID_DATA')
        problems.push(`${at}: expected nil INVALID_DATA, got ${String(got.status)} for ${String(got.subject_message_id).slice(0, 80)}`);
    } else if (e.kind === 'id') {
      if (got.subject_message_id !== e.id)
        problems.push(`${at}: subject ${String(got.subject_message_id).slice(0, 80)} instead of ${e.id.slice(0, 80)}`);
      if (got.status === 'INVALID_DATA' || got.status === 'TEMPORARY_ERROR' || got.status === 'PERMANENT_ERROR')
        problems.push(`${at}: status ${String(got.status)}`);
      if (e.unknownType && got.status !== 'INVALID_MESSAGE') problems.push(`${at}: unknown type answered ${String(got.status)}`);
    }
    return undefined;
  });
  const last = out[out.length - 1];
  if (last?.subject_message_id !== barrierId || last.status !== 'OK')
    problems.push(`barrier not answered OK: ${JSON.stringify(last)?.slice(0, 200)}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Harness

const rejections: unknown[] = [];
const exceptions: unknown[] = [];
const onRejection = (reason: unknown): void => void rejections.push(reason);
const onException = (err: unknown): void => void exceptions.push(err);
beforeAll(() => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});

/** Watches a session for what must never happen while it is fuzzed. */
function watch(session: S2Session): { failures: string[] } {
  const failures: string[] = [];
  session.on('report', (r: SessionEvents['report']) => {
    if (r.kind === 'internal-error') failures.push(`internal error: ${r.detail}`);
  });
  session.on('close', (c) => failures.push(`closed ${c.code} ${c.reason}`));
  return { failures };
}

/** Sends a batch, then a barrier, waits for the barrier's answer and checks the whole exchange. */
async function fuzzBatch(
  peer: FramePeer,
  session: S2Session,
  frames: readonly string[],
  barrier: Wire,
  stateBefore: string,
  transform: (f: string) => string = (f) => f,
): Promise<void> {
  const start = peer.inbox.length;
  for (const f of frames) peer.sendRaw(f);
  const barrierId = peer.send(barrier) as string;
  await peer.statusFor(barrierId, 5_000);
  const problems = check(frames.map(transform), peer.inbox.slice(start), barrierId);
  expect(
    problems,
    `frames: ${frames
      .map((f) => f.slice(0, 120))
      .join(' | ')
      .slice(0, 2_000)}`,
  ).toEqual([]);
  expect(session.state).toBe(stateBefore);
  expect(session.pendingCount).toBe(0);
}

const batch = (role: 'CEM' | 'RM', maxLength: number) => {
  if (!anyFrame) throw new Error('fuzz frames are built by the fuzz suite');
  return fc.array(anyFrame, { minLength: 10, maxLength, size: 'max' }).map((fs) => fs.map((f) => defuse(f, role)));
};

describeWith(OFFICIAL_SPEC, `fuzz, seed ${SEED}`, () => {
  anyFrame = frameMix(officialSchemas().messages);

  it(`[R11, R12, R16] an active CEM over the in-memory transport (seed ${SEED})`, async () => {
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(batch('CEM', 140), async (batchFrames) => {
        const { session, peer } = memorySession({ role: 'CEM', clock: guard.clock });
        guard.track(session);
        const { failures } = watch(session);
        try {
          await rawRmHandshake(peer);
          for (const m of frbcActivationMessages()) expect((await peer.statusFor(peer.send(m) as string)).status).toBe('OK');
          await waitFor(() => session.state === 'connected.active.FRBC' && session.pendingCount === 0, 2_000, 'CEM active');
          await fuzzBatch(peer, session, batchFrames, powerMeasurement(), 'connected.active.FRBC');
          frames += batchFrames.length;
          expect(failures).toEqual([]);
        } finally {
          await session.close();
        }
      }),
      { seed: SEED, numRuns: 45, interruptAfterTimeLimit: 60_000 },
    );
    expect(frames).toBeGreaterThan(2_000);
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
  });

  it(`[R11, R12, R16] an active RM over the in-memory transport (seed ${SEED + 1})`, async () => {
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(batch('RM', 120), async (batchFrames) => {
        const { session, peer } = memorySession({ role: 'RM', clock: guard.clock, details: rmDetailsInput() });
        guard.track(session);
        const { failures } = watch(session);
        peer.autoAck = 'OK';
        try {
          peer.send(handshake('CEM'));
          peer.send(handshakeResponse());
          await peer.message('ResourceManagerDetails');
          expect((await peer.statusFor(peer.send(selectControlType('FILL_RATE_BASED_CONTROL')) as string)).status).toBe('OK');
          await waitFor(() => session.state === 'connected.active.FRBC', 2_000, 'RM active');
          // R39: the RM describes itself, so that a valid instruction can be accepted afterwards.
          for (const m of frbcActivationMessages()) expect((await session.send(m as never)).status).toBe('OK');
          peer.autoAck = undefined; // from here on every frame back must be an answer to a fuzz frame
          await fuzzBatch(peer, session, batchFrames, frbcInstruction(), 'connected.active.FRBC');
          frames += batchFrames.length;
          expect(failures).toEqual([]);
        } finally {
          await session.close();
        }
      }),
      { seed: SEED + 1, numRuns: 20, interruptAfterTimeLimit: 60_000 },
    );
    expect(frames).toBeGreaterThan(800);
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
  });

  it(`[R11, R12, R16] a CEM server over a real WebSocket on 127.0.0.1 (seed ${SEED + 2})`, async () => {
    const server = await guard.cemServer();
    let frames = 0;
    let index = 0;
    await fc.assert(
      fc.asyncProperty(batch('CEM', 100), async (batchFrames) => {
        const peer = await guard.peer(server.url);
        try {
          await rawRmHandshake(peer);
          const session = await server.session(index++);
          const { failures } = watch(session);
          for (const m of frbcActivationMessages()) expect((await peer.statusFor(peer.send(m) as string)).status).toBe('OK');
          await waitFor(() => session.state === 'connected.active.FRBC' && session.pendingCount === 0, 2_000, 'CEM active');
          // What the server reads is the UTF-8 encoding of the frame (lone surrogates become U+FFFD).
          await fuzzBatch(peer, session, batchFrames, powerMeasurement(), 'connected.active.FRBC', (f) =>
            Buffer.from(f, 'utf8').toString('utf8'),
          );
          frames += batchFrames.length;
          expect(failures).toEqual([]);
        } finally {
          await peer.close();
        }
      }),
      { seed: SEED + 2, numRuns: 8, interruptAfterTimeLimit: 60_000 },
    );
    await server.close();
    expect(server.sessions.size).toBe(0);
    expect(frames).toBeGreaterThan(300);
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
  });
});

describe('hostile nesting', () => {
  // Found by this fuzz test: showValue's fallback String(value) overflowed the stack on a deep
  // array, so decode() threw and one frame closed the session with 1011 (fixed in problem.ts).
  it('[R11, R20] a JSON array nested 5 000 deep is answered INVALID_DATA (nil id) and the session goes on', async () => {
    const { server, peer, session } = await activeCem(guard);
    try {
      peer.sendRaw(`${'['.repeat(5_000)}${']'.repeat(5_000)}`);
      const outcome = await Promise.race([
        peer
          .next(
            (m) => m.message_type === 'ReceptionStatus' && m.status === 'INVALID_DATA' && m.subject_message_id === NIL,
            'INVALID_DATA',
            2_000,
          )
          .then(
            () => 'answered',
            () => 'no answer',
          ),
        peer.closed.then((c) => `closed ${c.code}`),
      ]);
      expect(outcome).toBe('answered');
      expect(session.isClosed).toBe(false);
    } finally {
      await server.close();
    }
  });
});
