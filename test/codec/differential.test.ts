/**
 * Differential conformance: s2-engine's schema-only verdict against Ajv2020 on the official
 * s2-ws-json schema files, over seeded random valid instances of every message and single
 * mutations of them, for each S2 JSON version: 0.0.2-beta (35 messages) against its official set,
 * 1.0.0-beta (36) against its own, each decoded with the codec of that version. Reproduce a run with `S2_DIFF_SEED=<seed> npx vitest run test/codec/differential.test.ts`.
 *
 * Known, deliberate difference (a): the official object schemas lack `"type": "object"`, so Ajv
 * accepts a bare primitive/array/null wherever an object is expected. The exact comparison is
 * therefore against an in-memory copy patched with `"type": "object"`; every case where s2-engine
 * differs from the UNpatched files must be explained by the patch alone (only `type: object` errors).
 * (b): a frame without a readable message_id is INVALID_DATA instead of INVALID_MESSAGE; the
 * verdict (ok / not ok) is still compared, and the status mapping is checked separately.
 *
 * Needs the official schemas (S2_SPEC_DIR for 0.0.2-beta, S2_SPEC_V1_DIR for 1.0.0-beta, see
 * test/support/outside-material.ts): each version's suite is skipped without its set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decode, NIL_UUID, type DecodeResult } from '../../src/codec/index.js';
import { S2_VERSIONS, type S2Version } from '../../src/typebox/versions.js';
import {
  jsonPath,
  keyPrefix,
  OFFICIAL_COUNTS,
  OFFICIAL_SPECS,
  officialSchemas,
  officialValidators,
  type Json,
  type JsonObject,
  type OfficialFile,
  type OfficialValidators,
} from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';
import { Rng } from '../support/rng.js';
import {
  generateMessage,
  idSites,
  looseNonUuid,
  MUTATIONS,
  mutate,
  VALID_VARIANTS,
  type Mutated,
  type Path,
} from '../support/schema-gen.js';

const SEED = process.env.S2_DIFF_SEED ? Number(process.env.S2_DIFF_SEED) : 0x5eed2026;
const SEED_TEXT = `0x${SEED.toString(16)}`;
/** Base instances per message type; each yields the valid variants and one case per mutation kind. */
const BASES_PER_TYPE = 40;
const UUID_BASES_PER_TYPE = 8;
/**
 * 1.0.0-beta: the full count for DDBC, where the versions differ; fewer elsewhere, where the schemas
 * equal 0.0.2-beta's (the coverage test proves it structurally), to keep this file's time in bounds.
 */
const basesPerType = (version: S2Version, type: string): number =>
  version === '0.0.2-beta' || type.startsWith('DDBC.') ? BASES_PER_TYPE : BASES_PER_TYPE / 4;

/** One version's official material, read when its suite is collected (describeWith runs it only when it is there). */
interface VersionSet {
  readonly version: S2Version;
  readonly official: OfficialValidators;
  readonly patched: OfficialValidators;
  readonly patchedAll: OfficialValidators;
  /** The official ID pattern (unanchored), read from the official file, for the status oracle. */
  readonly idRegex: RegExp;
}

const tally = new Map<string, { cases: number; failed: number; officialOnly: number }>();
let totalCases = 0;
let uuidCases = 0;
const started = performance.now();

function count(kind: string, failedNow: boolean, officialOnly: boolean): void {
  const t = tally.get(kind) ?? { cases: 0, failed: 0, officialOnly: 0 };
  t.cases++;
  if (failedNow) t.failed++;
  if (officialOnly) t.officialOnly++;
  tally.set(kind, t);
  totalCases++;
}

function show(r: DecodeResult): string {
  return r.ok ? 'ok' : `${r.error.status} ${JSON.stringify(r.error.problems.slice(0, 3))}`;
}

function describeCase(type: string, m: Mutated, text: string): string {
  return `${type} / ${m.kind} at ${jsonPath(m.path)}: ${m.detail}\n    JSON: ${text.length > 1500 ? `${text.slice(0, 1500)}… (${text.length} chars)` : text}`;
}

/** True when `path` is `base` or lies below it. */
function within(path: string, base: string): boolean {
  return path === base || (path.startsWith(base) && (path[base.length] === '.' || path[base.length] === '['));
}

/** What the decision table (docs/design.md) says the failure status and subject must be. */
function expectedStatus(
  parsed: Json,
  ID_REGEX: RegExp,
): { status: 'INVALID_DATA' | 'INVALID_MESSAGE'; subject: string; isRs: boolean; why: string } {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { status: 'INVALID_DATA', subject: NIL_UUID, isRs: false, why: 'top level not an object' };
  }
  const isRs = parsed.message_type === 'ReceptionStatus';
  if (isRs) return { status: 'INVALID_MESSAGE', subject: NIL_UUID, isRs, why: 'ReceptionStatus has no message_id' };
  const id = parsed.message_id;
  if (typeof id !== 'string' || !ID_REGEX.test(id))
    return { status: 'INVALID_DATA', subject: NIL_UUID, isRs, why: 'no readable message_id' };
  return { status: 'INVALID_MESSAGE', subject: id, isRs, why: 'has a message_id' };
}

/** Checks one case; returns the reasons it failed (empty = passed). */
function check(set: VersionSet, file: OfficialFile, m: Mutated): string[] {
  const { official, patched, patchedAll } = set;
  const type = file.stem;
  const text = JSON.stringify(m.value);
  const parsed = JSON.parse(text) as Json;
  const ours = decode(text, { rules: false, version: set.version });
  const off = official.validate(type, parsed).ok;
  const pat = patched.validate(type, parsed).ok;
  const failures: string[] = [];
  const isValidVariant = (VALID_VARIANTS as readonly string[]).includes(m.kind);

  if (ours.ok !== pat)
    failures.push(`verdict differs from Ajv2020 on the patched official schemas: ours=${show(ours)} ajv=${pat ? 'valid' : 'invalid'}`);
  let officialOnly = false;
  if (ours.ok !== off) {
    officialOnly = true;
    const errs = patchedAll.validate(type, parsed).errors;
    const explained =
      off && !pat && errs.length > 0 && errs.every((e) => e.keyword === 'type' && (e.params as { type?: unknown }).type === 'object');
    if (!explained)
      failures.push(
        `differs from the UNpatched official verdict (${off ? 'valid' : 'invalid'}) for a reason other than the missing "type": "object": patched errors ${JSON.stringify(errs.slice(0, 3))}`,
      );
  }
  if (isValidVariant) {
    if (!off)
      failures.push(
        `generator produced an instance the official schema rejects: ${JSON.stringify(official.validate(type, parsed).errors.slice(0, 3))}`,
      );
    if (ours.ok) {
      try {
        expect(ours.message).toStrictEqual(parsed);
      } catch {
        failures.push('decoded message is not the parsed input (coercion/defaults?)');
      }
    }
  } else if (pat) {
    failures.push('mutation did not make the instance invalid (generator problem)');
  }

  if (!ours.ok) {
    const exp = expectedStatus(parsed, set.idRegex);
    const e = ours.error;
    if (e.status !== exp.status) failures.push(`status ${e.status}, expected ${exp.status} (${exp.why})`);
    if (e.subjectMessageId !== exp.subject) failures.push(`subjectMessageId ${e.subjectMessageId}, expected ${exp.subject} (${exp.why})`);
    const mt = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed.message_type : undefined;
    if (e.messageType !== (typeof mt === 'string' ? mt : undefined))
      failures.push(`messageType ${String(e.messageType)}, expected ${JSON.stringify(mt) ?? 'none'}`);
    if (exp.isRs) {
      if (e.reply !== undefined) failures.push('[R11] a ReceptionStatus got a reply');
    } else {
      const want = {
        message_type: 'ReceptionStatus',
        subject_message_id: exp.subject,
        status: exp.status,
        diagnostic_label: e.diagnosticLabel,
      };
      try {
        expect(e.reply).toStrictEqual(want);
      } catch {
        failures.push(`[R13] reply ${JSON.stringify(e.reply)} is not ${JSON.stringify(want)}`);
      }
      const rs = official.validate('ReceptionStatus', e.reply);
      if (!rs.ok) failures.push(`reply is not a valid official ReceptionStatus: ${JSON.stringify(rs.errors)}`);
    }
    if (e.diagnosticLabel.length > 240) failures.push(`diagnosticLabel has ${e.diagnosticLabel.length} > 240 chars`);
    if (e.problems.length === 0) failures.push('no problems reported');
    if (!isValidVariant) {
      const where = exp.why === 'top level not an object' ? '$' : exp.status === 'INVALID_DATA' ? '$.message_id' : jsonPath(m.path);
      const stray = e.problems.filter((p) => !within(p.path, where));
      if (stray.length) failures.push(`problems outside the mutated location ${where}: ${JSON.stringify(stray)}`);
    }
  }
  count(`${set.version} ${m.kind}`, failures.length > 0, officialOnly);
  return failures.map((f) => `${describeCase(`${set.version} ${type}`, m, text)}\n    → ${f}`);
}

afterAll(() => {
  const rows = [...tally].map(
    ([k, t]) =>
      `  ${k.padEnd(33)} ${String(t.cases).padStart(6)} cases, ${t.officialOnly} differ only from the unpatched schemas${t.failed ? `, ${t.failed} FAILED` : ''}`,
  );
  if (totalCases > 0)
    console.log(
      `differential (seed ${SEED_TEXT}): ${totalCases} cases + ${uuidCases} uuid-mode cases in ${((performance.now() - started) / 1000).toFixed(1)} s\n${rows.join('\n')}`,
    );
});

for (const version of S2_VERSIONS) {
  describeWith(
    OFFICIAL_SPECS[version],
    `differential conformance vs Ajv2020 on the official ${version} schemas (seed ${SEED_TEXT})`,
    () => {
      const { messages } = officialSchemas(version);
      const idPattern = officialSchemas(version).byKey.get(`${keyPrefix(version)}schemas/ID.schema.json`)?.schema.pattern;
      if (typeof idPattern !== 'string') throw new Error(`the official ${version} ID schema has no pattern`);
      const set: VersionSet = {
        version,
        official: officialValidators({ patched: false, version }),
        patched: officialValidators({ patched: true, version }),
        patchedAll: officialValidators({ patched: true, allErrors: true, version }),
        idRegex: new RegExp(idPattern, 'u'),
      };
      const expected = OFFICIAL_COUNTS[version].messages;

      it(`[R1] covers every one of the ${expected} official ${version} message files`, () => {
        expect(messages).toHaveLength(expected);
      });

      for (const file of messages) {
        it(`[R1][R2][R3][R5][R6][R7][R8][R11][R13][R20][R53] ${file.stem}: ${basesPerType(version, file.stem)} valid instances × (valid variants + ${MUTATIONS.length} mutations) agree (seed ${SEED_TEXT})`, () => {
          // The 0.0.2-beta streams are what they were before 1.0.0-beta was added: same seeds.
          const rng = Rng.derive(SEED, version === '0.0.2-beta' ? file.stem : `${version}:${file.stem}`);
          const failures: string[] = [];
          for (let i = 0; i < basesPerType(version, file.stem); i++) {
            const base = generateMessage(rng, file);
            for (const kind of [...VALID_VARIANTS, ...MUTATIONS]) {
              const m = mutate(rng, file, base, kind);
              if (m) failures.push(...check(set, file, m));
            }
          }
          expect(failures, `${failures.length} failing cases (seed ${SEED_TEXT}), first ones:\n${failures.slice(0, 8).join('\n')}`).toEqual(
            [],
          );
        });
      }

      describe(`ids: 'uuid' mode (seed ${SEED_TEXT})`, () => {
        for (const file of messages) {
          it(`[R3] ${file.stem}: all-UUID instances decode OK; one non-UUID ID (still matching the loose pattern) fails at its path`, () => {
            const rng = Rng.derive(SEED ^ 0x55555555, version === '0.0.2-beta' ? file.stem : `${version}:${file.stem}`);
            const failures: string[] = [];
            for (let i = 0; i < UUID_BASES_PER_TYPE; i++) {
              const base = generateMessage(rng, file, { ids: 'uuid', maxArray: 3, optional: 0.5 });
              const text = JSON.stringify(base);
              uuidCases++;
              const ok = decode(text, { ids: 'uuid', rules: false, version });
              if (!ok.ok) failures.push(`${file.stem} all-UUID instance rejected: ${show(ok)}\n    JSON: ${text}`);
              const ids = idSites(base, file);
              // Every ID field of small instances, a sample of the others.
              const chosen = ids.length <= 6 ? ids : Array.from({ length: 6 }, () => rng.pick(ids));
              for (const site of chosen) {
                uuidCases++;
                const bad = looseNonUuid(rng);
                const mutated = replaceAt(base, site.path, bad);
                const mtext = JSON.stringify(mutated);
                const path = jsonPath(site.path);
                const where = `${file.stem}: ${path} = ${JSON.stringify(bad)}\n    JSON: ${mtext.slice(0, 1500)}`;
                const loose = decode(mtext, { rules: false, version });
                if (!loose.ok) failures.push(`schema mode rejected a loose ID ${where}: ${show(loose)}`);
                const r = decode(mtext, { ids: 'uuid', rules: false, version });
                if (r.ok) {
                  failures.push(`uuid mode accepted a non-UUID ${where}`);
                  continue;
                }
                if (!r.error.problems.some((p) => p.path === path)) failures.push(`no problem at ${path} ${where}: ${show(r)}`);
                const wantStatus = path === '$.message_id' ? 'INVALID_DATA' : 'INVALID_MESSAGE';
                if (r.error.status !== wantStatus) failures.push(`status ${r.error.status}, expected ${wantStatus} ${where}`);
              }
            }
            expect(failures, failures.slice(0, 8).join('\n')).toEqual([]);
          });
        }
      });
    },
  );
}

function replaceAt(root: JsonObject, path: Path, value: Json): Json {
  const copy = JSON.parse(JSON.stringify(root)) as JsonObject;
  let cur: Json = copy;
  for (const seg of path.slice(0, -1)) cur = (cur as Record<string | number, Json>)[seg] as Json;
  (cur as Record<string | number, Json>)[path[path.length - 1] as string | number] = value;
  return copy;
}
