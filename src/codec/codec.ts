import type { ReceptionStatus } from '../typebox/common/reception-status.js';
import { S2Error } from '../typebox/errors.js';
import type { MessageSpec } from '../typebox/message-spec.js';
import { clip, joinPath, showValue, type Problem } from '../typebox/problem.js';
import type { S2Message } from '../typebox/registry.js';
import { idPattern, SchemaValidators, type IdMode } from '../typebox/validators.js';
import { checkRules, type RuleTable } from '../rules/rule.js';

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
  private readonly validators: SchemaValidators;
  private readonly idRegex: RegExp;

  constructor(
    private readonly messages: Readonly<Record<string, MessageSpec>>,
    private readonly ruleTable: RuleTable,
    options: CodecOptions = {},
  ) {
    this.ids = options.ids ?? 'schema';
    this.rules = options.rules ?? true;
    this.validators = new SchemaValidators(this.ids);
    // The same regular expression Ajv applies (it compiles patterns with the u flag).
    this.idRegex = new RegExp(idPattern(this.ids), 'u');
  }

  /** The registry entry of a message type this codec knows. */
  spec(type: string): MessageSpec | undefined {
    return Object.prototype.hasOwnProperty.call(this.messages, type) ? this.messages[type] : undefined;
  }

  /** Decodes one text frame. */
  decode(text: string): DecodeResult {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return this.fail('INVALID_DATA', NIL_UUID, undefined, [
        { path: '$', message: `not JSON: ${(err as Error).message}`, value: showValue(text) },
      ]);
    }
    return this.decodeValue(value);
  }

  /** Decodes an already parsed JSON value (e.g. one document read from a file). */
  decodeValue(value: unknown): DecodeResult {
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
          message: type === undefined ? 'missing or not a string' : 'unknown message_type',
          ...(obj.message_type === undefined ? {} : { value: showValue(obj.message_type) }),
        },
      ]);
    }
    if (!this.validators.check(spec.schema, value)) {
      return this.fail('INVALID_MESSAGE', subject, type, this.validators.problems(spec.schema, value));
    }
    if (this.rules) {
      const problems = checkRules(this.ruleTable, value as S2Message);
      if (problems.length) return this.fail('INVALID_MESSAGE', subject, type, problems);
    }
    return { ok: true, message: value as S2Message, spec };
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
