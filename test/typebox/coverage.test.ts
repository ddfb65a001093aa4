/**
 * For each S2 JSON version: every official schema (0.0.2-beta: 35 messages, 41 types; 1.0.0-beta:
 * 36, 41) has a TypeBox counterpart with the same title, the version's registry holds exactly its
 * official message types, and each TypeBox schema equals the official one structurally once
 * annotations are dropped and `$ref`s are inlined. Where a title names different schemas in the two
 * versions (DDBC_SystemDescription), each version is compared with its own: 0.0.2-beta with the
 * public API of `s2-engine` and `s2-engine/ddbc`, 1.0.0-beta with `MESSAGES_V1` and `s2-engine/v1/ddbc`.
 *
 * Accepted, documented differences (docs/design.md): our object schemas carry
 * `"type": "object"` (the official ones do not, which lets a bare primitive validate); enums are a
 * plain `enum` with `type: string`. `required` is compared as a set.
 *
 * Needs the official schemas (S2_SPEC_DIR, S2_SPEC_V1_DIR, see test/support/outside-material.ts):
 * each version's suite is skipped without its set.
 */
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as v1ddbc from '../../src/v1/ddbc.js';
import { messagesOf, messageTypesOf } from '../../src/typebox/registry.js';
import { S2_VERSIONS, type S2Version } from '../../src/typebox/versions.js';
import {
  officialFile,
  officialSchemas,
  OFFICIAL_COUNTS,
  OFFICIAL_SPECS,
  resolveRefKey,
  type Json,
  type JsonObject,
  type OfficialFile,
} from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';

const ANNOTATIONS = new Set(['description', '$id', '$schema', 'title']);

/** The official schema with `$ref`s inlined, annotations dropped, `type: object` added to objects. */
function normalizeOfficial(node: Json, fileKey: string): Json {
  if (Array.isArray(node)) return node.map((n) => normalizeOfficial(n, fileKey));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const key = resolveRefKey(fileKey, node.$ref);
    const target = officialFile(key);
    if (!target) throw new Error(`${fileKey}: $ref ${node.$ref} resolves to no official file`);
    const { $ref: _ref, ...siblings } = node;
    return normalizeOfficial({ ...target.schema, ...stripAnnotations(siblings) }, key);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k)) continue;
    if (k === 'properties') {
      const props: JsonObject = {};
      for (const [name, sub] of Object.entries(v as JsonObject)) props[name] = normalizeOfficial(sub, fileKey);
      out[k] = props;
    } else if (k === 'required') {
      out[k] = [...(v as string[])].sort();
    } else {
      out[k] = normalizeOfficial(v, fileKey);
    }
  }
  // Documented difference: our object schemas say "type": "object".
  if ('properties' in out && !('type' in out)) out.type = 'object';
  return out;
}

function stripAnnotations(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !ANNOTATIONS.has(k)));
}

/** Our schema as JSON (TypeBox's symbol keys vanish), annotations dropped, `required` as a set. */
function normalizeOurs(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalizeOurs);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k)) continue;
    if (k === 'properties') {
      const props: JsonObject = {};
      for (const [name, sub] of Object.entries(v as JsonObject)) props[name] = normalizeOurs(sub);
      out[k] = props;
    } else out[k] = k === 'required' ? [...(v as string[])].sort() : normalizeOurs(v);
  }
  return out;
}

/** Human-readable structural differences, one line each. */
function diff(official: Json, ours: Json, path = '#'): string[] {
  if (JSON.stringify(official) === JSON.stringify(ours)) return [];
  const isObj = (v: Json): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(official) && isObj(ours)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(official), ...Object.keys(ours)])) {
      if (!(k in ours)) out.push(`${path}/${k}: missing in ours (official ${JSON.stringify(official[k])?.slice(0, 160)})`);
      else if (!(k in official)) out.push(`${path}/${k}: only in ours (${JSON.stringify(ours[k])?.slice(0, 160)})`);
      else out.push(...diff(official[k] as Json, ours[k] as Json, `${path}/${k}`));
    }
    return out;
  }
  if (Array.isArray(official) && Array.isArray(ours) && official.length === ours.length) {
    return official.flatMap((v, i) => diff(v, ours[i] as Json, `${path}/${i}`));
  }
  return [`${path}: official ${JSON.stringify(official)?.slice(0, 200)} ≠ ours ${JSON.stringify(ours)?.slice(0, 200)}`];
}

/**
 * Every titled schema reachable from a version's public API (exports and their nested subschemas)
 * and from its registry.
 */
function ourTitledSchemas(version: S2Version): Map<string, { where: string; schema: JsonObject }[]> {
  const found = new Map<string, { where: string; schema: JsonObject }[]>();
  const seen = new Set<object>();
  const walk = (value: unknown, where: string): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const v = value as Record<string, unknown>;
    if (typeof v.title === 'string' && (typeof v.type === 'string' || Array.isArray(v.enum))) {
      const list = found.get(v.title) ?? [];
      list.push({ where, schema: JSON.parse(JSON.stringify(v)) as JsonObject });
      found.set(v.title, list);
    }
    if (v.properties && typeof v.properties === 'object')
      for (const [k, sub] of Object.entries(v.properties)) walk(sub, `${where}.properties.${k}`);
    if (v.items) walk(v.items, `${where}.items`);
  };
  for (const [type, spec] of Object.entries(messagesOf(version))) walk(spec.schema, `messagesOf('${version}')['${type}'].schema`);
  // The root entry's DDBC names are 0.0.2-beta's; s2-engine/v1/ddbc has 1.0.0-beta's under the same names.
  const exported: Record<string, unknown> =
    version === '0.0.2-beta' ? api : { ...Object.fromEntries(Object.entries(api).filter(([name]) => !name.startsWith('DDBC'))), ...v1ddbc };
  for (const [name, value] of Object.entries(exported)) walk(value, name);
  return found;
}

/** An official file's title; the first test checks that every file has one. */
const titleOf = (f: OfficialFile): string => (typeof f.schema.title === 'string' ? f.schema.title : `(no title: ${f.key})`);

for (const version of S2_VERSIONS) {
  describeWith(OFFICIAL_SPECS[version], `TypeBox coverage of the official s2-ws-json ${version} schemas`, () => {
    const { messages, types } = officialSchemas(version);
    const counts = OFFICIAL_COUNTS[version];
    const ours = ourTitledSchemas(version);
    const registry = messagesOf(version) as Record<string, { schema: { title?: unknown } }>;

    it(`the official folder holds ${counts.messages} message and ${counts.types} type schemas, each with a title`, () => {
      expect(messages).toHaveLength(counts.messages);
      expect(types).toHaveLength(counts.types);
      for (const f of [...messages, ...types]) expect(typeof f.schema.title, f.key).toBe('string');
    });

    it('[R1] every official schema has a TypeBox counterpart with the same title', () => {
      const missing = [...messages, ...types].filter((f) => !ours.has(titleOf(f))).map((f) => `${f.key} (title ${titleOf(f)})`);
      expect(missing, `official schemas without a TypeBox counterpart:\n${missing.join('\n')}`).toEqual([]);
    });

    it(`[R1] the ${counts.messages} message_type constants are exactly the keys of messagesOf('${version}') and messageTypesOf('${version}') (and equal the file stems)`, () => {
      const constants = messages.map((f) => {
        const mt = (f.schema.properties as JsonObject | undefined)?.message_type as JsonObject | undefined;
        expect(mt?.const, `${f.key} has a message_type const`).toBeTypeOf('string');
        expect(mt?.const, `${f.key}: file stem equals message_type`).toBe(f.stem);
        return mt?.const as string; // checked just above
      });
      expect(new Set(constants).size).toBe(counts.messages);
      expect([...Object.keys(registry)].sort()).toEqual([...constants].sort());
      expect([...messageTypesOf(version)].sort()).toEqual([...constants].sort());
    });

    it(`[R1] each messagesOf('${version}') entry carries the TypeBox schema titled like its official file`, () => {
      for (const f of messages) {
        const entry = registry[f.stem];
        expect(entry?.schema.title, f.stem).toBe(f.schema.title);
      }
    });

    const check = (f: OfficialFile) => () => {
      const want = normalizeOfficial(f.schema, f.key);
      const candidates = ours.get(titleOf(f)) ?? [];
      expect(candidates.length, `no TypeBox schema titled ${titleOf(f)}`).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const c of candidates) {
        const lines = diff(want, normalizeOurs(c.schema));
        if (lines.length) problems.push(`${c.where} differs from ${f.key}:\n  ${lines.join('\n  ')}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    };

    describe('[R5][R6][R7][R8][R53] messages equal the official schema structurally', () => {
      for (const f of messages) it(`${f.stem} (${titleOf(f)})`, check(f));
    });
    describe('[R3][R5][R8][R53] types equal the official schema structurally', () => {
      for (const f of types) it(`${f.stem} (${titleOf(f)})`, check(f));
    });

    it('the structural comparison detects a difference (self-test of the diff)', () => {
      const f = messages.find((m) => m.stem === 'FRBC.Instruction') as OfficialFile;
      const want = normalizeOfficial(f.schema, f.key) as JsonObject;
      const tampered = JSON.parse(JSON.stringify(want)) as JsonObject;
      ((tampered.properties as JsonObject).execution_time as JsonObject).format = 'date';
      (tampered.required as string[]).pop();
      expect(diff(want, tampered)).toHaveLength(2);
    });
  });
}
