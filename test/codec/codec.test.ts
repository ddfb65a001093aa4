/**
 * Unit tests of the ReceptionStatus decision-table rows the codec owns (docs/design.md): frame → status,
 * subject id, problems (JSONPath, value, sentence), diagnostic label and reply; and `encode`.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, NIL_UUID, type DecodeFailure, type DecodeResult } from '../../src/codec/index.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { S2Message } from '../../src/typebox/registry.js';

const ID = 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6';
const ID2 = '0b5d2a4c-3f0e-4c1a-9d7b-6a2f1e0c9b8d';

const frbcInstruction = {
  message_type: 'FRBC.Instruction',
  message_id: ID,
  id: ID2,
  actuator_id: 'c6a7b1d2-8e9f-4a0b-9c1d-2e3f4a5b6c7d',
  operation_mode: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  operation_mode_factor: 0.5,
  execution_time: '2026-01-01T00:00:00Z',
  abnormal_condition: false,
} as const;

const rmDetails = {
  message_type: 'ResourceManagerDetails',
  message_id: ID,
  resource_id: ID2,
  roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 10000,
  available_control_types: ['FILL_RATE_BASED_CONTROL'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
} as const;

const receptionStatus = { message_type: 'ReceptionStatus', subject_message_id: ID, status: 'OK' } as const;

const frbcSystemDescription = {
  message_type: 'FRBC.SystemDescription',
  message_id: ID,
  valid_from: '2026-01-01T00:00:00+01:00',
  actuators: [
    {
      id: ID2,
      supported_commodities: ['ELECTRICITY'],
      operation_modes: [
        {
          id: 'a1',
          elements: [
            {
              fill_level_range: { start_of_range: 0, end_of_range: 100 },
              fill_rate: { start_of_range: 0, end_of_range: 1 },
              power_ranges: [{ start_of_range: 0, end_of_range: 1000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
            },
          ],
          abnormal_condition_only: false,
        },
      ],
      transitions: [],
      timers: [],
    },
  ],
  storage: {
    provides_leakage_behaviour: false,
    provides_fill_level_target_profile: false,
    provides_usage_forecast: false,
    fill_level_range: { start_of_range: 0, end_of_range: 100 },
  },
} as const;

const text = (v: unknown): string => JSON.stringify(v);
const withField = (base: object, key: string, value: unknown): string => text({ ...base, [key]: value });

function failure(r: DecodeResult): DecodeFailure {
  if (r.ok) throw new Error(`expected a decode failure, got OK: ${JSON.stringify(r.message)}`);
  return r.error;
}

/** The reply a failure must carry (R13, R20): status, subject and label of the failure. */
function expectReply(e: DecodeFailure): void {
  expect(e.reply).toStrictEqual({
    message_type: 'ReceptionStatus',
    subject_message_id: e.subjectMessageId,
    status: e.status,
    diagnostic_label: e.diagnosticLabel,
  });
  expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
  expect(e.diagnosticLabel.startsWith(e.status)).toBe(true);
}

describe('decode: INVALID_DATA rows (nil subject id)', () => {
  it('[R20][Q7] text that is not JSON is INVALID_DATA with the nil UUID', () => {
    for (const t of ['', '{', 'hello', '{"message_id": }', "{'a': 1}", '\u0000']) {
      const e = failure(decode(t));
      expect(e.status).toBe('INVALID_DATA');
      expect(e.subjectMessageId).toBe(NIL_UUID);
      expect(e.subjectMessageId).toBe('00000000-0000-0000-0000-000000000000');
      expect(e.messageType).toBeUndefined();
      expect(e.problems[0]?.path).toBe('$');
      expect(e.problems[0]?.message).toMatch(/not JSON/);
      expectReply(e);
    }
  });

  it('[R1][R20] a JSON array, string, number, boolean or null is INVALID_DATA', () => {
    for (const t of ['[]', `[${text(frbcInstruction)}]`, '"FRBC.Instruction"', '42', '-1.5', 'true', 'null']) {
      const e = failure(decode(t));
      expect(e.status, t).toBe('INVALID_DATA');
      expect(e.subjectMessageId).toBe(NIL_UUID);
      expect(e.problems[0]?.path).toBe('$');
      expect(e.problems[0]?.message).toMatch(/must be a JSON object/);
      expectReply(e);
    }
  });

  it('[R2][R20][Q7] a message without message_id is INVALID_DATA with the nil UUID', () => {
    const { message_id: _, ...noId } = frbcInstruction;
    const e = failure(decode(text(noId)));
    expect(e.status).toBe('INVALID_DATA');
    expect(e.subjectMessageId).toBe(NIL_UUID);
    expect(e.messageType).toBe('FRBC.Instruction');
    expect(e.problems).toStrictEqual([{ path: '$.message_id', message: expect.stringMatching(/missing/) as unknown }]);
    expectReply(e);
  });

  it('[R2][R3][R20] an unreadable message_id (not a string, or no ID) is INVALID_DATA', () => {
    for (const bad of [42, null, ['x'], { id: ID }, '', 'a', 'é!é', ' - ']) {
      const e = failure(decode(withField(frbcInstruction, 'message_id', bad)));
      expect(e.status, JSON.stringify(bad)).toBe('INVALID_DATA');
      expect(e.subjectMessageId).toBe(NIL_UUID);
      expect(e.problems[0]?.path).toBe('$.message_id');
      expectReply(e);
    }
  });

  it('[R1][R2][R20] no message_type and no message_id is INVALID_DATA', () => {
    const e = failure(decode('{}'));
    expect(e.status).toBe('INVALID_DATA');
    expect(e.subjectMessageId).toBe(NIL_UUID);
  });
});

describe('decode: INVALID_MESSAGE rows (its own id)', () => {
  it('[R1][R13] unknown message_type with an id is INVALID_MESSAGE with its id', () => {
    for (const type of ['FRBC.Unknown', 'frbc.instruction', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const e = failure(decode(withField(frbcInstruction, 'message_type', type)));
      expect(e.status, type).toBe('INVALID_MESSAGE');
      expect(e.subjectMessageId).toBe(ID);
      expect(e.messageType).toBe(type);
      expect(e.problems[0]?.path).toBe('$.message_type');
      expect(e.problems[0]?.message).toMatch(/unknown message_type/);
      expect(e.problems[0]?.value).toBe(JSON.stringify(type));
      expectReply(e);
    }
  });

  it('[R1][R13] a missing or non-string message_type with an id is INVALID_MESSAGE with its id', () => {
    const { message_type: _, ...noType } = frbcInstruction;
    for (const t of [text(noType), withField(frbcInstruction, 'message_type', 7)]) {
      const e = failure(decode(t));
      expect(e.status).toBe('INVALID_MESSAGE');
      expect(e.subjectMessageId).toBe(ID);
      expect(e.messageType).toBeUndefined();
      expect(e.problems[0]?.path).toBe('$.message_type');
      expectReply(e);
    }
  });

  it('[R13] a schema violation is INVALID_MESSAGE with a JSONPath, the value and a readable sentence', () => {
    const bad = JSON.parse(text(frbcSystemDescription)) as {
      actuators: { operation_modes: { elements: { power_ranges: { commodity_quantity: string }[] }[] }[] }[];
    };
    bad.actuators[0]!.operation_modes[0]!.elements[0]!.power_ranges[0]!.commodity_quantity = 'ELECTRIC.POWER.L4';
    const e = failure(decode(text(bad)));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.subjectMessageId).toBe(ID);
    expect(e.messageType).toBe('FRBC.SystemDescription');
    const p = e.problems[0];
    expect(p?.path).toBe('$.actuators[0].operation_modes[0].elements[0].power_ranges[0].commodity_quantity');
    expect(p?.value).toBe('"ELECTRIC.POWER.L4"');
    expect(p?.message).toMatch(/^must be one of "ELECTRIC\.POWER\.L1"/);
    expect(e.diagnosticLabel).toContain('$.actuators[0].operation_modes[0].elements[0].power_ranges[0].commodity_quantity');
    expectReply(e);
  });

  it('[R13] a missing required field and a wrong type are reported at their paths', () => {
    const { execution_time: _, ...noTime } = frbcInstruction;
    let e = failure(decode(text(noTime)));
    expect(e.problems).toContainEqual({ path: '$.execution_time', message: 'required field is missing' });
    e = failure(decode(withField(frbcInstruction, 'operation_mode_factor', '0.5')));
    expect(e.problems).toContainEqual(expect.objectContaining({ path: '$.operation_mode_factor', value: '"0.5"' }));
    expect(e.problems[0]?.message).toMatch(/number/);
  });

  it('[R5] an unknown field is INVALID_MESSAGE naming the field', () => {
    const e = failure(decode(withField(frbcInstruction, 'priority', 1)));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.problems).toContainEqual({ path: '$.priority', message: "unknown field 'priority' (not allowed by the schema)", value: '1' });
    // Also nested, and for a key that is not an identifier.
    const nested = JSON.parse(text(frbcSystemDescription)) as { storage: Record<string, unknown> };
    nested.storage['fill level'] = 1;
    const n = failure(decode(text(nested)));
    expect(n.problems[0]?.path).toBe('$.storage["fill level"]');
  });

  it('[R6] null for an optional field is INVALID_MESSAGE (never null, only omitted)', () => {
    for (const [base, key] of [
      [rmDetails, 'name'],
      [rmDetails, 'currency'],
      [{ message_type: 'Handshake', message_id: ID, role: 'RM' }, 'supported_protocol_versions'],
      [{ message_type: 'SessionRequest', message_id: ID, request: 'RECONNECT' }, 'diagnostic_label'],
    ] as const) {
      expect(decode(text(base)).ok, `${base.message_type} without ${key}`).toBe(true);
      const e = failure(decode(withField(base, key, null)));
      expect(e.status).toBe('INVALID_MESSAGE');
      expect(e.problems[0]?.path).toBe(`$.${key}`);
      expect(e.problems[0]?.value).toBe('null');
    }
  });

  it('[R7] a date-time without offset is rejected; with Z or an offset it is accepted', () => {
    for (const bad of [
      '2026-01-01T00:00:00',
      '2026-01-01T00:00:00.123',
      '2026-01-01',
      'tomorrow',
      '2026-02-30T00:00:00Z',
      '2026-01-01T24:00:00Z',
    ]) {
      const e = failure(decode(withField(frbcInstruction, 'execution_time', bad)));
      expect(e.status, bad).toBe('INVALID_MESSAGE');
      expect(e.problems[0]).toStrictEqual({
        path: '$.execution_time',
        message: 'must be an RFC 3339 date-time with an offset or Z',
        value: JSON.stringify(bad),
      });
    }
    for (const good of [
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00.5+01:00',
      '2026-06-30T23:59:59.123456-05:30',
      '2024-02-29T12:00:00z',
    ]) {
      expect(decode(withField(frbcInstruction, 'execution_time', good)).ok, good).toBe(true);
    }
  });

  it('[R8] a Duration of 1.5 or -1 is rejected; 0 and whole numbers are accepted', () => {
    for (const bad of [1.5, -1, 0.001, '100']) {
      const e = failure(decode(withField(rmDetails, 'instruction_processing_delay', bad)));
      expect(e.status, String(bad)).toBe('INVALID_MESSAGE');
      expect(e.problems[0]?.path).toBe('$.instruction_processing_delay');
      expect(e.problems[0]?.value).toBe(JSON.stringify(bad));
    }
    for (const good of [0, 1, 3_600_000]) expect(decode(withField(rmDetails, 'instruction_processing_delay', good)).ok).toBe(true);
    // 1.0 is the JSON text "1.0": a whole number, accepted.
    expect(decode(text(rmDetails).replace('10000', '1.0')).ok).toBe(true);
  });

  it('[R3] an ID field that violates the pattern is INVALID_MESSAGE at its path; the pattern is unanchored', () => {
    const e = failure(decode(withField(frbcInstruction, 'actuator_id', 'a')));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.subjectMessageId).toBe(ID);
    expect(e.problems[0]).toStrictEqual({ path: '$.actuator_id', message: 'must be an ID (2–64 of [A-Za-z0-9-_:])', value: '"a"' });
    // R3: the official pattern has no ^…$, so these pass in the default ('schema') mode.
    for (const loose of ['actuator1', '!!ab!!', 'x'.repeat(100)]) {
      expect(decode(withField(frbcInstruction, 'actuator_id', loose)).ok, loose).toBe(true);
    }
  });

  it("[R3] ids: 'uuid' rejects a non-UUID ID field at its path, and a non-UUID message_id as INVALID_DATA", () => {
    expect(decode(text(frbcInstruction), { ids: 'uuid' }).ok).toBe(true);
    expect(decode(withField(frbcInstruction, 'actuator_id', ID.toUpperCase()), { ids: 'uuid' }).ok).toBe(true);
    const e = failure(decode(withField(frbcInstruction, 'actuator_id', 'actuator1'), { ids: 'uuid' }));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.problems[0]).toStrictEqual({ path: '$.actuator_id', message: 'must be a UUID (8-4-4-4-12 hex digits)', value: '"actuator1"' });
    const m = failure(decode(withField(frbcInstruction, 'message_id', 'msg-1'), { ids: 'uuid' }));
    expect(m.status).toBe('INVALID_DATA');
    expect(m.subjectMessageId).toBe(NIL_UUID);
    expect(m.problems[0]?.path).toBe('$.message_id');
  });

  it('[R53][Q10] RevokeObject accepts the 13 schema object types; the 4 extra DOC/toml values are INVALID_MESSAGE', () => {
    const revoke = (objectType: string) => text({ message_type: 'RevokeObject', message_id: ID, object_type: objectType, object_id: ID2 });
    const valid = [
      'PEBC.PowerConstraints',
      'PEBC.EnergyConstraint',
      'PEBC.Instruction',
      'PPBC.PowerProfileDefinition',
      'PPBC.ScheduleInstruction',
      'PPBC.StartInterruptionInstruction',
      'PPBC.EndInterruptionInstruction',
      'OMBC.SystemDescription',
      'OMBC.Instruction',
      'FRBC.SystemDescription',
      'FRBC.Instruction',
      'DDBC.SystemDescription',
      'DDBC.Instruction',
    ];
    for (const t of valid) expect(decode(revoke(t)).ok, t).toBe(true);
    for (const t of ['FRBC.LeakageBehaviour', 'FRBC.UsageForecast', 'FRBC.FillLevelTargetProfile', 'DDBC.AverageDemandRateForecast']) {
      const e = failure(decode(revoke(t)));
      expect(e.status, t).toBe('INVALID_MESSAGE');
      expect(e.subjectMessageId).toBe(ID);
      expect(e.problems[0]?.path).toBe('$.object_type');
      expect(e.problems[0]?.value).toBe(JSON.stringify(t));
    }
  });
});

describe('decode: huge values are truncated', () => {
  const huge = 'X'.repeat(10_000);

  it('[R13] a 10 kB string value is truncated in problem.value and in the diagnostic label (≤ 240 chars)', () => {
    const nested = JSON.parse(text(frbcSystemDescription)) as { actuators: { operation_modes: { diagnostic_label?: unknown }[] }[] };
    nested.actuators[0]!.operation_modes[0]!.diagnostic_label = { text: huge };
    for (const [t, path] of [
      [withField({ message_type: 'SelectControlType', message_id: ID }, 'control_type', huge), '$.control_type'],
      [withField(frbcInstruction, 'message_type', huge), '$.message_type'],
      [withField(frbcInstruction, 'execution_time', huge), '$.execution_time'],
      [withField(frbcInstruction, 'actuator_id', ['a', huge]), '$.actuator_id'],
      [text(nested), '$.actuators[0].operation_modes[0].diagnostic_label'],
    ] as const) {
      const e = failure(decode(t));
      expect(e.status).toBe('INVALID_MESSAGE');
      const p = e.problems[0];
      expect(p?.path).toBe(path);
      expect(p?.value, path).toBeDefined();
      expect(p!.value!.length, path).toBeLessThanOrEqual(80);
      expect(p!.value!.endsWith('…'), path).toBe(true);
      expect(huge.startsWith(p!.value!.replace(/^[^X]*/, '').replace(/…$/, ''))).toBe(true);
      expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
      expect(e.diagnosticLabel).not.toContain(huge);
      expectReply(e);
    }
  });

  it('[R5][R13] a 10 kB unknown key still yields a diagnostic label ≤ 240 chars', () => {
    const e = failure(decode(withField(frbcInstruction, huge, 1)));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
    expect(e.diagnosticLabel).not.toContain(huge);
    expectReply(e);
  });

  it('[R20] a 10 kB non-JSON frame and a 10 kB unreadable message_id are truncated too', () => {
    for (const t of [`{${huge}`, withField(frbcInstruction, 'message_id', `!${'é'.repeat(10_000)}`)]) {
      const e = failure(decode(t));
      expect(e.status).toBe('INVALID_DATA');
      expect(e.problems[0]?.value?.length).toBeLessThan(200);
      expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
      expectReply(e);
    }
  });

  it('[R13] a label with many problems stays ≤ 240 chars and counts the rest', () => {
    const e = failure(decode(text({ message_type: 'FRBC.Instruction', message_id: ID, a: huge, b: huge, c: huge })));
    expect(e.problems.length).toBeGreaterThan(1);
    expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
  });
});

describe('decode: ReceptionStatus is never answered', () => {
  it('[R11] an invalid ReceptionStatus gets reply === undefined', () => {
    for (const bad of [
      { ...receptionStatus, status: 'FINE' },
      { ...receptionStatus, diagnostic_label: null },
      { ...receptionStatus, message_id: ID },
      { message_type: 'ReceptionStatus', status: 'OK' },
      { ...receptionStatus, subject_message_id: 'a' },
    ]) {
      const e = failure(decode(text(bad)));
      expect(e.status, JSON.stringify(bad)).toBe('INVALID_MESSAGE');
      expect(e.messageType).toBe('ReceptionStatus');
      expect(e.reply).toBeUndefined();
      expect(e.diagnosticLabel.length).toBeLessThanOrEqual(240);
    }
  });

  it('[R2][R11] a ReceptionStatus needs no message_id: valid ones decode OK', () => {
    expect(decode(text(receptionStatus)).ok).toBe(true);
    expect(decode(text({ ...receptionStatus, status: 'INVALID_DATA', subject_message_id: NIL_UUID, diagnostic_label: 'x' })).ok).toBe(true);
  });

  it('[R11][R13] every other invalid message gets a reply whose subject is its message_id', () => {
    const e = failure(decode(withField(frbcInstruction, 'abnormal_condition', 'no')));
    expect(e.reply?.subject_message_id).toBe(ID);
    expect(e.reply?.status).toBe('INVALID_MESSAGE');
    // The reply itself is a valid ReceptionStatus.
    expect(decode(text(e.reply)).ok).toBe(true);
  });
});

describe('encode', () => {
  it('[R1] a valid message is returned as its JSON text', () => {
    for (const m of [frbcInstruction, rmDetails, receptionStatus, frbcSystemDescription]) {
      const out = encode(m as unknown as S2Message);
      expect(out).toBe(JSON.stringify(m));
      expect(decode(out).ok).toBe(true);
    }
  });

  it('[R5][R7] an invalid message throws S2Error INVALID_OUTGOING_MESSAGE with the problems', () => {
    const bad = { ...frbcInstruction, execution_time: '2026-01-01T00:00:00', extra: 1 } as unknown as S2Message;
    let thrown: unknown;
    try {
      encode(bad);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(S2Error);
    const err = thrown as S2Error;
    expect(err.code).toBe('INVALID_OUTGOING_MESSAGE');
    expect(err.problems.map((p) => p.path).sort()).toEqual(['$.execution_time', '$.extra']);
    expect(err.message).toContain('FRBC.Instruction');
  });

  it('[R2][R3] encode rejects a missing message_id, and a non-UUID id in uuid mode', () => {
    const { message_id: _, ...noId } = frbcInstruction;
    expect(() => encode(noId as unknown as S2Message)).toThrow(S2Error);
    const loose = { ...frbcInstruction, actuator_id: 'actuator1' } as unknown as S2Message;
    expect(encode(loose)).toBe(JSON.stringify(loose));
    expect(() => encode(loose, { ids: 'uuid' })).toThrow(expect.objectContaining({ code: 'INVALID_OUTGOING_MESSAGE' }) as unknown);
  });

  it('[R1] encode rejects a non-object with S2Error', () => {
    for (const v of [42, 'x', [], true]) expect(() => encode(v as unknown as S2Message)).toThrow(S2Error);
  });

  // Regression: the error text once read `message.message_type` before building the S2Error, so
  // null/undefined threw a TypeError instead.
  it('[R1] encode(null) and encode(undefined) throw S2Error INVALID_OUTGOING_MESSAGE', () => {
    for (const v of [null, undefined]) {
      expect(() => encode(v as unknown as S2Message)).toThrow(S2Error);
      expect(() => encode(v as unknown as S2Message)).toThrow(expect.objectContaining({ code: 'INVALID_OUTGOING_MESSAGE' }) as unknown);
    }
  });
});

describe('peer-controlled text is bounded', () => {
  it('[R5] a 10 kB unknown key and a 10 kB message_type are clipped in problems and in the failure', () => {
    const key = 'X'.repeat(10_000);
    const r1 = decode(JSON.stringify({ ...frbcInstruction, [key]: 1 }));
    expect(r1.ok).toBe(false);
    const e1 = (r1 as { error: DecodeFailure }).error;
    for (const p of e1.problems) {
      expect(p.path.length).toBeLessThanOrEqual(200);
      expect(p.message.length).toBeLessThanOrEqual(200);
    }
    const r2 = decode(JSON.stringify({ message_type: 'T'.repeat(10_000), message_id: ID }));
    const e2 = (r2 as { error: DecodeFailure }).error;
    expect(e2.status).toBe('INVALID_MESSAGE');
    expect(e2.messageType!.length).toBeLessThanOrEqual(80);
  });
});
