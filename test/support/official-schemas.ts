/**
 * Test-only access to the official s2-ws-json material (never copied into the repository): a
 * checkout of flexiblepower/s2-ws-json named by `S2_SPEC_DIR` (see outside-material.ts; unset ⇒
 * the suites that need it are skipped, or fail with CI set). From it: the 76 JSON Schema files,
 * an in-memory copy patched with `"type": "object"`, Ajv2020 validators over them, and the
 * AsyncAPI role files.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
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

/** `<S2_SPEC_DIR>/s2-json-schema/`. */
const schemaRoot = () => path.join(materialPath(OFFICIAL_SPEC), 's2-json-schema');
/** `<S2_SPEC_DIR>/s2-asyncapi/`. */
const asyncApiRoot = () => path.join(materialPath(OFFICIAL_SPEC), 's2-asyncapi');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type SchemaDir = 'messages' | 'schemas';

/** One official schema file. `key` is `<dir>/<file name>`, e.g. `schemas/ID.schema.json`. */
export interface OfficialFile {
  readonly key: string;
  readonly dir: SchemaDir;
  readonly fileName: string;
  /** File name without `.schema.json`: the message_type for message files. */
  readonly stem: string;
  readonly schema: JsonObject;
}

function readDir(dir: SchemaDir): OfficialFile[] {
  const folder = path.join(schemaRoot(), dir);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()
    .map((fileName) => ({
      key: `${dir}/${fileName}`,
      dir,
      fileName,
      stem: fileName.slice(0, -'.schema.json'.length),
      schema: JSON.parse(readFileSync(path.join(folder, fileName), 'utf8')) as JsonObject,
    }));
}

let cache: { messages: OfficialFile[]; types: OfficialFile[]; byKey: Map<string, OfficialFile> } | undefined;

/** All official schema files (35 messages, 41 types), read once per test file. */
export function officialSchemas(): { messages: OfficialFile[]; types: OfficialFile[]; byKey: Map<string, OfficialFile> } {
  if (!cache) {
    const messages = readDir('messages');
    const types = readDir('schemas');
    cache = { messages, types, byKey: new Map([...messages, ...types].map((f) => [f.key, f])) };
  }
  return cache;
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

/** Ajv2020 (+ ajv-formats, strict: false) holding the 76 official files, optionally patched. */
export interface OfficialValidators {
  /** The validator of one message file, by message_type (file stem). */
  message(type: string): ValidateFunction;
  /** Runs the validator and returns its verdict and errors. */
  validate(type: string, value: unknown): { ok: boolean; errors: ErrorObject[] };
}

export function officialValidators(options: { patched: boolean; allErrors?: boolean }): OfficialValidators {
  const ajv = new Ajv2020({ strict: false, allErrors: options.allErrors ?? false });
  addFormats(ajv);
  const { messages, types } = officialSchemas();
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

/** Text of one AsyncAPI role file. */
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
