/**
 * The fixtures (`test/fixtures/*.json`, realistic schema-valid messages with UUID ids) decode
 * with every check on, in both ID modes, survive encode → decode unchanged, and — when the
 * official schemas are at hand (S2_SPEC_DIR) — agree with them. The 1.0.0-beta fixtures
 * (test/fixtures/1.0.0-beta/, as fixtures-gen.ts makes them) likewise with the codec and the official
 * schemas (S2_SPEC_V1_DIR) of that version, and every 0.0.2-beta fixture but the DDBC ones is valid
 * 1.0.0-beta too.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/codec/index.js';
import { fixtureFiles } from '../support/fixtures.js';
import { fixtureVersion, generateFixtures } from '../support/fixtures-gen.js';
import { OFFICIAL_SPEC, OFFICIAL_SPEC_V1, officialValidators, type Json } from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';

const all = fixtureFiles();

describe('fixtures', () => {
  it('there are fixtures to test', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  for (const { name, text } of all) {
    describe(name, () => {
      const parsed = JSON.parse(text) as { message_type: string } & Record<string, Json>;

      it('[R1][R3][R5][R7][R8] decodes OK with rules on (schema ids)', () => {
        const r = decode(text);
        expect(r.ok, r.ok ? '' : JSON.stringify(r.error)).toBe(true);
        if (r.ok) {
          expect(r.message).toStrictEqual(parsed);
          expect(r.spec.schema.title).toBeTypeOf('string');
        }
      });

      it("[R3] decodes OK with ids: 'uuid' (rules on)", () => {
        const r = decode(text, { ids: 'uuid' });
        expect(r.ok, r.ok ? '' : JSON.stringify(r.error)).toBe(true);
      });

      it('encode(decoded) round-trips, in both ID modes', () => {
        const r = decode(text);
        if (!r.ok) throw new Error(JSON.stringify(r.error));
        const out = encode(r.message);
        expect(JSON.parse(out)).toStrictEqual(parsed);
        const again = decode(out);
        expect(again.ok && again.message).toStrictEqual(parsed);
        expect(encode(r.message, { ids: 'uuid' })).toBe(out);
      });
    });
  }
});

describeWith(OFFICIAL_SPEC, 'fixtures against the official schemas', () => {
  const official = officialValidators({ patched: false });

  for (const { name, text } of all) {
    it(`[R1] ${name}: the file name starts with its message_type, and the official schema accepts it`, () => {
      const parsed = JSON.parse(text) as { message_type: string } & Record<string, Json>;
      expect(name.startsWith(`${parsed.message_type}.`)).toBe(true);
      expect(official.validate(parsed.message_type, parsed).errors).toEqual([]);
    });
  }
});

const v1Fixtures = [...generateFixtures()].filter(([name]) => fixtureVersion(name) === '1.0.0-beta');

describe('1.0.0-beta fixtures', () => {
  it('there are 1.0.0-beta fixtures to test', () => {
    expect(v1Fixtures.length).toBeGreaterThanOrEqual(2);
  });

  for (const [name, text] of v1Fixtures) {
    it(`[R1][R3][R5] ${name}: decodes OK with the 1.0.0-beta codec (rules on, both ID modes) and round-trips through encode`, () => {
      const parsed = JSON.parse(text) as Record<string, Json>;
      for (const ids of ['schema', 'uuid'] as const) {
        const r = decode(text, { version: '1.0.0-beta', ids });
        expect(r.ok, r.ok ? '' : JSON.stringify(r.error)).toBe(true);
        if (r.ok) expect(JSON.parse(encode(r.message, { version: '1.0.0-beta', ids }))).toStrictEqual(parsed);
      }
    });
  }

  it('[R1] every 0.0.2-beta fixture decodes with the 1.0.0-beta codec too (none of them is DDBC)', () => {
    for (const { name, text } of all) expect(decode(text, { version: '1.0.0-beta' }).ok, name).toBe(true);
  });
});

describeWith(OFFICIAL_SPEC_V1, 'fixtures against the official 1.0.0-beta schemas', () => {
  const official = officialValidators({ patched: false, version: '1.0.0-beta' });

  for (const [name, text] of [...v1Fixtures, ...all.map(({ name, text }): [string, string] => [name, text])]) {
    it(`[R1] ${name}: the official 1.0.0-beta schema accepts it`, () => {
      const parsed = JSON.parse(text) as { message_type: string } & Record<string, Json>;
      expect(official.validate(parsed.message_type, parsed).errors).toEqual([]);
    });
  }
});
