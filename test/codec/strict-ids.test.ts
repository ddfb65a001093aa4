/**
 * `ids: 'strict'` (R3, Q15): the official ID pattern anchored, 2–64 of [A-Za-z0-9-_:] and nothing
 * else, for every ID field. A message_id that fails it is INVALID_DATA with the nil subject, so a
 * hostile id (2 MiB, a newline, markup) is never echoed; the default 'schema' mode stays
 * schema-exact and does echo what the unanchored official pattern accepts.
 */
import { describe, expect, it } from 'vitest';
import { codecFor, decode, encode, NIL_UUID, type DecodeFailure, type DecodeResult } from '../../src/codec/index.js';
import type { S2Message } from '../../src/typebox/registry.js';
import { ID_MODES, STRICT_ID_PATTERN } from '../../src/typebox/validators.js';
import { checkSessionOptions } from '../../src/roles/options.js';

const ID = 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6';
const ID2 = '0b5d2a4c-3f0e-4c1a-9d7b-6a2f1e0c9b8d';

const instruction = {
  message_type: 'FRBC.Instruction',
  message_id: ID,
  id: ID2,
  actuator_id: 'c6a7b1d2-8e9f-4a0b-9c1d-2e3f4a5b6c7d',
  operation_mode: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  operation_mode_factor: 0.5,
  execution_time: '2026-01-01T00:00:00Z',
  abnormal_condition: false,
} as const;

const withField = (field: string, value: unknown) => JSON.stringify({ ...instruction, [field]: value });

function failure(r: DecodeResult): DecodeFailure {
  if (r.ok) throw new Error('expected a decode failure');
  return r.error;
}

const TWO_MIB = 'a'.repeat(2 * 1024 * 1024);
const HOSTILE_IDS: Record<string, string> = {
  '2 MiB': TWO_MIB,
  'a newline': 'ab\ncd',
  'a trailing newline': 'abcd\n',
  'a space': 'ab cd',
  markup: '<script>alert(1)</script>',
  'an ANSI escape': '\u001b[31mab',
  '65 characters': 'a'.repeat(65),
  'one character': 'a',
};

describe("ids: 'strict'", () => {
  it("[R3] is a documented ID mode, and the session options accept it (and only 'schema', 'strict', 'uuid')", () => {
    expect(ID_MODES).toEqual(['schema', 'strict', 'uuid']);
    expect(STRICT_ID_PATTERN).toBe('^[a-zA-Z0-9\\-_:]{2,64}$');
    expect(checkSessionOptions({ role: 'CEM', ids: 'strict' })).toEqual([]);
    expect(checkSessionOptions({ role: 'CEM', ids: 'STRICT' }).map((p) => p.path)).toEqual(['ids']);
    expect(codecFor({ ids: 'strict' }).ids).toBe('strict');
  });

  it('[R3][R20] a 2 MiB message_id, or one with a newline, markup or control characters, is INVALID_DATA with the nil subject and never echoed', () => {
    for (const [what, id] of Object.entries(HOSTILE_IDS)) {
      const e = failure(decode(withField('message_id', id), { ids: 'strict' }));
      expect(e.status, what).toBe('INVALID_DATA');
      expect(e.subjectMessageId, what).toBe(NIL_UUID);
      expect(e.reply?.subject_message_id, what).toBe(NIL_UUID);
      expect(e.problems[0]?.path, what).toBe('$.message_id');
      // What is said about it is bounded and JSON-escaped: no raw newline or escape reaches a log.
      const said = JSON.stringify(e.reply);
      expect(said.length, what).toBeLessThan(600);
      // eslint-disable-next-line no-control-regex
      expect(e.diagnosticLabel, what).not.toMatch(/[\u0000-\u001f]/);
      expect(
        e.problems.every((p) => (p.value ?? '').length <= 80),
        what,
      ).toBe(true);
    }
  });

  it('[R3] every other ID field is checked anchored too: INVALID_MESSAGE at its path, the message_id still answered', () => {
    for (const field of ['id', 'actuator_id', 'operation_mode']) {
      for (const [what, id] of Object.entries(HOSTILE_IDS)) {
        const e = failure(decode(withField(field, id), { ids: 'strict' }));
        expect(e.status, `${field}: ${what}`).toBe('INVALID_MESSAGE');
        expect(e.subjectMessageId, `${field}: ${what}`).toBe(ID);
        expect(e.problems[0]?.path, `${field}: ${what}`).toBe(`$.${field}`);
        expect(e.problems[0]?.message, `${field}: ${what}`).toBe('must be an ID (2–64 of [A-Za-z0-9-_:] and nothing else)');
      }
    }
  });

  it('[R3][R4] accepts UUIDs (any case, as the Python and Rust implementations send them) and short plain ids of 2–64 characters', () => {
    expect(decode(JSON.stringify(instruction), { ids: 'strict' }).ok).toBe(true);
    expect(decode(withField('message_id', ID.toUpperCase()), { ids: 'strict' }).ok).toBe(true);
    for (const id of ['ab', 'msg-1', 'urn:x:y', 'a_b', 'a'.repeat(64)]) {
      expect(decode(withField('message_id', id), { ids: 'strict' }).ok, id).toBe(true);
      expect(decode(withField('actuator_id', id), { ids: 'strict' }).ok, id).toBe(true);
    }
  });

  it('[R3] encode refuses to send an unanchored id in strict mode', () => {
    const loose = { ...instruction, actuator_id: 'actuator 1' } as unknown as S2Message;
    expect(() => encode(loose)).not.toThrow();
    expect(() => encode(loose, { ids: 'strict' })).toThrow(expect.objectContaining({ code: 'INVALID_OUTGOING_MESSAGE' }) as unknown);
  });

  it("[R3][R13] the default 'schema' mode stays schema-exact: such an id is accepted and repeated as the subject; the label stays bounded", () => {
    expect(codecFor().ids).toBe('schema');
    for (const [what, id] of Object.entries(HOSTILE_IDS)) {
      // Every one but 'a' holds two ID characters in a row, so the unanchored pattern matches.
      if (what === 'one character') continue;
      expect(decode(withField('message_id', id)).ok, what).toBe(true);
    }
    // Accepted, then refused by the schema elsewhere: the subject repeats the id exactly (R13), the label is clipped.
    const e = failure(decode(JSON.stringify({ ...instruction, message_id: TWO_MIB, operation_mode_factor: 'x'.repeat(10_000) })));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.subjectMessageId).toBe(TWO_MIB);
    expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
  });
});
