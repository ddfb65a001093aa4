import type { MessageSpec } from '../typebox/message-spec.js';

/**
 * Size ceilings per message type, derived from the schemas: how large a frame of that type can
 * legitimately be. A frame above its type's ceiling is refused INVALID_MESSAGE before it is parsed
 * (docs/design.md decision table: a message its schema cannot describe), so a peer cannot make us
 * parse and validate megabytes that could only ever be a handful of fields.
 *
 * Only the structure counts: a type whose schema bounds every array (`maxItems`) and forbids
 * extra members (`additionalProperties: false`) has a largest number of values. Strings have no
 * `maxLength` in S2, so each kind gets an allowance, generous next to what real peers send:
 *
 * - every value: {@link VALUE_ALLOWANCE} characters — its key, punctuation, pretty-printing
 *   indentation, a 24-digit number, or an ID / date-time / enum string (IDs are meant to be at
 *   most 64 characters, R3);
 * - every free-text string (no enum, const, pattern, format): {@link TEXT_ALLOWANCE} more — names,
 *   `diagnostic_label`s, escaped non-ASCII text;
 * - every frame: {@link BASE_ALLOWANCE}.
 *
 * A type with an unbounded array (Handshake's `supported_protocol_versions`), or whose ceiling
 * comes out above {@link MAX_CEILING} (system descriptions, forecasts of many elements), has no
 * ceiling: the transport's frame limit (`maxFrameBytes`, 4 MiB) bounds it instead.
 *
 * Sizes are counted in characters of the frame text (UTF-16 code units): the same as bytes for ASCII
 * JSON, and never more than the UTF-8 byte count, so a ceiling never bites earlier than the same
 * number of bytes would.
 */

/** Characters allowed per value (scalar) of the schema. */
export const VALUE_ALLOWANCE = 256;
/** Extra characters allowed per free-text string of the schema. */
export const TEXT_ALLOWANCE = 16 * 1024;
/** Characters allowed per frame on top of its values. */
export const BASE_ALLOWANCE = 16 * 1024;
/** A ceiling at or above this is none: the transport's default frame limit (4 MiB) is lower. */
export const MAX_CEILING = 4 * 1024 * 1024;

type Schema = Readonly<Record<string, unknown>>;

/** Largest size of a value of `schema` in characters; Infinity when the schema does not bound it. */
function bound(schema: Schema, depth: number): number {
  if (depth > 32) return Infinity;
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives)) return Math.max(0, ...alternatives.map((s) => bound(s, depth + 1)));
  if (schema.allOf !== undefined || schema.$ref !== undefined) return Infinity; // not used by the S2 schemas; stay safe
  const type = schema.type;
  if (type === 'object' || schema.properties !== undefined) {
    if (schema.additionalProperties !== false || schema.patternProperties !== undefined) return Infinity;
    let sum = 0;
    for (const property of Object.values((schema.properties ?? {}) as Record<string, Schema>)) sum += bound(property, depth + 1);
    return sum;
  }
  if (type === 'array') {
    const maxItems = schema.maxItems;
    if (typeof maxItems !== 'number') return Infinity;
    return VALUE_ALLOWANCE + maxItems * bound((schema.items ?? {}) as Schema, depth + 1);
  }
  if (type === 'string') {
    const constrained =
      schema.enum !== undefined || schema.const !== undefined || schema.pattern !== undefined || schema.format !== undefined;
    if (typeof schema.maxLength === 'number') return VALUE_ALLOWANCE + 6 * schema.maxLength; // \uXXXX escapes
    return constrained ? VALUE_ALLOWANCE : VALUE_ALLOWANCE + TEXT_ALLOWANCE;
  }
  if (type === 'number' || type === 'integer' || type === 'boolean' || type === 'null') return VALUE_ALLOWANCE;
  if (schema.enum !== undefined || schema.const !== undefined) return VALUE_ALLOWANCE;
  return Infinity; // an untyped schema admits anything
}

const cache = new WeakMap<object, number | undefined>();

/**
 * The size ceiling of a message type in characters, or undefined when its schema does not bound it
 * (or bounds it above {@link MAX_CEILING}). Computed once per schema.
 */
export function sizeCeiling(spec: MessageSpec): number | undefined {
  if (cache.has(spec.schema)) return cache.get(spec.schema);
  const raw = BASE_ALLOWANCE + bound(spec.schema, 0);
  // Rounded up to whole KiB: the numbers appear in diagnostics and docs.
  const ceiling = raw >= MAX_CEILING ? undefined : Math.ceil(raw / 1024) * 1024;
  cache.set(spec.schema, ceiling);
  return ceiling;
}

/** The ceiling of every message type that has one, for documentation and tests. */
export function sizeCeilings(messages: Readonly<Record<string, MessageSpec>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, spec] of Object.entries(messages)) {
    const ceiling = sizeCeiling(spec);
    if (ceiling !== undefined) out[type] = ceiling;
  }
  return out;
}
