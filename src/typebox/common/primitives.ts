import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * The pattern the official `ID` schema carries. It is not anchored (`^…$`), so any string that
 * contains two allowed characters in a row passes (docs/rules.md#R3). s2-engine keeps that
 * acceptance by default; `ids: 'uuid'` in the codec swaps every use of it for {@link UUID_PATTERN}.
 */
export const ID_PATTERN = '[a-zA-Z0-9\\-_:]{2,64}';

/** Canonical 8-4-4-4-12 UUID text, any case (R4: compare canonically, emit lowercase). */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** ID: an identifier of a message or an object; the spec means a UUID, the schema checks a loose pattern. */
export const ID = Type.String({ pattern: ID_PATTERN, title: 'ID' });
export type ID = Static<typeof ID>;

/** Duration: a span of time in whole milliseconds, never negative (R8). */
export const Duration = Type.Integer({ minimum: 0, title: 'Duration' });
export type Duration = Static<typeof Duration>;

/** An RFC 3339 date-time with an explicit offset or `Z` (R7); checked by the codec, not only annotated. */
export const DateTime = Type.String({ format: 'date-time' });
export type DateTime = Static<typeof DateTime>;

/** NumberRange: a closed interval given by its two ends; the schema imposes no order between them. */
export const NumberRange = Type.Object(
  {
    start_of_range: Type.Number(),
    end_of_range: Type.Number(),
  },
  { additionalProperties: false, title: 'NumberRange' },
);
export type NumberRange = Static<typeof NumberRange>;

/**
 * A string enumeration as a plain JSON Schema `enum` (not TypeBox's `anyOf` of literals), so that
 * validation errors name the allowed set once and the emitted schema equals the official one.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { title?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export type { TSchema };
