import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { ID_PATTERN, UUID_PATTERN } from './common/primitives.js';
import { clip, joinPath, showValue, type Problem } from './problem.js';

// ajv-formats is CommonJS with a `default` export; under NodeNext the module object is what arrives.
const addFormats = addFormatsModule.default;

/**
 * How ID fields are checked (R3, Q15):
 * - `'schema'`: the official pattern exactly as published. It is unanchored, so any string holding
 *   two of `[A-Za-z0-9-_:]` in a row passes, whatever its length or other characters (a 2 MiB id, one
 *   with spaces, newlines or markup); such a message_id is accepted and repeated, in full, as the
 *   ReceptionStatus subject (R13). Schema-exact, for conformance checks.
 * - `'strict'`: the official pattern anchored, `^[a-zA-Z0-9\-_:]{2,64}$`: 2–64 of `[A-Za-z0-9-_:]`
 *   and nothing else, for every ID field. Accepts every UUID. Recommended against untrusted peers.
 * - `'uuid'`: canonical 8-4-4-4-12 UUIDs, as the spec means them.
 */
export type IdMode = 'schema' | 'strict' | 'uuid';

/** Every {@link IdMode}, for checking option values. */
export const ID_MODES: readonly IdMode[] = ['schema', 'strict', 'uuid'];

/** The official ID pattern anchored (`ids: 'strict'`): the whole value is 2–64 of `[A-Za-z0-9-_:]`. */
export const STRICT_ID_PATTERN = `^${ID_PATTERN}$`;

/** The pattern a message_id and every other ID field must match in an ID mode. */
export function idPattern(ids: IdMode): string {
  return ids === 'uuid' ? UUID_PATTERN : ids === 'strict' ? STRICT_ID_PATTERN : ID_PATTERN;
}

const MAX_PROBLEMS = 10;

function newAjv(allErrors: boolean) {
  const ajv = new Ajv({ strict: true, allErrors, messages: true });
  // R7: date-time must carry an offset or Z; ajv-formats' full "date-time" requires it.
  addFormats(ajv, ['date-time']);
  return ajv;
}

/**
 * Copies a schema, replacing every ID pattern by `pattern`: the uuidVariant of a schema for
 * `ids: 'uuid'`, its anchored variant for `ids: 'strict'`.
 */
function idVariant(schema: unknown, pattern: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => idVariant(s, pattern));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'pattern' && v === ID_PATTERN ? pattern : idVariant(v, pattern);
  return out;
}

/**
 * Compiles validators lazily, once per (schema, id mode): a fast first-error validator for the
 * hot path and, only when that fails, an all-errors validator to describe every problem.
 * Compiling all 35 message schemas takes about 90 ms (measured), so no build-time code generation.
 */
export class SchemaValidators {
  private readonly fast = new Map<TSchema, ValidateFunction>();
  private readonly full = new Map<TSchema, ValidateFunction>();
  private readonly ajvFast = newAjv(false);
  private readonly ajvFull = newAjv(true);

  constructor(private readonly ids: IdMode = 'schema') {}

  private static readonly sharedByMode = new Map<IdMode, SchemaValidators>();

  /**
   * The process-wide instance for an ID mode. Codecs share it, so a schema object is compiled once
   * however many codecs check it: the message sets of the S2 JSON versions hold the same schema
   * objects wherever the versions agree, and a second version's codec compiles only what differs.
   */
  static shared(ids: IdMode = 'schema'): SchemaValidators {
    let v = SchemaValidators.sharedByMode.get(ids);
    if (!v) SchemaValidators.sharedByMode.set(ids, (v = new SchemaValidators(ids)));
    return v;
  }

  private compile(cache: Map<TSchema, ValidateFunction>, ajv: Ajv, schema: TSchema) {
    let fn = cache.get(schema);
    if (!fn) {
      fn = ajv.compile(this.ids === 'schema' ? schema : (idVariant(schema, idPattern(this.ids)) as object));
      cache.set(schema, fn);
    }
    return fn;
  }

  /** True when `value` satisfies `schema`. */
  check(schema: TSchema, value: unknown): boolean {
    return this.compile(this.fast, this.ajvFast, schema)(value);
  }

  /** Every problem (up to a cap) that makes `value` fail `schema`, with JSONPaths from `$`. */
  problems(schema: TSchema, value: unknown): Problem[] {
    const fn = this.compile(this.full, this.ajvFull, schema);
    if (fn(value)) return [];
    return describeErrors(fn.errors ?? [], value, this.ids);
  }
}

function pointerToPath(pointer: string): string {
  let path = '$';
  if (!pointer) return path;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = joinPath(path, /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return path;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  if (!pointer) return cur;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function sentence(e: ErrorObject, ids: IdMode): { path: string; message: string; pointer: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const ptr = `${e.instancePath}/${String(p.missingProperty)}`;
      return { pointer: ptr, path: pointerToPath(ptr), message: 'required field is missing' };
    }
    case 'additionalProperties': {
      const ptr = `${e.instancePath}/${String(p.additionalProperty)}`;
      return {
        pointer: ptr,
        path: pointerToPath(ptr),
        message: `unknown field '${String(p.additionalProperty)}' (not allowed by the schema)`,
      };
    }
    case 'enum':
      return {
        pointer: e.instancePath,
        path: pointerToPath(e.instancePath),
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { pointer: e.instancePath, path: pointerToPath(e.instancePath), message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return {
        pointer: e.instancePath,
        path: pointerToPath(e.instancePath),
        message:
          p.pattern === UUID_PATTERN || ids === 'uuid'
            ? 'must be a UUID (8-4-4-4-12 hex digits)'
            : ids === 'strict'
              ? 'must be an ID (2–64 of [A-Za-z0-9-_:] and nothing else)'
              : `must be an ID (2–64 of [A-Za-z0-9-_:])`,
      };
    case 'format':
      return { pointer: e.instancePath, path: pointerToPath(e.instancePath), message: `must be an RFC 3339 date-time with an offset or Z` };
    default:
      return { pointer: e.instancePath, path: pointerToPath(e.instancePath), message: e.message ?? e.keyword };
  }
}

function describeErrors(errors: readonly ErrorObject[], root: unknown, ids: IdMode): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const s = sentence(e, ids);
    const key = `${s.path}\u0000${s.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const v = valueAt(root, s.pointer);
    // Property names come from the peer: clip them so a 10 kB key cannot flood a log.
    const path = clip(s.path, 200);
    const message = clip(s.message, 200);
    out.push(v === undefined ? { path, message } : { path, message, value: showValue(v) });
    if (out.length >= MAX_PROBLEMS) break;
  }
  return out;
}
