/**
 * The two S2 JSON message sets (issue 12): the registry per version, the codec per version, and what
 * each version does with the other's DDBC messages. 1.0.0-beta adds DDBC.PresentDemandStatus and drops
 * present_demand_rate from DDBC.SystemDescription; with additionalProperties false neither version
 * accepts the other's description, and the refusal is an ordinary INVALID_MESSAGE naming the field.
 *
 * The last suite is a cross-version differential: instances generated from each official set are
 * decoded by the codec of the OTHER version, whose verdict must equal the other official set's
 * (needs S2_SPEC_DIR and S2_SPEC_V1_DIR).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { sizeCeiling, sizeCeilings } from '../../src/codec/ceilings.js';
import { codecFor, decode, encode, type DecodeFailure, type DecodeResult } from '../../src/codec/index.js';
import { S2Error } from '../../src/typebox/errors.js';
import {
  MESSAGE_TYPES,
  MESSAGES,
  MESSAGES_V1,
  messageSpec,
  messageSpecIn,
  messagesOf,
  messageTypesOf,
  type MessageIn,
  type MessageOf,
  type S2Message,
  type S2MessageIn,
} from '../../src/typebox/registry.js';
import { S2_VERSIONS, type S2Version } from '../../src/typebox/versions.js';
import * as v0ddbc from '../../src/ddbc.js';
import * as v1ddbc from '../../src/v1/ddbc.js';
import { OFFICIAL_SPEC, OFFICIAL_SPEC_V1, officialSchemas, officialValidators, type Json } from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';
import { Rng } from '../support/rng.js';
import { generateMessage } from '../support/schema-gen.js';

const ID = 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6';
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const V0 = { version: '0.0.2-beta' } as const;
const V1 = { version: '1.0.0-beta' } as const;

function failure(r: DecodeResult): DecodeFailure {
  if (r.ok) throw new Error('expected a decode failure');
  return r.error;
}

/** A DDBC description with one actuator of one mode: 1.0.0-beta's shape. */
const descriptionV1 = {
  message_type: 'DDBC.SystemDescription',
  message_id: ID,
  valid_from: '2025-01-01T12:00:00Z',
  actuators: [
    {
      id: uuid(1),
      supported_commodites: ['HEAT'],
      operation_modes: [
        {
          Id: uuid(2),
          power_ranges: [{ start_of_range: 0, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
          supply_range: { start_of_range: 0, end_of_range: 6000 },
          abnormal_condition_only: false,
        },
      ],
      transitions: [],
      timers: [],
    },
  ],
  provides_average_demand_rate_forecast: false,
} as const satisfies v1ddbc.DDBCSystemDescription;
/** The same description as 0.0.2-beta has it. */
const descriptionV0 = {
  ...descriptionV1,
  present_demand_rate: { start_of_range: 3000, end_of_range: 3500 },
} as const satisfies v0ddbc.DDBCSystemDescription;
const presentDemand = {
  message_type: 'DDBC.PresentDemandStatus',
  message_id: uuid(9),
  present_demand_rate: { start_of_range: 3000, end_of_range: 3500 },
} as const satisfies v1ddbc.DDBCPresentDemandStatus;

describe('the registry per version', () => {
  it('[R1] 0.0.2-beta has 35 messages, 1.0.0-beta 36; MESSAGE_TYPES is their union in registry order', () => {
    expect(Object.keys(messagesOf('0.0.2-beta'))).toHaveLength(35);
    expect(Object.keys(messagesOf('1.0.0-beta'))).toHaveLength(36);
    expect(messagesOf('0.0.2-beta')).toBe(MESSAGES);
    expect(messagesOf('1.0.0-beta')).toBe(MESSAGES_V1);
    expect(messageTypesOf('0.0.2-beta')).toEqual(Object.keys(MESSAGES));
    expect(messageTypesOf('1.0.0-beta')).toEqual(Object.keys(MESSAGES_V1));
    expect(MESSAGE_TYPES).toEqual([...Object.keys(MESSAGES), 'DDBC.PresentDemandStatus']);
    expect(new Set(MESSAGE_TYPES).size).toBe(36);
  });

  it('[R1] the sets differ exactly in DDBC.PresentDemandStatus (new) and the DDBC.SystemDescription schema; every other entry is the same object', () => {
    const differing = MESSAGE_TYPES.filter((t) => (MESSAGES as Record<string, unknown>)[t] !== (MESSAGES_V1 as Record<string, unknown>)[t]);
    expect(differing.sort()).toEqual(['DDBC.PresentDemandStatus', 'DDBC.SystemDescription']);
    expect(MESSAGES_V1['DDBC.SystemDescription'].schema.properties).not.toHaveProperty('present_demand_rate');
    expect(MESSAGES['DDBC.SystemDescription'].schema.required).toContain('present_demand_rate');
    // Sender, area, answered, instruction and revocable are the same in both versions.
    const { schema: _a, ...v0rest } = MESSAGES['DDBC.SystemDescription'];
    const { schema: _b, ...v1rest } = MESSAGES_V1['DDBC.SystemDescription'];
    expect(v1rest).toEqual(v0rest);
  });

  it('[R1] messageSpec looks a type up in either version; messageSpecIn in one', () => {
    const pds = messageSpec('DDBC.PresentDemandStatus');
    expect(pds).toMatchObject({ sender: 'RM', area: 'DDBC', answered: true, instruction: false });
    expect(pds?.revocable).toBeUndefined();
    expect(messageSpecIn('1.0.0-beta', 'DDBC.PresentDemandStatus')).toBe(pds);
    expect(messageSpecIn('0.0.2-beta', 'DDBC.PresentDemandStatus')).toBeUndefined();
    expect(messageSpecIn('0.0.2-beta', 'DDBC.SystemDescription')).toBe(MESSAGES['DDBC.SystemDescription']);
    expect(messageSpecIn('1.0.0-beta', 'DDBC.SystemDescription')).toBe(MESSAGES_V1['DDBC.SystemDescription']);
    for (const v of S2_VERSIONS) {
      expect(messageSpecIn(v, 'toString')).toBeUndefined();
      expect(messageSpecIn(v, 'Handshake')).toBe(MESSAGES.Handshake);
    }
    expect(messageSpec('__proto__')).toBeUndefined();
  });

  it('types: MessageOf is the union of both shapes, MessageIn one version’s; the entry points name each version’s DDBC', () => {
    expectTypeOf<MessageIn<'1.0.0-beta', 'DDBC.SystemDescription'>>().toEqualTypeOf<v1ddbc.DDBCSystemDescription>();
    expectTypeOf<MessageIn<'0.0.2-beta', 'DDBC.SystemDescription'>>().toEqualTypeOf<v0ddbc.DDBCSystemDescription>();
    expectTypeOf<MessageOf<'DDBC.SystemDescription'>>().toEqualTypeOf<v0ddbc.DDBCSystemDescription | v1ddbc.DDBCSystemDescription>();
    expectTypeOf<MessageOf<'DDBC.PresentDemandStatus'>>().toEqualTypeOf<v1ddbc.DDBCPresentDemandStatus>();
    expectTypeOf<v1ddbc.DDBCPresentDemandStatus>().toExtend<S2Message>();
    expectTypeOf<v1ddbc.DDBCPresentDemandStatus>().toExtend<S2MessageIn<'1.0.0-beta'>>();
    expectTypeOf<v1ddbc.DDBCPresentDemandStatus>().not.toExtend<S2MessageIn<'0.0.2-beta'>>();
    expectTypeOf<v1ddbc.DDBCRmMessage>().toEqualTypeOf<
      | v1ddbc.DDBCSystemDescription
      | v1ddbc.DDBCPresentDemandStatus
      | v1ddbc.DDBCActuatorStatus
      | v1ddbc.DDBCAverageDemandRateForecast
      | v1ddbc.DDBCTimerStatus
    >();
    expectTypeOf<v0ddbc.DDBCRmMessage>().toEqualTypeOf<
      v0ddbc.DDBCSystemDescription | v0ddbc.DDBCActuatorStatus | v0ddbc.DDBCAverageDemandRateForecast | v0ddbc.DDBCTimerStatus
    >();
    // Narrowing the union, as the contract asks of code that reads the demand from a description.
    const d = descriptionV0 as MessageOf<'DDBC.SystemDescription'>;
    const demand = 'present_demand_rate' in d ? d.present_demand_rate.end_of_range : undefined;
    expect(demand).toBe(3500);
  });

  it('s2-engine/v1/ddbc exports 1.0.0-beta’s schemas under the names s2-engine/ddbc uses, plus DDBCPresentDemandStatus', () => {
    expect(v1ddbc.DDBCSystemDescription).toBe(MESSAGES_V1['DDBC.SystemDescription'].schema);
    expect(v0ddbc.DDBCSystemDescription).toBe(MESSAGES['DDBC.SystemDescription'].schema);
    expect(v1ddbc.DDBCPresentDemandStatus).toBe(MESSAGES_V1['DDBC.PresentDemandStatus'].schema);
    expect(v1ddbc.DDBC_MESSAGES).not.toBe(v0ddbc.DDBC_MESSAGES);
    expect(Object.keys(v1ddbc.DDBC_MESSAGES).sort()).toEqual(
      messageTypesOf('1.0.0-beta')
        .filter((t) => t.startsWith('DDBC.'))
        .sort(),
    );
    expect(v1ddbc.DDBCActuatorStatus).toBe(v0ddbc.DDBCActuatorStatus);
    expect('DDBCPresentDemandStatus' in v0ddbc).toBe(false);
    // Same export names but for the version's additions.
    const names0 = Object.keys(v0ddbc).sort();
    expect(
      Object.keys(v1ddbc)
        .filter((n) => n !== 'DDBCPresentDemandStatus')
        .sort(),
    ).toEqual(names0);
  });

  it('[R1] each version’s DDBC codec (createDDBCCodec) knows its own DDBC set and the common messages only', () => {
    const c1 = v1ddbc.createDDBCCodec();
    const c0 = v0ddbc.createDDBCCodec();
    expect(c1.version).toBe('1.0.0-beta');
    expect(c0.version).toBe('0.0.2-beta');
    expect(c1.decode(JSON.stringify(presentDemand)).ok).toBe(true);
    expect(c1.decode(JSON.stringify(descriptionV1)).ok).toBe(true);
    expect(c0.decode(JSON.stringify(descriptionV0)).ok).toBe(true);
    expect(failure(c0.decode(JSON.stringify(presentDemand))).status).toBe('INVALID_MESSAGE');
    expect(failure(c1.decode(JSON.stringify(descriptionV0))).status).toBe('INVALID_MESSAGE');
    expect(failure(c1.decode(JSON.stringify({ message_type: 'FRBC.TimerStatus', message_id: ID }))).problems[0]?.message).toBe(
      'unknown message_type',
    );
  });
});

describe('the codec per version', () => {
  it('codecFor: one shared codec per version and options; the default is 0.0.2-beta', () => {
    expect(codecFor().version).toBe('0.0.2-beta');
    expect(codecFor({ version: undefined })).toBe(codecFor());
    expect(codecFor(V0)).toBe(codecFor());
    expect(codecFor(V1).version).toBe('1.0.0-beta');
    expect(codecFor(V1)).toBe(codecFor({ version: '1.0.0-beta', ids: 'schema', rules: true }));
    expect(codecFor(V1)).not.toBe(codecFor());
    expect(codecFor({ ...V1, ids: 'uuid' })).not.toBe(codecFor(V1));
  });

  it('[R1] a 1.0.0-beta codec decodes DDBC.PresentDemandStatus and the description without present_demand_rate', () => {
    const pds = decode(JSON.stringify(presentDemand), V1);
    expect(pds.ok && pds.message).toStrictEqual(presentDemand);
    expect(pds.ok && pds.spec).toBe(MESSAGES_V1['DDBC.PresentDemandStatus']);
    const d = decode(JSON.stringify(descriptionV1), V1);
    expect(d.ok && d.message).toStrictEqual(descriptionV1);
  });

  it('[R1][R13][R15] 0.0.2-beta refuses DDBC.PresentDemandStatus as INVALID_MESSAGE with its id, saying which version has it', () => {
    for (const r of [decode(JSON.stringify(presentDemand)), decode(JSON.stringify(presentDemand), V0)]) {
      const e = failure(r);
      expect(e.status).toBe('INVALID_MESSAGE');
      expect(e.subjectMessageId).toBe(presentDemand.message_id);
      expect(e.messageType).toBe('DDBC.PresentDemandStatus');
      expect(e.problems).toEqual([
        {
          path: '$.message_type',
          message: 'unknown message_type in S2 JSON 0.0.2-beta (a message of 1.0.0-beta)',
          value: '"DDBC.PresentDemandStatus"',
        },
      ]);
      expect(e.reply).toEqual({
        message_type: 'ReceptionStatus',
        subject_message_id: presentDemand.message_id,
        status: 'INVALID_MESSAGE',
        diagnostic_label: e.diagnosticLabel,
      });
    }
  });

  it('[R1][R5][R6][R13] a 0.0.2-beta description is INVALID_MESSAGE in 1.0.0-beta (unknown field), a 1.0.0-beta one in 0.0.2-beta (field missing)', () => {
    const inV1 = failure(decode(JSON.stringify(descriptionV0), V1));
    expect(inV1.status).toBe('INVALID_MESSAGE');
    expect(inV1.subjectMessageId).toBe(ID);
    expect(inV1.problems).toEqual([
      expect.objectContaining({
        path: '$.present_demand_rate',
        message: "unknown field 'present_demand_rate' (not allowed by the schema)",
      }),
    ]);
    const inV0 = failure(decode(JSON.stringify(descriptionV1), V0));
    expect(inV0.status).toBe('INVALID_MESSAGE');
    expect(inV0.problems).toEqual([{ path: '$.present_demand_rate', message: 'required field is missing' }]);
  });

  it('[R1][R5] DDBC.PresentDemandStatus: every field required, no other field, present_demand_rate a NumberRange', () => {
    const { present_demand_rate: _drop, ...noRate } = presentDemand;
    expect(failure(decode(JSON.stringify(noRate), V1)).problems).toEqual([
      { path: '$.present_demand_rate', message: 'required field is missing' },
    ]);
    const extra = failure(decode(JSON.stringify({ ...presentDemand, valid_from: '2025-01-01T12:00:00Z' }), V1));
    expect(extra.problems[0]?.path).toBe('$.valid_from');
    const bad = failure(decode(JSON.stringify({ ...presentDemand, present_demand_rate: { start_of_range: 1 } }), V1));
    expect(bad.problems[0]?.path).toBe('$.present_demand_rate.end_of_range');
    const { message_id: _id, ...noId } = presentDemand;
    expect(failure(decode(JSON.stringify(noId), V1)).status).toBe('INVALID_DATA');
  });

  it('[R1] the messages both versions share decode the same in both (Handshake, HandshakeResponse, a DDBC status)', () => {
    const frames = [
      { message_type: 'Handshake', message_id: uuid(1), role: 'RM', supported_protocol_versions: ['1.0.0-beta', '0.0.2-beta'] },
      { message_type: 'HandshakeResponse', message_id: uuid(2), selected_protocol_version: '1.0.0-beta' },
      {
        message_type: 'DDBC.TimerStatus',
        message_id: uuid(3),
        timer_id: uuid(4),
        actuator_id: uuid(5),
        finished_at: '2025-01-01T12:00:00Z',
      },
    ];
    for (const f of frames)
      for (const version of S2_VERSIONS) expect(decode(JSON.stringify(f), { version }).ok, `${f.message_type} ${version}`).toBe(true);
  });

  it('encode checks against the version: the other version’s shape throws S2Error INVALID_OUTGOING_MESSAGE', () => {
    expect(JSON.parse(encode(presentDemand, V1))).toEqual(presentDemand);
    expect(JSON.parse(encode(descriptionV1, V1))).toEqual(descriptionV1);
    expect(JSON.parse(encode(descriptionV0))).toEqual(descriptionV0);
    for (const [message, options] of [
      [presentDemand, V0],
      [descriptionV1, V0],
      [descriptionV0, V1],
    ] as const) {
      let thrown: unknown;
      try {
        encode(message, options);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `${message.message_type} in ${options.version}`).toBeInstanceOf(S2Error);
      expect((thrown as S2Error).code).toBe('INVALID_OUTGOING_MESSAGE');
      expect((thrown as S2Error).message).toMatch(
        /present_demand_rate|unknown message_type in S2 JSON 0\.0\.2-beta \(a message of 1\.0\.0-beta\)/,
      );
    }
  });

  it('size ceilings per version: each set’s own schemas; DDBC.PresentDemandStatus has a small one, enforced by a 1.0.0-beta codec with ceilings', () => {
    const c0 = sizeCeilings(messagesOf('0.0.2-beta'));
    const c1 = sizeCeilings(messagesOf('1.0.0-beta'));
    const ceiling = sizeCeiling(MESSAGES_V1['DDBC.PresentDemandStatus']);
    expect(ceiling).toBeDefined();
    expect(c1['DDBC.PresentDemandStatus']).toBe(ceiling);
    expect(c0).not.toHaveProperty('DDBC.PresentDemandStatus');
    for (const t of Object.keys(c0)) if (t !== 'DDBC.SystemDescription') expect(c1[t], t).toBe(c0[t]);
    const head = `{"message_type":"DDBC.PresentDemandStatus","message_id":"${ID}","present_demand_rate":{"start_of_range":1,"end_of_range":2},"pad":"`;
    const big = `${head}${'y'.repeat(ceiling! + 10 - head.length)}"}`;
    const e = failure(decode(big, { ...V1, ceilings: true }));
    expect(e.status).toBe('INVALID_MESSAGE');
    expect(e.subjectMessageId).toBe(ID);
    expect(e.problems[0]?.message).toContain('size ceiling');
  });
});

/** Messages both versions have whose schemas equal; the cross check needs only the ones that differ, and a sample of the rest. */
const CROSS_BASES = 12;

describeWith(OFFICIAL_SPEC, 'cross-version differential: each codec against the other version’s official instances (both sets)', () => {
  describeWith(OFFICIAL_SPEC_V1, 'needs 1.0.0-beta too', () => {
    const pairs: [from: S2Version, to: S2Version][] = [
      ['0.0.2-beta', '1.0.0-beta'],
      ['1.0.0-beta', '0.0.2-beta'],
    ];
    for (const [from, to] of pairs) {
      it(`[R1][R5] instances valid under ${from}: the ${to} codec’s verdict equals the official ${to} schemas’ (patched), for every message type`, () => {
        const target = officialValidators({ patched: true, version: to });
        const targetTypes = new Set(officialSchemas(to).messages.map((f) => f.stem));
        const failures: string[] = [];
        const verdicts = { accepted: 0, refused: 0 };
        for (const file of officialSchemas(from).messages) {
          const rng = Rng.derive(0xc0ffee, `${from}:${file.stem}`);
          for (let i = 0; i < (file.stem.startsWith('DDBC.') ? CROSS_BASES : 2); i++) {
            const m = generateMessage(rng, file);
            const text = JSON.stringify(m);
            const ours = decode(text, { version: to, rules: false });
            const official = targetTypes.has(file.stem) ? target.validate(file.stem, JSON.parse(text) as Json).ok : false;
            if (ours.ok !== official)
              failures.push(
                `${file.stem}: ${to} codec ${ours.ok ? 'accepts' : 'refuses'}, official ${official ? 'accepts' : 'refuses'}: ${text.slice(0, 300)}`,
              );
            verdicts[ours.ok ? 'accepted' : 'refused']++;
            if (!ours.ok && ours.error.status !== 'INVALID_MESSAGE') failures.push(`${file.stem}: status ${ours.error.status}`);
          }
        }
        expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
        // Every DDBC.SystemDescription (and, from 1.0.0-beta, every PresentDemandStatus) is refused; the rest pass.
        expect(verdicts.refused).toBe(from === '1.0.0-beta' ? 2 * CROSS_BASES : CROSS_BASES);
      });
    }
  });
});
