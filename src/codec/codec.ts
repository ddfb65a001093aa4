import type { ReceptionStatus } from '../typebox/common/reception-status.js';
import { S2Error } from '../typebox/errors.js';
import type { MessageSpec } from '../typebox/message-spec.js';
import { clip, joinPath, showValue, type Problem } from '../typebox/problem.js';
import { messageSpecIn, type S2Message } from '../typebox/registry.js';
import { idPattern, SchemaValidators, type IdMode } from '../typebox/validators.js';
import { checkRules, type RuleTable } from '../rules/rule.js';
import { S2_VERSIONS, type S2Version } from '../typebox/versions.js';
import { sizeCeiling } from './ceilings.js';

/** The subject id used when a frame has no readable message_id (R20, Q7, s2-ws-json issue 21). */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const MAX_LABEL_CHARS = 240;

export interface CodecOptions {
  /**
   * How ID fields are checked (R3, Q15), see {@link IdMode}: `'schema'` the official unanchored
   * pattern as published (a message_id of any length that contains two ID characters is accepted
   * and echoed as the ReceptionStatus subject); `'strict'` that pattern anchored, 2–64 of
   * `[A-Za-z0-9-_:]` (recommended against untrusted peers); `'uuid'` canonical UUIDs. A message_id
   * that fails the mode's pattern is INVALID_DATA with the nil subject: it is never echoed.
   * Default `'schema'` (also when undefined).
   */
  readonly ids?: IdMode | undefined;
  /** Run the intra-message rules of the rule catalogue (docs/rules.md) after the schema. Default true (also when undefined). */
  readonly rules?: boolean | undefined;
  /**
   * Refuse a frame above the size ceiling of its message type (`sizeCeiling`, derived from the
   * schemas) as INVALID_MESSAGE, before parsing it when its type and id can be read off the text.
   * A policy beyond the schemas, against peers that send megabytes where a handful of fields fit:
   * sessions turn it on; off by default (also when undefined) so that `decode` and `s2 validate`
   * stay schema-exact.
   */
  readonly ceilings?: boolean | undefined;
  /**
   * The S2 JSON message set: `'0.0.2-beta'` (35 messages) or `'1.0.0-beta'` (36: it adds
   * `DDBC.PresentDemandStatus` and drops `present_demand_rate` from `DDBC.SystemDescription`). A
   * session decodes and encodes with the set of the version its handshake selected, so a message
   * of the other set is refused like any invalid one. `codecFor`, `decode` and `encode` pick the set
   * by it; `new Codec(messages, …)` is given its set and only records this. Default `'0.0.2-beta'`
   * (also when undefined).
   */
  readonly version?: S2Version | undefined;
}

/** Why a frame was not accepted, and what to answer. */
export interface DecodeFailure {
  readonly status: 'INVALID_DATA' | 'INVALID_MESSAGE';
  /** The message_id to answer, or the nil UUID when none could be read. */
  readonly subjectMessageId: string;
  /** The frame's message_type when it had a string one. */
  readonly messageType: string | undefined;
  readonly problems: readonly Problem[];
  /** A short sentence fit to send to the peer as ReceptionStatus.diagnostic_label. */
  readonly diagnosticLabel: string;
  /** The ReceptionStatus to send back; undefined when the frame was itself a ReceptionStatus (R11). */
  readonly reply: ReceptionStatus | undefined;
}

export type DecodeResult<M = S2Message> =
  { readonly ok: true; readonly message: M; readonly spec: MessageSpec } | { readonly ok: false; readonly error: DecodeFailure };

const MAX_NON_FINITE = 10;

/** JSON whitespace: space, tab, line feed, carriage return. */
function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Free of a backslash (an escape) and of control characters (invalid in a JSON string). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const PLAIN_STRING = /^[^\\\u0000-\u001f]*$/;

/**
 * The value of the string member `key` of a JSON object text, read without parsing it: for the size
 * ceiling, which must be decided before a large frame is parsed. Only a clear answer counts: the
 * member found once as a member name (after `{` or `,`: quotes inside a string are escaped, so
 * `"key"` followed by `:` cannot be text in a valid frame), its value a string without escapes.
 * Anything else (absent, repeated — JSON.parse keeps the last one —, an escaped or non-string
 * value) is undefined, and the frame goes to the parser as usual.
 */
export function peekMember(text: string, key: string): string | undefined {
  const needle = `"${key}"`;
  let found: string | undefined;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    let k = at - 1;
    while (k >= 0 && isJsonSpace(text.charCodeAt(k))) k--;
    const before = text.charCodeAt(k);
    if (before !== 0x7b /* { */ && before !== 0x2c /* , */) continue;
    let i = at + needle.length;
    while (isJsonSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3a /* : */) continue;
    if (found !== undefined) return undefined;
    i++;
    while (isJsonSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x22 /* " */) return undefined;
    const end = text.indexOf('"', i + 1);
    if (end < 0) return undefined;
    const value = text.slice(i + 1, end);
    if (!PLAIN_STRING.test(value)) return undefined;
    found = value;
  }
  return found;
}

/** Every NaN / ±Infinity in a value built in code, with its JSONPath (cycles and depth bounded). */
function nonFiniteNumbers(value: unknown): Problem[] {
  const out: Problem[] = [];
  const seen = new WeakSet<object>();
  const walk = (v: unknown, path: string, depth: number): void => {
    if (out.length >= MAX_NON_FINITE) return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push({ path, message: 'not a finite number (JSON has no NaN or Infinity)', value: String(v) });
      return;
    }
    if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, joinPath(path, i), depth + 1));
    else for (const [k, item] of Object.entries(v)) walk(item, joinPath(path, k), depth + 1);
  };
  walk(value, '$', 0);
  return out;
}

/** Short text for a peer: the status, the first problem, and how many more there were. */
export function diagnosticLabel(status: string, problems: readonly Problem[]): string {
  const first = problems[0];
  let label = first
    ? `${status}: ${first.path} ${first.message}${first.value !== undefined ? ` (got ${first.value})` : ''}${first.rule ? ` [${first.rule}]` : ''}`
    : status;
  if (problems.length > 1) label += `; and ${problems.length - 1} more`;
  return label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…` : label;
}

/**
 * Turns text frames into typed S2 messages and back. Decoding never throws: every failure comes
 * back as a value carrying the ReceptionStatus it maps to (docs/design.md decision table). Encoding
 * validates what we send and throws `S2Error('INVALID_OUTGOING_MESSAGE')` on a programming error.
 */
export class Codec {
  readonly ids: IdMode;
  readonly rules: boolean;
  readonly ceilings: boolean;
  /** The message set this codec checks against (see {@link CodecOptions.version}). */
  readonly version: S2Version;
  private readonly validators: SchemaValidators;
  private readonly idRegex: RegExp;
  private smallest: number | undefined;

  constructor(
    private readonly messages: Readonly<Record<string, MessageSpec>>,
    private readonly ruleTable: RuleTable,
    options: CodecOptions = {},
  ) {
    this.ids = options.ids ?? 'schema';
    this.rules = options.rules ?? true;
    this.ceilings = options.ceilings ?? false;
    this.version = options.version ?? '0.0.2-beta';
    // Shared per ID mode: the versions' sets share schema objects, compiled once for all codecs.
    this.validators = SchemaValidators.shared(this.ids);
    // The same regular expression Ajv applies (it compiles patterns with the u flag).
    this.idRegex = new RegExp(idPattern(this.ids), 'u');
  }

  /** The registry entry of a message type this codec knows. */
  spec(type: string): MessageSpec | undefined {
    return Object.prototype.hasOwnProperty.call(this.messages, type) ? this.messages[type] : undefined;
  }

  /**
   * Decodes one text frame. With `ceilings`, a frame above the size ceiling of its message type
   * (see `sizeCeiling`) is INVALID_MESSAGE: decided from the type and id read off the text when
   * they can be read plainly, so that it is never parsed; otherwise after parsing, before validation.
   */
  decode(text: string): DecodeResult {
    // Frames below every ceiling (nearly all of them) pay one comparison.
    if (this.ceilings && text.length > this.smallestCeiling) {
      const refused = this.refuseUnparsed(text);
      if (refused !== undefined) return refused;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return this.fail('INVALID_DATA', NIL_UUID, undefined, [
        { path: '$', message: `not JSON: ${(err as Error).message}`, value: showValue(text) },
      ]);
    }
    return this.decodeParsed(value, this.ceilings ? text.length : undefined);
  }

  /** Decodes an already parsed JSON value (e.g. one document read from a file). No size ceiling applies. */
  decodeValue(value: unknown): DecodeResult {
    return this.decodeParsed(value, undefined);
  }

  /** The smallest ceiling of any message type this codec knows (Infinity if none has one). */
  private get smallestCeiling(): number {
    if (this.smallest === undefined) {
      this.smallest = Infinity;
      for (const spec of Object.values(this.messages)) this.smallest = Math.min(this.smallest, sizeCeiling(spec) ?? Infinity);
    }
    return this.smallest;
  }

  /** An over-ceiling frame refused on what its text plainly says; undefined when that is not clear. */
  private refuseUnparsed(text: string): DecodeResult | undefined {
    let k = 0;
    while (isJsonSpace(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) !== 0x7b /* { */) return undefined;
    const type = peekMember(text, 'message_type');
    const spec = type === undefined ? undefined : this.spec(type);
    const ceiling = spec === undefined ? undefined : sizeCeiling(spec);
    if (type === undefined || ceiling === undefined || text.length <= ceiling) return undefined;
    // R11: a ReceptionStatus is never answered, so it needs no readable id.
    if (type === 'ReceptionStatus') return this.overCeiling(NIL_UUID, type, text.length, ceiling);
    const id = peekMember(text, 'message_id');
    if (id === undefined || !this.idRegex.test(id)) return undefined;
    return this.overCeiling(id, type, text.length, ceiling);
  }

  private overCeiling(subject: string, type: string, size: number, ceiling: number): DecodeResult {
    return this.fail('INVALID_MESSAGE', subject, type, [
      {
        path: '$',
        message: `${type} frame of ${size} characters is above the size ceiling of ${ceiling} that its schema allows`,
      },
    ]);
  }

  private decodeParsed(value: unknown, size: number | undefined): DecodeResult {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      // The official message schemas lack "type": "object" and would accept a bare string or
      // number; such a frame has no message_id to answer, so it is INVALID_DATA.
      return this.fail('INVALID_DATA', NIL_UUID, undefined, [
        {
          path: '$',
          message: `must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
          value: showValue(value),
        },
      ]);
    }
    const obj = value as Record<string, unknown>;
    const type = typeof obj.message_type === 'string' ? obj.message_type : undefined;
    const isReceptionStatus = type === 'ReceptionStatus';
    let subject = NIL_UUID;
    if (!isReceptionStatus) {
      const id = obj.message_id;
      if (typeof id !== 'string' || !this.idRegex.test(id)) {
        return this.fail('INVALID_DATA', NIL_UUID, type, [
          {
            path: '$.message_id',
            message:
              id === undefined
                ? 'missing: no message_id to answer'
                : this.ids === 'uuid'
                  ? 'not a readable message_id: must be a UUID'
                  : this.ids === 'strict'
                    ? 'not a readable message_id: must be 2–64 of [A-Za-z0-9-_:] and nothing else'
                    : 'not a readable message_id: must be an ID string',
            ...(id === undefined ? {} : { value: showValue(id) }),
          },
        ]);
      }
      subject = id;
    }
    const spec = type === undefined ? undefined : this.spec(type);
    if (!spec) {
      return this.fail('INVALID_MESSAGE', subject, type, [
        {
          path: '$.message_type',
          message: type === undefined ? 'missing or not a string' : this.unknownType(type),
          ...(obj.message_type === undefined ? {} : { value: showValue(obj.message_type) }),
        },
      ]);
    }
    const ceiling = size === undefined ? undefined : sizeCeiling(spec);
    if (ceiling !== undefined && size !== undefined && size > ceiling) return this.overCeiling(subject, type ?? '', size, ceiling);
    if (!this.validators.check(spec.schema, value)) {
      return this.fail('INVALID_MESSAGE', subject, type, this.validators.problems(spec.schema, value));
    }
    if (this.rules) {
      const problems = checkRules(this.ruleTable, value as S2Message);
      if (problems.length) return this.fail('INVALID_MESSAGE', subject, type, problems);
    }
    return { ok: true, message: value as S2Message, spec };
  }

  /** Why `type` is refused: a message of another S2 JSON version is named as such. */
  private unknownType(type: string): string {
    const versions = S2_VERSIONS.filter((v) => v !== this.version && messageSpecIn(v, type) !== undefined);
    if (versions.length === 0 || messageSpecIn(this.version, type) !== undefined) return 'unknown message_type';
    return `unknown message_type in S2 JSON ${this.version} (a message of ${versions.join(', ')})`;
  }

  /**
   * Problems that keep `message` from being valid S2 under this codec's settings (empty = valid).
   * For a value built in code rather than parsed: a NaN or an Infinity is named as such.
   */
  check(message: unknown): readonly Problem[] {
    const r = this.decodeValue(message);
    if (r.ok) return [];
    // JSON has no NaN or Infinity (JSON.stringify writes null), so the schema's complaint would
    // read "got null"; looked for only once validation failed, so valid messages pay nothing.
    const nonFinite = nonFiniteNumbers(message);
    if (nonFinite.length === 0) return r.error.problems;
    const at = new Set(nonFinite.map((p) => p.path));
    return [...nonFinite, ...r.error.problems.filter((p) => !at.has(p.path))];
  }

  /** Validates and serialises a message to send. Throws S2Error on invalid input (a caller bug). */
  encode(message: S2Message): string {
    const problems = this.check(message);
    if (problems.length) {
      throw new S2Error(
        'INVALID_OUTGOING_MESSAGE',
        `refusing to send an invalid ${typeof message === 'object' && message !== null && typeof message.message_type === 'string' ? message.message_type : 'message'}: ${diagnosticLabel('invalid', problems)}`,
        { problems },
      );
    }
    return JSON.stringify(message);
  }

  private fail(status: DecodeFailure['status'], subject: string, type: string | undefined, problems: Problem[]): DecodeResult {
    const label = diagnosticLabel(status, problems);
    const reply: ReceptionStatus | undefined =
      type === 'ReceptionStatus'
        ? undefined
        : { message_type: 'ReceptionStatus', subject_message_id: subject, status, diagnostic_label: label };
    const messageType = type === undefined ? undefined : clip(type, 80);
    return { ok: false, error: { status, subjectMessageId: subject, messageType, problems, diagnosticLabel: label, reply } };
  }
}
