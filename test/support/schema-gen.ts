/**
 * Random VALID instances of the official S2 JSON Schemas, and single MUTATIONS of them, driven by a
 * seeded {@link Rng}. Works on the official files directly (relative `$ref`s followed by file key)
 * and supports exactly the keywords they use; anything else throws, so a schema change that the
 * generator cannot honour fails loudly instead of silently producing wrong cases.
 */
import { officialFile, officialSchemas, resolveRefKey, type Json, type JsonObject, type OfficialFile } from './official-schemas.js';
import { type Rng } from './rng.js';

export const ID_KEY = 'schemas/ID.schema.json';
/** Whether a file key names the ID schema, in any version's set (official-schemas.ts `keyPrefix`). */
const isIdKey = (key: string | undefined): boolean => key !== undefined && (key === ID_KEY || key.endsWith(`/${ID_KEY}`));
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:';
const HEX = '0123456789abcdef';

/** How ID values are generated: any string the official (unanchored) pattern accepts, or UUIDs only. */
export type IdStyle = 'any' | 'uuid';

/** A schema node together with the file it lives in (for resolving its `$ref`s). */
export interface Located {
  readonly node: JsonObject;
  readonly fileKey: string;
  /** The file a `$ref` led to, when the node was reached through one (e.g. `schemas/ID.schema.json`). */
  readonly refKey?: string;
}

const KNOWN_KEYWORDS = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'const',
  'enum',
  'pattern',
  'format',
  'minimum',
  '$ref',
]);

/** Follows `$ref`s (only `description`/`title` may sit beside one) to the node that constrains a value. */
export function resolve(node: JsonObject, fileKey: string): Located {
  for (const k of Object.keys(node)) if (!KNOWN_KEYWORDS.has(k)) throw new Error(`generator: unsupported keyword '${k}' in ${fileKey}`);
  const ref = node.$ref;
  if (typeof ref !== 'string') return { node, fileKey };
  for (const k of Object.keys(node)) {
    if (k !== '$ref' && k !== 'description' && k !== 'title') throw new Error(`generator: keyword '${k}' beside $ref in ${fileKey}`);
  }
  const key = resolveRefKey(fileKey, ref);
  const target = officialFile(key);
  if (!target) throw new Error(`generator: $ref ${ref} in ${fileKey} points to no official file`);
  const inner = resolve(target.schema, key);
  return { node: inner.node, fileKey: inner.fileKey, refKey: inner.refKey ?? key };
}

export function isObjectSchema(node: JsonObject): boolean {
  return typeof node.properties === 'object' && node.properties !== null;
}

function str(node: JsonObject, key: string): string | undefined {
  const v = node[key];
  return typeof v === 'string' ? v : undefined;
}
function num(node: JsonObject, key: string): number | undefined {
  const v = node[key];
  return typeof v === 'number' ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// Leaf values

export function uuid(rng: Rng, upper = false): string {
  let s = '';
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) s += '-';
    s += HEX[rng.int(0, 15)];
  }
  return upper ? s.toUpperCase() : s;
}

/** An ID the official pattern accepts: a UUID, a plain 2–64 char ID, or a loose one (R3: unanchored). */
export function looseId(rng: Rng): string {
  const r = rng.next();
  if (r < 0.4) return uuid(rng, rng.chance(0.1));
  if (r < 0.8) {
    let s = '';
    const n = rng.chance(0.2) ? rng.pick([2, 64]) : rng.int(2, 20);
    for (let i = 0; i < n; i++) s += ID_CHARS[rng.int(0, ID_CHARS.length - 1)];
    return s;
  }
  // Unanchored pattern: anything containing two allowed characters in a row.
  return rng.pick(['!!ab!!', 'actuator 1', 'om#1', 'x'.repeat(100), 'héllo wörld', '{a1}', '😀ab😀', 'a\u0000bc', 'id with spaces', '--']);
}

/** A string the ID pattern rejects: no two allowed characters in a row. */
export function badId(rng: Rng): string {
  return rng.pick(['', 'a', ':', 'a b', 'a!b!c', 'é', 'éé', '日本語', '😀', 'a😀b', ' ', '1.2.3', 'x/y/z', '\n\n']);
}

/** Strings that match the loose ID pattern but are not UUIDs (for `ids: 'uuid'`). */
export function looseNonUuid(rng: Rng): string {
  const u = uuid(rng);
  return rng.pick([
    'actuator1',
    'om1',
    u.replace(/-/g, ''),
    `{${u}}`,
    `urn:uuid:${u}`,
    `${u}x`,
    ` ${u}`,
    u.slice(0, 35),
    'ab',
    u.replace(/^./, 'g'),
  ]);
}

const LEAP_YEARS = [2000, 2024, 2028];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** An RFC 3339 date-time with an offset or Z, varied: fractions, offsets, case, leap days/seconds. */
export function dateTime(rng: Rng): string {
  const special = rng.next();
  if (special < 0.05) return '2016-12-31T23:59:60Z'; // leap second
  if (special < 0.1) return `${rng.pick(LEAP_YEARS)}-02-29T12:00:00+01:00`;
  const year = rng.int(1970, 2100);
  const month = rng.int(1, 12);
  const day = rng.int(1, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 28);
  const time = `${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}`;
  const frac = rng.chance(0.4) ? `.${String(rng.int(0, 999_999_999)).padStart(9, '0').slice(0, rng.int(1, 9))}` : '';
  const off = rng.next();
  const offset = off < 0.4 ? 'Z' : off < 0.45 ? 'z' : `${rng.pick(['+', '-'])}${pad(rng.int(0, 14))}:${pad(rng.pick([0, 15, 30, 45]))}`;
  const sep = rng.chance(0.05) ? 't' : 'T';
  return `${year}-${pad(month)}-${pad(day)}${sep}${time}${frac}${offset}`;
}

/** Strings that are not RFC 3339 date-times with an offset (R7). */
export function badDateTime(rng: Rng): string {
  return rng.pick([
    '2026-01-01T00:00:00', // no offset
    '2026-01-01T00:00:00.123', // no offset, fraction
    '2026-01-01', // date only
    '00:00:00Z', // time only
    'yesterday',
    '',
    '2026-13-01T00:00:00Z',
    '2026-01-32T00:00:00Z',
    '2025-02-29T00:00:00Z', // not a leap year
    '2026-01-01T24:00:00Z',
    '2026-01-01T12:60:00Z',
    '2026-01-01T12:00:00+24:00',
    '2026-1-1T00:00:00Z',
    '2026-01-01T00:00:00ZZ',
    '2026-01-01T12:00:00 Z',
    '1767225600',
  ]);
}

const STRING_POOL = [
  '',
  'a',
  'Battery 1',
  'ünïcödé',
  '日本語',
  '😀',
  'quote " and \\ backslash',
  'line\nbreak',
  'nul\u0000char',
  'tab\t',
  '\ud800',
  'x'.repeat(300),
];

function freeString(rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(STRING_POOL);
  let s = '';
  const n = rng.int(0, 12);
  for (let i = 0; i < n; i++) s += String.fromCodePoint(rng.chance(0.8) ? rng.int(0x20, 0x7e) : rng.int(0xa0, 0x2fff));
  return s;
}

function number(rng: Rng): number {
  const r = rng.next();
  if (r < 0.1) return rng.pick([0, 1, -1, 0.5, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, -2.5e-7]);
  if (r < 0.5) return rng.int(-100_000, 100_000);
  return (rng.next() - 0.5) * 10 ** rng.int(-3, 9);
}

function integer(rng: Rng, minimum: number | undefined): number {
  const lo = minimum ?? -1_000_000;
  const r = rng.next();
  if (r < 0.15) return lo;
  if (r < 0.2) return rng.pick([Number.MAX_SAFE_INTEGER, 1e20]);
  return lo + rng.int(0, 10_000_000);
}

// ---------------------------------------------------------------------------------------------
// Valid instances

export interface GenOptions {
  readonly ids: IdStyle;
  /** Largest array generated when the schema allows more (bounds are tested by mutations). */
  readonly maxArray: number;
  /** Probability that an optional property is present. */
  readonly optional: number;
}

export const DEFAULT_GEN: GenOptions = { ids: 'any', maxArray: 3, optional: 0.5 };

/** A random valid value of `node` (a node of file `fileKey`). */
export function generate(rng: Rng, node: JsonObject, fileKey: string, opts: GenOptions = DEFAULT_GEN): Json {
  const { node: s, fileKey: key, refKey } = resolve(node, fileKey);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return rng.pick(s.enum);
  if (isObjectSchema(s)) {
    const props = s.properties as JsonObject;
    const required = new Set((s.required as string[] | undefined) ?? []);
    const out: JsonObject = {};
    for (const [name, sub] of Object.entries(props)) {
      if (required.has(name) || rng.chance(opts.optional)) out[name] = generate(rng, sub as JsonObject, key, opts);
    }
    return out;
  }
  switch (s.type) {
    case 'string': {
      const pattern = str(s, 'pattern');
      if (pattern !== undefined) {
        if (!isIdKey(refKey) && !isIdKey(key)) throw new Error(`generator: pattern outside ID in ${key}`);
        return opts.ids === 'uuid' ? uuid(rng, rng.chance(0.1)) : looseId(rng);
      }
      const format = str(s, 'format');
      if (format === 'date-time') return dateTime(rng);
      if (format !== undefined) throw new Error(`generator: unsupported format ${format} in ${key}`);
      return freeString(rng);
    }
    case 'number':
      return number(rng);
    case 'integer':
      return integer(rng, num(s, 'minimum'));
    case 'boolean':
      return rng.chance(0.5);
    case 'array': {
      const min = num(s, 'minItems') ?? 0;
      const max = num(s, 'maxItems') ?? Infinity;
      const n = rng.int(min, Math.max(min, Math.min(max, opts.maxArray)));
      const items = s.items as JsonObject;
      return Array.from({ length: n }, () => generate(rng, items, key, opts));
    }
    default:
      throw new Error(`generator: unsupported schema in ${key}: ${JSON.stringify(s).slice(0, 200)}`);
  }
}

/** A random valid message of the official message file `file`. */
export function generateMessage(rng: Rng, file: OfficialFile, opts: GenOptions = DEFAULT_GEN): JsonObject {
  return generate(rng, file.schema, file.key, opts) as JsonObject;
}

// ---------------------------------------------------------------------------------------------
// Sites: every value in an instance together with the schema node that governs it

export type Path = readonly (string | number)[];

export interface Site {
  readonly path: Path;
  readonly value: Json;
  readonly schema: Located;
  /** True when the value is a property its parent object requires. */
  readonly required: boolean;
}

/** Every value of `instance` (root first) with its resolved schema node. */
export function sites(instance: Json, node: JsonObject, fileKey: string, path: Path = [], required = true): Site[] {
  const loc = resolve(node, fileKey);
  const out: Site[] = [{ path, value: instance, schema: loc, required }];
  const s = loc.node;
  if (isObjectSchema(s) && instance !== null && typeof instance === 'object' && !Array.isArray(instance)) {
    const props = s.properties as JsonObject;
    const req = new Set((s.required as string[] | undefined) ?? []);
    for (const [name, v] of Object.entries(instance)) {
      const sub = Object.prototype.hasOwnProperty.call(props, name) ? props[name] : undefined;
      if (sub) out.push(...sites(v, sub as JsonObject, loc.fileKey, [...path, name], req.has(name)));
    }
  } else if (s.type === 'array' && Array.isArray(instance)) {
    instance.forEach((v, i) => out.push(...sites(v, s.items as JsonObject, loc.fileKey, [...path, i], true)));
  }
  return out;
}

/** The ID fields of an instance (values governed by the official ID schema). */
export function idSites(instance: Json, file: OfficialFile): Site[] {
  return sites(instance, file.schema, file.key).filter((s) => isIdKey(s.schema.refKey));
}

// ---------------------------------------------------------------------------------------------
// Mutations

export const MUTATIONS = [
  'drop-required',
  'unknown-property',
  'null-optional',
  'wrong-type',
  'not-in-enum',
  'too-few-items',
  'too-many-items',
  'bad-date-time',
  'bad-id',
  'below-minimum',
  'fractional-integer',
  'nested-non-object',
  'top-level-non-object',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Variants that must stay valid: arrays exactly at their bounds. */
export const VALID_VARIANTS = ['valid', 'array-at-min', 'array-at-max'] as const;
export type ValidVariant = (typeof VALID_VARIANTS)[number];

export interface Mutated {
  readonly kind: Mutation | ValidVariant;
  readonly value: Json;
  /** Where the change was made. */
  readonly path: Path;
  /** A one-line description for failure output. */
  readonly detail: string;
}

function clone(v: Json): Json {
  return v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as Json);
}

/** Replaces the value at `path` in a deep copy of `root` (or the root itself for an empty path). */
function setAt(root: Json, path: Path, f: (old: Json) => Json | typeof DELETE): Json {
  if (path.length === 0) {
    const r = f(root);
    if (r === DELETE) throw new Error('cannot delete the root');
    return r;
  }
  const copy = clone(root);
  let cur = copy as JsonObject | Json[];
  for (const seg of path.slice(0, -1)) cur = (cur as Record<string | number, Json>)[seg] as JsonObject | Json[];
  const last = path[path.length - 1] as string | number;
  const next = f((cur as Record<string | number, Json>)[last] as Json);
  if (next === DELETE) {
    delete (cur as Record<string | number, Json>)[last];
  } else if (last === '__proto__') {
    Object.defineProperty(cur, last, { value: next, enumerable: true, writable: true, configurable: true });
  } else {
    (cur as Record<string | number, Json>)[last] = next;
  }
  return copy;
}
const DELETE = Symbol('delete');

function jsonType(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Values of other JSON types than `type` (integer counts as number). */
function otherTypeValues(type: string): Json[] {
  const all: Record<string, Json[]> = {
    string: ['x', '', '2026-01-01T00:00:00Z'],
    number: [42, -1.5, 0],
    boolean: [true, false],
    null: [null],
    array: [[], ['x']],
    object: [{}, { a: 1 }],
  };
  const t = type === 'integer' ? 'number' : type;
  const out: Json[] = [];
  for (const [k, vs] of Object.entries(all)) if (k !== t) out.push(...vs);
  if (type === 'integer') out.push(1.5);
  if (type === 'number' || type === 'integer') out.push('5'); // numeric string: PY would accept it
  if (type === 'boolean') out.push('true', 0, 1);
  return out;
}

const UNKNOWN_KEYS = ['extra', 'x_vendor', 'constructor', 'toString', '__proto__', 'message_type ', ''];
const NOT_IN_ENUM_EXTRA = [
  // R53/Q10: the four values DOC/toml lists beyond the schema
  'FRBC.LeakageBehaviour',
  'FRBC.UsageForecast',
  'FRBC.FillLevelTargetProfile',
  'DDBC.AverageDemandRateForecast',
  'NOT_CONTROLLABLE',
  'HYDROGEN',
  'toString',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '',
  'X.Unknown',
];

/** Sites of `instance` a given mutation can apply to. */
function candidates(kind: Mutation | ValidVariant, all: Site[]): Site[] {
  return all.filter((site) => {
    const s = site.schema.node;
    const v = site.value;
    const isObj = isObjectSchema(s) && v !== null && typeof v === 'object' && !Array.isArray(v);
    switch (kind) {
      case 'valid':
        return site.path.length === 0;
      case 'drop-required':
        return isObj && ((s.required as string[] | undefined) ?? []).some((r) => r in v);
      case 'unknown-property':
        return isObj;
      case 'null-optional': {
        if (!isObj) return false;
        const req = new Set((s.required as string[] | undefined) ?? []);
        return Object.keys(s.properties as JsonObject).some((p) => !req.has(p));
      }
      case 'wrong-type':
        return site.path.length > 0 && typeof s.type === 'string';
      case 'not-in-enum':
        return 'const' in s || Array.isArray(s.enum);
      case 'too-few-items':
        return s.type === 'array' && (num(s, 'minItems') ?? 0) > 0;
      case 'too-many-items':
      case 'array-at-max':
        return s.type === 'array' && num(s, 'maxItems') !== undefined;
      case 'array-at-min':
        return s.type === 'array';
      case 'bad-date-time':
        return s.format === 'date-time';
      case 'bad-id':
        return isIdKey(site.schema.refKey);
      case 'below-minimum':
        return num(s, 'minimum') !== undefined;
      case 'fractional-integer':
        return s.type === 'integer';
      case 'nested-non-object':
        return site.path.length > 0 && isObj;
      case 'top-level-non-object':
        return site.path.length === 0;
    }
  });
}

/** Array elements to fill an array site up to `n` items: copies of what is there, or new ones. */
function fill(rng: Rng, site: Site, n: number): Json[] {
  const arr = site.value as Json[];
  const items = site.schema.node.items as JsonObject;
  const seed = arr.length ? arr : [generate(rng, items, site.schema.fileKey)];
  return Array.from({ length: n }, (_, i) => seed[i % seed.length] as Json);
}

/**
 * Applies `kind` to a random applicable site of `instance` (an instance of `file`). Returns
 * undefined when the instance offers no such site (e.g. no date-time in a Handshake).
 */
export function mutate(rng: Rng, file: OfficialFile, instance: JsonObject, kind: Mutation | ValidVariant): Mutated | undefined {
  const options = candidates(kind, sites(instance, file.schema, file.key));
  if (options.length === 0) return undefined;
  const site = rng.pick(options);
  const s = site.schema.node;
  const at = (path: Path, f: (old: Json) => Json | typeof DELETE, detail: string): Mutated => ({
    kind,
    value: setAt(instance, path, f),
    path,
    detail,
  });
  switch (kind) {
    case 'valid':
      return { kind, value: instance, path: [], detail: 'as generated' };
    case 'drop-required': {
      const present = ((s.required as string[]) ?? []).filter((r) => r in (site.value as JsonObject));
      const name = rng.pick(present);
      return at([...site.path, name], () => DELETE, `removed required '${name}'`);
    }
    case 'unknown-property': {
      const props = Object.keys(s.properties as JsonObject);
      // Also a case flip of a declared name (e.g. DDBC's 'Id' → 'id'), unless that is declared too.
      const flipped = props
        .map((p) => (p[0] === p[0]?.toUpperCase() ? p[0]?.toLowerCase() : p[0]?.toUpperCase()) + p.slice(1))
        .filter((p) => !props.includes(p));
      const name = rng.pick([...UNKNOWN_KEYS, ...flipped].filter((k) => !props.includes(k)));
      const v = rng.pick<Json>([1, 'x', null, true, [], {}]);
      return at([...site.path, name], () => v, `added unknown '${name}' = ${JSON.stringify(v)}`);
    }
    case 'null-optional': {
      const req = new Set((s.required as string[] | undefined) ?? []);
      const name = rng.pick(Object.keys(s.properties as JsonObject).filter((p) => !req.has(p)));
      return at([...site.path, name], () => null, `optional '${name}' set to null (R6)`);
    }
    case 'wrong-type': {
      const type = s.type as string; // candidates() picks only sites whose type is one string
      const v = rng.pick(otherTypeValues(type));
      return at(site.path, () => v, `${type} replaced by ${jsonType(v)} ${JSON.stringify(v)}`);
    }
    case 'not-in-enum': {
      const allowed = 'const' in s ? [s.const] : (s.enum as Json[]);
      const first = allowed[0];
      if (typeof first !== 'string')
        throw new Error(`generator: not-in-enum needs a string enum, got ${JSON.stringify(first)} in ${file.key}`);
      // A const is a message_type here: never swap in another real message type.
      const taken = 'const' in s ? new Set(officialSchemas(file.version).messages.map((f) => f.stem)) : new Set<string>();
      const pool = [...NOT_IN_ENUM_EXTRA, first.toLowerCase(), `${first} `, ` ${first}`].filter(
        (x) => !allowed.includes(x) && !taken.has(x),
      );
      const v = rng.pick(pool);
      return at(site.path, () => v, `${'const' in s ? 'const' : 'enum'} value replaced by ${JSON.stringify(v)}`);
    }
    case 'too-few-items': {
      const min = num(s, 'minItems') ?? 0;
      return at(site.path, (old) => (old as Json[]).slice(0, min - 1), `array cut to ${min - 1} < minItems ${min}`);
    }
    case 'too-many-items': {
      const max = num(s, 'maxItems') ?? 0;
      const items = fill(rng, site, max + 1);
      return at(site.path, () => items, `array filled to ${max + 1} > maxItems ${max}`);
    }
    case 'array-at-max': {
      const max = num(s, 'maxItems') ?? 0;
      const items = fill(rng, site, max);
      return at(site.path, () => items, `array filled to exactly maxItems ${max}`);
    }
    case 'array-at-min': {
      const min = num(s, 'minItems') ?? 0;
      const items = fill(rng, site, min);
      return at(site.path, () => items, `array set to exactly minItems ${min}`);
    }
    case 'bad-date-time': {
      const v = badDateTime(rng);
      return at(site.path, () => v, `date-time replaced by ${JSON.stringify(v)}`);
    }
    case 'bad-id': {
      const v = badId(rng);
      return at(site.path, () => v, `ID replaced by ${JSON.stringify(v)}`);
    }
    case 'below-minimum': {
      const min = num(s, 'minimum') ?? 0;
      const v = min - rng.pick([1, 1000, 2 ** 40]);
      return at(site.path, () => v, `value ${v} below minimum ${min}`);
    }
    case 'fractional-integer': {
      // Keep the base small: 1e20 + 0.5 would round back to an integer.
      const old = site.value as number;
      const v = (Math.abs(old) < 1e6 ? Math.max(0, Math.trunc(old)) : 7) + rng.pick([0.5, 0.001, 1e-6]);
      return at(site.path, () => v, `integer replaced by ${v}`);
    }
    case 'nested-non-object':
    case 'top-level-non-object': {
      const v = rng.pick<Json>([42, 'x', true, null, [], [{}], [clone(site.value)]]);
      return at(site.path, () => v, `object replaced by ${jsonType(v)} ${JSON.stringify(v).slice(0, 60)}`);
    }
  }
}
