import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import { clip, joinPath, type Problem } from '../../typebox/problem.js';
import { decodeBase64Strict, decodeFingerprint, encodeBase64 } from '../crypto.js';
import { deploymentOfUrl } from '../deployment.js';
import { S2ConnectError } from '../errors.js';
import { RS_PAIRING_ERROR_NAMES } from './names.js';
import { BODY_SCHEMAS } from './schemas.js';
import type { BodyKind, BodyValues } from './types.js';

/**
 * Reading and writing S2 Connect bodies in both dialects (digest §8).
 *
 * Reading = normalise (null ⇒ absent everywhere; RS spellings ⇒ OAS names; a single long-poll object ⇒ a one-item
 * array) → validate with Ajv (one compiled validator per kind) → project (keep only declared fields, decode base64
 * to bytes, lowercase node ids, apply defaults). Unknown fields are ignored, as RS ignores ours.
 * Writing = OAS names + the compatibility fields RS reads, then the result is read back as a self-check.
 *
 * Problems carry a JSONPath and a sentence, never the offending value: bodies hold tokens, attempt ids and HMACs.
 */

export type ReadResult<T> =
  | {
      readonly ok: true;
      readonly value: T;
      /**
       * The compatibility spellings that were read (RS-dialect markers), e.g. `null`, `initiateConnectionUrl`,
       * `websocket_token`, `clienNodeDescription`, an RS error name, `SHA265`, `hex fingerprint`, `single object`.
       * A `waitForPairing` server answers a single object when this contains `clienNodeDescription` (§8 row 5).
       */
      readonly compat: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** The parts of a (TypeBox / JSON Schema) schema this module walks. */
interface SchemaNode {
  readonly type?: string;
  readonly title?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly default?: unknown;
  readonly s2Base64?: Base64Rule;
  readonly s2Url?: 'https' | 'wss';
  readonly s2Fingerprint?: boolean;
}

interface Base64Rule {
  readonly minBytes?: number;
  readonly maxBytes?: number;
}

const MAX_PROBLEMS = 10;

/** Dialect renames per OAS component: [RS or compatibility spelling, OAS name]. */
const RENAMES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  ConnectionDetails: [['initiateConnectionUrl', 'initiateSessionUrl']],
  WebSocketCommunicationDetails: [
    ['websocket_token', 'websocketToken'],
    ['websocket_url', 'websocketUrl'],
  ],
  WaitForPairingRequestItem: [['clienNodeDescription', 'clientNodeDescription']],
};

/** Array bodies for which an RS peer sends one object instead. */
const SINGLE_OBJECT_ARRAYS = new Set(['WaitForPairingRequest', 'WaitForPairingResponse']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false; // too deep to print: a hostile body, and certainly not our own two equal spellings
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ajv: one instance, three keywords, validators compiled lazily once per kind.

function base64Sentence(rule: Base64Rule): string {
  const { minBytes, maxBytes } = rule;
  const size =
    minBytes !== undefined && maxBytes !== undefined
      ? minBytes === maxBytes
        ? ` of ${minBytes} bytes`
        : minBytes > 1
          ? ` of ${minBytes} to ${maxBytes} bytes`
          : ` of at most ${maxBytes} bytes`
      : minBytes !== undefined
        ? ` of at least ${minBytes} bytes`
        : '';
  return `must be standard padded base64${size}`;
}

/** An Ajv keyword whose check returns the failure sentence (or undefined when the data passes). */
function keyword(name: string, check: (rule: never, data: never) => string | undefined): SchemaValidateFunction {
  const validate: SchemaValidateFunction = (rule: unknown, data: unknown) => {
    const why = check(rule as never, data as never);
    validate.errors = why === undefined ? [] : [{ keyword: name, message: why, params: {} }];
    return why === undefined;
  };
  return validate;
}

function urlProblem(scheme: 'https' | 'wss', data: string): string | undefined {
  let url: URL;
  try {
    url = new URL(data);
  } catch {
    return `must be an absolute ${scheme}: URL`;
  }
  return url.protocol === `${scheme}:` ? undefined : `must be a ${scheme}: URL`;
}

function fingerprintProblem(data: JsonObject): string | undefined {
  const text = data.SHA256;
  if (typeof text !== 'string') return 'must have a "SHA256" entry';
  return decodeFingerprint(text) === undefined ? '"SHA256" must be a SHA-256 (32 bytes) in base64 or hex' : undefined;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, verbose: true, messages: true });
  ajv.addKeyword({
    keyword: 's2Base64',
    type: 'string',
    schemaType: 'object',
    errors: true,
    validate: keyword('s2Base64', (rule: Base64Rule, data: string) =>
      decodeBase64Strict(data, rule) === undefined ? base64Sentence(rule) : undefined,
    ),
  });
  ajv.addKeyword({
    keyword: 's2Url',
    type: 'string',
    schemaType: 'string',
    errors: true,
    validate: keyword('s2Url', (scheme: 'https' | 'wss', data: string) => urlProblem(scheme, data)),
  });
  ajv.addKeyword({
    keyword: 's2Fingerprint',
    type: 'object',
    schemaType: 'boolean',
    errors: true,
    validate: keyword('s2Fingerprint', (_rule: boolean, data: JsonObject) => fingerprintProblem(data)),
  });
  return ajv;
}

let ajv: Ajv | undefined;
const validators = new Map<BodyKind, ValidateFunction>();

function validatorOf(kind: BodyKind): ValidateFunction {
  let fn = validators.get(kind);
  if (fn === undefined) {
    ajv ??= newAjv();
    fn = ajv.compile(BODY_SCHEMAS[kind]);
    validators.set(kind, fn);
  }
  return fn;
}

function pointerToPath(pointer: string): string {
  let path = '$';
  if (!pointer) return path;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = joinPath(path, /^\d+$/.test(segment) ? Number(segment) : segment);
  }
  return path;
}

const PATTERN_SENTENCES: Readonly<Record<string, string>> = {
  NodeId: 'must be a UUID (8-4-4-4-12 hex digits)',
  NodeIdAlias: 'must be one or more ASCII letters or digits',
  AccessToken: 'must be a bearer token (letters, digits and -._~+/ then optional =)',
  CommunicationToken: 'must be a bearer token (letters, digits and -._~+/ then optional =)',
  PairingAttemptId: 'must be a bearer token (letters, digits and -._~+/ then optional =)',
};

function sentence(e: ErrorObject): { path: string; message: string } {
  const params = e.params as Record<string, unknown>;
  const title = (e.parentSchema as SchemaNode | undefined)?.title;
  switch (e.keyword) {
    case 'required':
      return { path: pointerToPath(`${e.instancePath}/${String(params.missingProperty)}`), message: 'required field is missing' };
    case 'type': {
      const type = String(params.type);
      return { path: pointerToPath(e.instancePath), message: `must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}` };
    }
    case 'enum':
      return {
        path: pointerToPath(e.instancePath),
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      return {
        path: pointerToPath(e.instancePath),
        message: (title !== undefined ? PATTERN_SENTENCES[title] : undefined) ?? 'has the wrong format',
      };
    case 'minLength':
      return { path: pointerToPath(e.instancePath), message: `must have at least ${String(params.limit)} characters` };
    case 'maxLength':
      return { path: pointerToPath(e.instancePath), message: `must have at most ${String(params.limit)} characters` };
    case 'minItems':
      return {
        path: pointerToPath(e.instancePath),
        message: `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`,
      };
    default:
      return { path: pointerToPath(e.instancePath), message: e.message ?? e.keyword };
  }
}

function describe(errors: readonly ErrorObject[]): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const s = sentence(e);
    const key = `${s.path}\u0000${s.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Paths can hold peer-chosen keys (a fingerprint map's entries): clip them.
    out.push({ path: clip(s.path, 200), message: clip(s.message, 200) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading.

interface ReadContext {
  readonly compat: Set<string>;
  readonly problems: Problem[];
}

function rename(out: JsonObject, from: string, to: string, path: string, ctx: ReadContext): void {
  if (!hasOwn(out, from)) return;
  const value = out[from];
  delete out[from];
  if (hasOwn(out, to)) {
    // We send both spellings with the same value; two different values are a confused or hostile peer.
    if (!sameJson(out[to], value))
      ctx.problems.push({ path: joinPath(path, from), message: `differs from ${to} (the two spellings of one field)` });
    return;
  }
  out[to] = value;
}

/** Brings a body of either dialect to the OAS shape, guided by the schema; copies what it changes. */
function normalise(schema: SchemaNode, value: unknown, path: string, ctx: ReadContext): unknown {
  const title = schema.title ?? '';
  if (schema.type === 'array') {
    let list = value;
    if (isObject(value) && SINGLE_OBJECT_ARRAYS.has(title)) {
      list = [value];
      ctx.compat.add('single object');
    }
    if (!Array.isArray(list) || schema.items === undefined) return list;
    const items = schema.items;
    return list.map((item, i) => normalise(items, item, joinPath(path, i), ctx));
  }
  if (schema.type !== 'object' || !isObject(value)) return value;

  // A present RS spelling is a dialect marker even when null: RS clients always send `clienNodeDescription`.
  for (const [from] of RENAMES[title] ?? []) if (hasOwn(value, from)) ctx.compat.add(from);
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    // '__proto__' would set the copy's prototype; it is no S2 Connect field, so it is ignored like any unknown one.
    if (key === '__proto__') continue;
    const field = value[key];
    if (field === null) {
      ctx.compat.add('null'); // RS writes absent optional fields as null (digest §3.0)
      continue;
    }
    out[key] = field;
  }
  if (title === 'RequestPairingRequest' && hasOwn(out, 'nodeId') && hasOwn(out, 'nodeIdAlias')) {
    ctx.problems.push({ path: joinPath(path, 'nodeIdAlias'), message: 'must not be given together with nodeId' });
  }
  for (const [from, to] of RENAMES[title] ?? []) rename(out, from, to, path, ctx);
  if (title === 'PairingResponseErrorMessage' && typeof out.errorMessage === 'string' && hasOwn(RS_PAIRING_ERROR_NAMES, out.errorMessage)) {
    ctx.compat.add(out.errorMessage);
    out.errorMessage = RS_PAIRING_ERROR_NAMES[out.errorMessage];
  }
  if (title === 'CertificateFingerprint' && !hasOwn(out, 'SHA256') && hasOwn(out, 'SHA265')) {
    out.SHA256 = out.SHA265; // the OAS text demands the key "SHA265", a typo of SHA256
    ctx.compat.add('SHA265');
  }
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (hasOwn(out, key)) out[key] = normalise(sub, out[key], joinPath(path, key), ctx);
  }
  return out;
}

/** Builds the value from a validated, normalised body: declared fields only, bytes decoded, ids lowercased. */
function project(schema: SchemaNode, value: unknown, ctx: ReadContext): unknown {
  if (schema.s2Fingerprint === true) {
    const text = (value as JsonObject).SHA256 as string;
    if (text.length !== 44) ctx.compat.add('hex fingerprint'); // base64 of 32 bytes is always 44 characters
    return decodeFingerprint(text);
  }
  if (schema.s2Base64 !== undefined) return decodeBase64Strict(value as string);
  if (schema.title === 'NodeId') return (value as string).toLowerCase();
  if (schema.type === 'array') {
    const items = schema.items;
    return (value as unknown[]).map((item) => (items === undefined ? item : project(items, item, ctx)));
  }
  if (schema.type === 'object' && schema.properties !== undefined) {
    const source = value as JsonObject;
    const out: JsonObject = {};
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (hasOwn(source, key)) out[key] = project(sub, source[key], ctx);
      else if (sub.default !== undefined) out[key] = sub.default;
    }
    return out;
  }
  return value;
}

/** Rules across fields that a schema cannot state. */
function crossFieldProblems(kind: BodyKind, value: unknown): Problem[] {
  if (kind === 'PostConnectionDetailsRequest') {
    const details = (value as { connectionDetails: JsonObject }).connectionDetails;
    // A LAN communication server must give its root (digest §8 row 9, §9): without it the client cannot verify the
    // CS later, because the root it saw during pairing belongs to the pairing server, not to this CS.
    if (details.certificateFingerprint === undefined && deploymentOfUrl(details.initiateSessionUrl as string) === 'LAN') {
      return [{ path: '$.connectionDetails.certificateFingerprint', message: 'required when initiateSessionUrl is a .local (LAN) host' }];
    }
  }
  return [];
}

/**
 * Reads a parsed JSON body of either dialect as `kind`. Never throws; on failure every problem has a JSONPath (at
 * most 10 problems). The HTTP layer answers a failure with 400 ParsingError (`S2ConnectError.parsing(problems)`).
 */
export function readBody<K extends BodyKind>(kind: K, json: unknown): ReadResult<BodyValues[K]> {
  const schema = BODY_SCHEMAS[kind] as SchemaNode;
  const ctx: ReadContext = { compat: new Set(), problems: [] };
  const normalised = normalise(schema, json, '$', ctx);
  const validate = validatorOf(kind);
  const problems = [...ctx.problems];
  if (!validate(normalised)) problems.push(...describe(validate.errors ?? []));
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };
  const crossField = crossFieldProblems(kind, normalised);
  if (crossField.length > 0) return { ok: false, problems: crossField };
  const value = project(schema, normalised, ctx) as BodyValues[K];
  return { ok: true, value, compat: [...ctx.compat] };
}

/** {@link readBody} of a body's text; text that is not JSON is a problem at `$`. */
export function readBodyText<K extends BodyKind>(kind: K, text: string): ReadResult<BodyValues[K]> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problems: [{ path: '$', message: 'is not JSON' }] };
  }
  return readBody(kind, json);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

function emit(schema: SchemaNode, value: unknown, path: string, problems: Problem[]): unknown {
  if (schema.s2Fingerprint === true) return value instanceof Uint8Array ? { SHA256: encodeBase64(value) } : value;
  if (schema.s2Base64 !== undefined) return value instanceof Uint8Array ? encodeBase64(value) : value;
  if (schema.title === 'NodeId' && typeof value === 'string') return value.toLowerCase();
  if (schema.type === 'array') {
    const items = schema.items;
    return Array.isArray(value) && items !== undefined ? value.map((item, i) => emit(items, item, joinPath(path, i), problems)) : value;
  }
  if (schema.type !== 'object' || schema.properties === undefined || !isObject(value)) return value;

  const out: JsonObject = {};
  for (const [key, sub] of Object.entries(schema.properties)) {
    const field = value[key];
    if (field !== undefined) out[key] = emit(sub, field, joinPath(path, key), problems);
  }
  switch (schema.title) {
    case 'ConnectionDetails':
      // RS (pre-rename) requires initiateConnectionUrl when it reads ConnectionDetails (digest §8 row 2).
      if (out.initiateSessionUrl !== undefined) out.initiateConnectionUrl = out.initiateSessionUrl;
      break;
    case 'WebSocketCommunicationDetails':
      // RS reads only the snake_case names (digest §8 row 3).
      if (out.websocketToken !== undefined) out.websocket_token = out.websocketToken;
      if (out.websocketUrl !== undefined) out.websocket_url = out.websocketUrl;
      break;
    case 'WaitForPairingRequestItem':
      // An RS server reads only the typo (digest §8 row 6).
      if (out.clientNodeDescription !== undefined) out.clienNodeDescription = out.clientNodeDescription;
      break;
    case 'EndpointDescription':
      // RS infers a missing deployment from the URL host, which is wrong for a WAN endpoint advertised on a LAN.
      if (out.deployment === undefined)
        problems.push({ path: joinPath(path, 'deployment'), message: 'is required when sending (always send deployment)' });
      break;
  }
  return out;
}

/**
 * The JSON-ready body of `kind`: OAS names, base64 for bytes, plus the compatibility fields RS reads
 * (ConnectionDetails also `initiateConnectionUrl`; CommunicationDetails also `websocket_token`/`websocket_url`;
 * waitForPairing items also `clienNodeDescription`). Absent optionals are omitted, never null (RS cannot read a
 * null fingerprint map). Every EndpointDescription must carry `deployment`. The result is read back with
 * {@link readBody}; a value that does not survive that throws S2ConnectError `InvalidOutgoingBody` (a bug here).
 */
export function writeBody<K extends BodyKind>(kind: K, value: BodyValues[K]): unknown {
  const problems: Problem[] = [];
  const json = emit(BODY_SCHEMAS[kind], value, '$', problems);
  if (problems.length === 0) {
    const check = readBody(kind, json);
    if (!check.ok) problems.push(...check.problems);
  }
  if (problems.length > 0) {
    const first = problems[0];
    throw new S2ConnectError('InvalidOutgoingBody', { additionalInfo: `${kind}: ${first?.path ?? '$'} ${first?.message ?? ''}`, problems });
  }
  return json;
}

/**
 * The error a client reports for a non-2xx answer: a 400 whose body reads as the API's error body (either
 * dialect) gives its OAS name; anything else is named by its status (Unauthorized, Forbidden, Busy, …).
 */
export function errorFromResponse(api: 'pairing' | 'session', httpStatus: number, json: unknown): S2ConnectError {
  if (httpStatus === 400 && json !== undefined) {
    const read = readBody(api === 'pairing' ? 'PairingErrorResponse' : 'SessionErrorResponse', json);
    if (read.ok) return new S2ConnectError(read.value.errorMessage, { httpStatus, additionalInfo: read.value.additionalInfo });
    const name = isObject(json) ? json.errorMessage : undefined;
    if (typeof name === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(name))
      return S2ConnectError.ofStatus(httpStatus, `unknown error name "${name}"`);
  }
  return S2ConnectError.ofStatus(httpStatus);
}
