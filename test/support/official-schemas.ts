/**
 * Test-only access to the official s2-ws-json material (never copied into the repository), one
 * set per S2 JSON version (see outside-material.ts; unset ⇒ the suites that need it are skipped,
 * or fail with CI set):
 * - 0.0.2-beta: a checkout of flexiblepower/s2-ws-json named by `S2_SPEC_DIR` (76 JSON Schema
 *   files under s2-json-schema/, and the AsyncAPI role files);
 * - 1.0.0-beta: a checkout of the v1.0.0-beta tag named by `S2_SPEC_V1_DIR` (77 files under
 *   messages/ and schemas/ at its root).
 * From each: the schema files, an in-memory copy patched with `"type": "object"`, Ajv2020
 * validators over them. The functions take the version, default 0.0.2-beta.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { S2Version } from '../../src/typebox/versions.js';
import { materialPath, requireMaterial, type Material } from './outside-material.js';

// ajv-formats is CommonJS with a `default` export; under NodeNext the module object is what arrives.
const addFormats = addFormatsModule.default;

/** The folders of s2-ws-json the suites read. */
const SPEC_FOLDERS = ['s2-json-schema/messages', 's2-json-schema/schemas', 's2-asyncapi'] as const;

/** The official schemas: `S2_SPEC_DIR`, a checkout of flexiblepower/s2-ws-json. Use with `describeWith`. */
export const OFFICIAL_SPEC: Material = requireMaterial({
  name: 'official schemas',
  envVar: 'S2_SPEC_DIR',
  expected: 'a checkout of flexiblepower/s2-ws-json',
  check(dir) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return 'no such directory';
    const missing = SPEC_FOLDERS.filter((f) => !existsSync(path.join(dir, f)) || !statSync(path.join(dir, f)).isDirectory());
    if (missing.length) return `no ${missing.join(', ')} in it`;
    if (!readdirSync(path.join(dir, SPEC_FOLDERS[0])).some((f) => f.endsWith('.schema.json')))
      return `no *.schema.json in ${SPEC_FOLDERS[0]}`;
    return undefined;
  },
});

/** The v1.0.0-beta folders, at the root of its checkout. */
const V1_FOLDERS = ['messages', 'schemas'] as const;

/** The official 1.0.0-beta schemas: `S2_SPEC_V1_DIR`, a checkout of flexiblepower/s2-ws-json at tag v1.0.0-beta. */
export const OFFICIAL_SPEC_V1: Material = requireMaterial({
  name: 'official 1.0.0-beta schemas',
  envVar: 'S2_SPEC_V1_DIR',
  expected: 'a checkout of flexiblepower/s2-ws-json at tag v1.0.0-beta (messages/ and schemas/ at its root)',
  check(dir) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return 'no such directory';
    const missing = V1_FOLDERS.filter((f) => !existsSync(path.join(dir, f)) || !statSync(path.join(dir, f)).isDirectory());
    if (missing.length) return `no ${missing.join(', ')} in it`;
    if (!readdirSync(path.join(dir, 'messages')).some((f) => f.endsWith('.schema.json'))) return 'no *.schema.json in messages';
    return undefined;
  },
});

/** The material of each version's official schemas. */
export const OFFICIAL_SPECS: Readonly<Record<S2Version, Material>> = { '0.0.2-beta': OFFICIAL_SPEC, '1.0.0-beta': OFFICIAL_SPEC_V1 };

/** How many message and type files each version's official set holds. */
export const OFFICIAL_COUNTS: Readonly<Record<S2Version, { readonly messages: number; readonly types: number }>> = {
  '0.0.2-beta': { messages: 35, types: 41 },
  '1.0.0-beta': { messages: 36, types: 41 },
};

/**
 * Prefix of the file keys of a version: none for 0.0.2-beta (`schemas/ID.schema.json`, as before),
 * `1.0.0-beta/` for the other, so that keys of both sets never collide and a relative `$ref`
 * resolves within its own set.
 */
export const keyPrefix = (version: S2Version): string => (version === '0.0.2-beta' ? '' : `${version}/`);

/** The version whose set a file key belongs to. */
export function versionOfKey(key: string): S2Version {
  return key.startsWith(keyPrefix('1.0.0-beta')) ? '1.0.0-beta' : '0.0.2-beta';
}

/** The folder holding messages/ and schemas/ of a version. */
const schemaRoot = (version: S2Version) =>
  version === '0.0.2-beta' ? path.join(materialPath(OFFICIAL_SPEC), 's2-json-schema') : materialPath(OFFICIAL_SPEC_V1);
/** `<S2_SPEC_DIR>/s2-asyncapi/`. */
const asyncApiRoot = () => path.join(materialPath(OFFICIAL_SPEC), 's2-asyncapi');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type SchemaDir = 'messages' | 'schemas';

/**
 * One official schema file. `key` is `<prefix><dir>/<file name>`, e.g. `schemas/ID.schema.json`
 * (0.0.2-beta) or `1.0.0-beta/schemas/ID.schema.json`, see {@link keyPrefix}.
 */
export interface OfficialFile {
  readonly version: S2Version;
  readonly key: string;
  readonly dir: SchemaDir;
  readonly fileName: string;
  /** File name without `.schema.json`: the message_type for message files. */
  readonly stem: string;
  readonly schema: JsonObject;
}

function readDir(version: S2Version, dir: SchemaDir): OfficialFile[] {
  const folder = path.join(schemaRoot(version), dir);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()
    .map((fileName) => ({
      version,
      key: `${keyPrefix(version)}${dir}/${fileName}`,
      dir,
      fileName,
      stem: fileName.slice(0, -'.schema.json'.length),
      schema: JSON.parse(readFileSync(path.join(folder, fileName), 'utf8')) as JsonObject,
    }));
}

/** The files of one version's official set. */
export interface OfficialSet {
  readonly messages: OfficialFile[];
  readonly types: OfficialFile[];
  readonly byKey: Map<string, OfficialFile>;
}

const cache = new Map<S2Version, OfficialSet>();

/**
 * All official schema files of a version (0.0.2-beta: 35 messages, 41 types; 1.0.0-beta: 36, 41),
 * read once per test file. Default 0.0.2-beta.
 */
export function officialSchemas(version: S2Version = '0.0.2-beta'): OfficialSet {
  let set = cache.get(version);
  if (!set) {
    const messages = readDir(version, 'messages');
    const types = readDir(version, 'schemas');
    set = { messages, types, byKey: new Map([...messages, ...types].map((f) => [f.key, f])) };
    cache.set(version, set);
  }
  return set;
}

/** The official file a key names, in the set the key belongs to. */
export function officialFile(key: string): OfficialFile | undefined {
  return officialSchemas(versionOfKey(key)).byKey.get(key);
}

/** The file key a relative `$ref` (e.g. `../schemas/ID.schema.json`) written in `fromKey` points to. */
export function resolveRefKey(fromKey: string, ref: string): string {
  const base = new URL(fromKey, 'file:///s2/');
  const target = new URL(ref, base);
  if (target.hash) throw new Error(`unexpected fragment in $ref ${ref} (in ${fromKey})`);
  return target.pathname.replace(/^\/s2\//, '');
}

/** A deep copy of `schema` with `"type": "object"` added to every (sub)schema that has `properties`. */
export function withObjectType(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(withObjectType);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' ? mapValues(v as JsonObject, withObjectType) : withObjectType(v);
  if ('properties' in schema && !('type' in schema)) out.type = 'object';
  return out;
}

function mapValues(o: JsonObject, f: (v: Json) => Json): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) out[k] = f(v);
  return out;
}

/** Ajv2020 (+ ajv-formats, strict: false) holding one version's official files, optionally patched. */
export interface OfficialValidators {
  /** The validator of one message file, by message_type (file stem). */
  message(type: string): ValidateFunction;
  /** Runs the validator and returns its verdict and errors. */
  validate(type: string, value: unknown): { ok: boolean; errors: ErrorObject[] };
}

export function officialValidators(options: { patched: boolean; allErrors?: boolean; version?: S2Version }): OfficialValidators {
  const ajv = new Ajv2020({ strict: false, allErrors: options.allErrors ?? false });
  addFormats(ajv);
  const { messages, types } = officialSchemas(options.version);
  for (const f of [...messages, ...types]) ajv.addSchema((options.patched ? withObjectType(f.schema) : f.schema) as object);
  const fns = new Map<string, ValidateFunction>();
  const message = (type: string): ValidateFunction => {
    let fn = fns.get(type);
    if (!fn) {
      const file = messages.find((m) => m.stem === type);
      if (!file) throw new Error(`no official message schema for ${type}`);
      const id = file.schema.$id;
      if (typeof id !== 'string') throw new Error(`official schema ${file.key} has no $id`);
      const compiled = ajv.getSchema(id);
      if (!compiled) throw new Error(`Ajv did not compile ${file.key}`);
      fn = compiled;
      fns.set(type, fn);
    }
    return fn;
  };
  return {
    message,
    validate(type, value) {
      const fn = message(type);
      const ok = fn(value);
      return { ok, errors: ok ? [] : [...(fn.errors ?? [])] };
    },
  };
}

/** Text of one AsyncAPI role file (0.0.2-beta: the v1.0.0-beta tag has none). */
export function asyncApiText(fileName: string): string {
  return readFileSync(path.join(asyncApiRoot(), fileName), 'utf8');
}

/** File names in the AsyncAPI folder. */
export function asyncApiFiles(): string[] {
  return readdirSync(asyncApiRoot()).sort();
}

/** JSONPath in the codec's notation (`$.a[0].b`, `$["odd key"]`) of a path given as segments. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let p = '$';
  for (const s of segments) p += typeof s === 'number' ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return p;
}
