/**
 * Size ceilings per message type (issue 15 item 5): a frame far larger than its type's schema can
 * describe is refused INVALID_MESSAGE, with its id, before it is parsed (sessions turn this on;
 * `decode` stays schema-exact by default).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BASE_ALLOWANCE, MAX_CEILING, sizeCeiling, sizeCeilings } from '../../src/codec/ceilings.js';
import { peekMember } from '../../src/codec/codec.js';
import { codecFor, decode, type DecodeFailure, type DecodeResult } from '../../src/codec/index.js';
import { MESSAGES, messageSpec } from '../../src/typebox/registry.js';
import { fixture, fixtureTexts } from '../support/e2e-messages.js';

const ID = 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6';
const withCeilings = { ceilings: true } as const;

function failure(r: DecodeResult): DecodeFailure {
  if (r.ok) throw new Error('expected a decode failure');
  return r.error;
}

/** A FRBC.ActuatorStatus frame padded to `size` characters with a string member. */
function paddedActuatorStatus(size: number, id = ID): string {
  const head = `{"message_type":"FRBC.ActuatorStatus","message_id":"${id}","actuator_id":"${ID}","active_operation_mode_id":"${ID}","operation_mode_factor":0.5,"padding":"`;
  return `${head}${'y'.repeat(size - head.length - 2)}"}`;
}

function ceilingOf(type: string): number | undefined {
  const spec = messageSpec(type);
  if (!spec) throw new Error(type);
  return sizeCeiling(spec);
}

afterEach(() => void vi.restoreAllMocks());

describe('sizeCeiling (derived from the schemas)', () => {
  it('messages whose schema bounds every array and member have a ceiling; the rest have none', () => {
    const table = sizeCeilings(MESSAGES);
    // A handful of fields: tens of KiB at most.
    for (const type of [
      'ReceptionStatus',
      'SessionRequest',
      'SelectControlType',
      'FRBC.ActuatorStatus',
      'InstructionStatusUpdate',
      'PPBC.ScheduleInstruction',
    ]) {
      expect(table[type], type).toBeGreaterThan(BASE_ALLOWANCE);
      expect(table[type], type).toBeLessThanOrEqual(64 * 1024);
    }
    // Bounded arrays of many elements: larger ceilings.
    expect(ceilingOf('FRBC.UsageForecast')).toBeGreaterThan(256 * 1024);
    // Handshake's supported_protocol_versions has no maxItems; descriptions and PowerForecast bound above MAX_CEILING.
    for (const type of [
      'Handshake',
      'FRBC.SystemDescription',
      'OMBC.SystemDescription',
      'DDBC.SystemDescription',
      'PPBC.PowerProfileDefinition',
      'PowerForecast',
    ]) {
      expect(table[type], type).toBeUndefined();
    }
    for (const ceiling of Object.values(table)) expect(ceiling).toBeLessThan(MAX_CEILING);
  });

  it('every realistic message (the fixtures) is at most a quarter of its ceiling and decodes the same with ceilings on', () => {
    for (const text of fixtureTexts()) {
      const type = (JSON.parse(text) as { message_type: string }).message_type;
      const ceiling = ceilingOf(type);
      if (ceiling !== undefined) expect(text.length * 4, type).toBeLessThanOrEqual(ceiling);
      expect(decode(text, withCeilings), type).toEqual(decode(text));
    }
  });
});

describe('peekMember (a member read off the text without parsing)', () => {
  it('finds a member name after { or , with any JSON whitespace', () => {
    expect(peekMember('{"message_type":"A"}', 'message_type')).toBe('A');
    expect(peekMember('{ "a": 1,\n\t"message_type" :\r "B" }', 'message_type')).toBe('B');
  });

  it('is not fooled by the same text inside a string or as a value', () => {
    expect(peekMember('{"a":"\\"message_type\\":\\"X\\"","message_type":"Y"}', 'message_type')).toBe('Y');
    expect(peekMember('{"a":"message_type","b":1}', 'message_type')).toBeUndefined();
    expect(peekMember('{"a":["message_type","b"]}', 'message_type')).toBeUndefined();
    expect(peekMember('{"subject_message_id":"abc"}', 'message_id')).toBeUndefined();
  });

  it('gives up (undefined) when only the parser can tell: repeated, escaped, not a string', () => {
    expect(peekMember('{"message_type":"X","message_type":"Y"}', 'message_type')).toBeUndefined();
    expect(peekMember('{"message_type":"X\\u0041"}', 'message_type')).toBeUndefined();
    expect(peekMember('{"message_type":5}', 'message_type')).toBeUndefined();
    expect(peekMember('{"message_type":"unterminated', 'message_type')).toBeUndefined();
  });
});

describe('decode with ceilings', () => {
  it('[R12][R13] a 4 MiB FRBC.ActuatorStatus is INVALID_MESSAGE with its id, naming type, size and ceiling, and is never parsed', () => {
    const frame = paddedActuatorStatus(4 * 1024 * 1024);
    const parse = vi.spyOn(JSON, 'parse');
    const e = failure(decode(frame, withCeilings));
    expect(parse).not.toHaveBeenCalled();
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.subjectMessageId).toBe(ID);
    expect(e.messageType).toBe('FRBC.ActuatorStatus');
    const ceiling = ceilingOf('FRBC.ActuatorStatus');
    expect(e.diagnosticLabel).toBe(
      `INVALID_MESSAGE: $ FRBC.ActuatorStatus frame of ${4 * 1024 * 1024} characters is above the size ceiling of ${ceiling} that its schema allows`,
    );
    expect(e.reply).toEqual({
      message_type: 'ReceptionStatus',
      subject_message_id: ID,
      status: 'INVALID_MESSAGE',
      diagnostic_label: e.diagnosticLabel,
    });
  });

  it('a frame just at its ceiling goes on to the schema; one character more is refused', () => {
    const ceiling = ceilingOf('FRBC.ActuatorStatus')!;
    const at = failure(decode(paddedActuatorStatus(ceiling), withCeilings));
    expect(at.problems[0]?.path).toBe('$.padding'); // the schema's verdict: an unknown member
    const above = failure(decode(paddedActuatorStatus(ceiling + 1), withCeilings));
    expect(above.problems[0]?.message).toMatch(/above the size ceiling/);
  });

  it('[R11] an over-ceiling ReceptionStatus is refused without a reply', () => {
    const head = `{"message_type":"ReceptionStatus","subject_message_id":"${ID}","status":"OK","diagnostic_label":"`;
    const e = failure(decode(`${head}${'z'.repeat(1024 * 1024)}"}`, withCeilings));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.reply).toBeUndefined();
    expect(e.diagnosticLabel).toMatch(/ReceptionStatus frame of \d+ characters is above the size ceiling of 33792/);
  });

  it('when the text does not say plainly (escaped id, repeated type), the frame is parsed and the ceiling still applies, to the parsed type and id', () => {
    const escaped = paddedActuatorStatus(200_000, 'msg\\u002d1'); // the id is "msg-1" once parsed
    const e = failure(decode(escaped, withCeilings));
    expect(e.subjectMessageId).toBe('msg-1');
    expect(e.problems[0]?.message).toMatch(/^FRBC\.ActuatorStatus frame of 200000 characters is above the size ceiling/);
    // JSON.parse keeps the last of repeated members: the ceiling is that type's.
    const repeated = paddedActuatorStatus(200_000).replace('{', '{"message_type":"FRBC.SystemDescription",');
    const parse = vi.spyOn(JSON, 'parse');
    const r = failure(decode(repeated, withCeilings));
    expect(parse).toHaveBeenCalledTimes(1);
    expect(r.messageType).toBe('FRBC.ActuatorStatus');
    expect(r.problems[0]?.message).toMatch(/above the size ceiling/);
  });

  it('[R20] an unreadable message_id stays INVALID_DATA with the nil subject, whatever the size', () => {
    const e = failure(decode(paddedActuatorStatus(200_000, 'bad id\\n'), { ids: 'strict', ceilings: true }));
    expect(e.status).toBe('INVALID_DATA');
    expect(e.subjectMessageId).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('types without a ceiling and the default codec are untouched', () => {
    // A large but valid FRBC.SystemDescription decodes with ceilings on.
    const large = JSON.stringify(fixture('FRBC.SystemDescription.large'));
    expect(decode(large, withCeilings).ok).toBe(true);
    // Off by default: decode() and `s2 validate` stay schema-exact.
    expect(codecFor().ceilings).toBe(false);
    const e = failure(decode(paddedActuatorStatus(100_000)));
    expect(e.problems[0]?.path).toBe('$.padding');
  });
});
